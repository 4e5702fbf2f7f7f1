/**
 * `latticeform review`: the CrossGuard pack run offline. The stack's program is evaluated under Pulumi's
 * mocks (no cloud, no CLI) and the very same policy objects run over the resources, with enforcement levels,
 * configuration (schema-checked, defaults applied) and CrossGuard's handling of unknown values: a policy
 * that reads a value known only at deploy is reported as not checkable, never passed silently.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { PolicyResource, ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy";
import Ajv from "ajv";
import { parse as parseYaml } from "yaml";
import { policies as allPolicies } from "../../policies/policies";
import type { LatticePolicy } from "../../policies/lib";
import { loadStack, readStackConfig, REPO_ROOT } from "../model/load";
import { SpecError } from "../model/validate";
import { evaluateOffline, type EvaluatedResource } from "./evaluate";

const proxy = require("@pulumi/policy/proxy") as { unknownCheckingProxy<T>(o: T): T; UnknownValueError: new (...a: unknown[]) => Error };

export type Enforcement = "advisory" | "mandatory" | "remediate" | "disabled";

/** What a "not checkable" finding does to the verdict: reported only, or a failure on a mandatory policy. */
export type NotCheckable = "report" | "fail";

export interface ReviewFinding {
  readonly policy: string;
  readonly severity: string;
  readonly enforcement: Enforcement;
  readonly status: "violation" | "not-checkable";
  readonly urn: string;
  readonly message: string;
  /** For a not-checkable finding: what would make it checkable (the resources the value waits for). */
  readonly checkableWhen?: string;
  /** True when the finding fails the review (a mandatory violation, or not checkable under `notCheckable: fail`). */
  readonly blocking: boolean;
}

export interface ReviewResult {
  readonly stack: string;
  readonly file: string;
  readonly resources: number;
  readonly policies: readonly { name: string; severity: string; enforcement: Enforcement; description: string; remediationSteps: string }[];
  readonly findings: readonly ReviewFinding[];
  readonly mandatoryViolations: number;
  /** Not-checkable findings of mandatory policies set to `notCheckable: fail`. */
  readonly blockingNotCheckable: number;
  /** The verdict: exit 1 when true. */
  readonly failed: boolean;
}

export type PolicyConfig = Record<string, { enforcementLevel?: Enforcement; notCheckable?: NotCheckable; [setting: string]: unknown }> & {
  all?: Enforcement | { enforcementLevel?: Enforcement; notCheckable?: NotCheckable };
};

/** Enforcement and settings of one policy after the pack defaults and the config are applied. */
export interface ResolvedPolicy {
  readonly enforcement: Enforcement;
  readonly notCheckable: NotCheckable;
  readonly settings: Record<string, unknown>;
}

class NotApplicable extends Error {}

/** Enforcement and settings per policy, from the pack defaults and a config file; every problem at once. */
export function resolvePolicyConfig(
  policies: readonly LatticePolicy[],
  config: unknown,
  defaults: { notCheckable?: NotCheckable } = {},
): Map<string, ResolvedPolicy> {
  const problems: { path: string; message: string; got: unknown; allowed: string }[] = [];
  const levels = ["advisory", "mandatory", "remediate", "disabled"];
  const cfg = (config ?? {}) as Record<string, unknown>;
  if (typeof cfg !== "object" || Array.isArray(cfg))
    throw new SpecError([
      { path: "(policy config)", message: "not an object", got: config, allowed: "{ <policy name>: { enforcementLevel?, ...settings } }" },
    ]);
  const names = new Set(policies.map((p) => p.name));
  for (const k of Object.keys(cfg))
    if (k !== "all" && !names.has(k)) problems.push({ path: k, message: "no such policy", got: k, allowed: [...names].join(", ") });
  const allRaw = cfg.all;
  const all = typeof allRaw === "string" ? allRaw : (allRaw as { enforcementLevel?: string } | undefined)?.enforcementLevel;
  if (all !== undefined && !levels.includes(all))
    problems.push({ path: "all", message: "invalid enforcement level", got: all, allowed: levels.join(", ") });
  const modes = ["report", "fail"];
  const allMode = typeof allRaw === "object" && allRaw ? (allRaw as { notCheckable?: string }).notCheckable : undefined;
  if (allMode !== undefined && !modes.includes(allMode))
    problems.push({ path: "all.notCheckable", message: "invalid value", got: allMode, allowed: modes.join(", ") });
  const out = new Map<string, ResolvedPolicy>();
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
  for (const p of policies) {
    const c = { ...((cfg[p.name] as Record<string, unknown> | undefined) ?? {}) };
    const level = (c.enforcementLevel as string | undefined) ?? all ?? p.enforcementLevel ?? "advisory";
    if (!levels.includes(level))
      problems.push({ path: `${p.name}.enforcementLevel`, message: "invalid enforcement level", got: level, allowed: levels.join(", ") });
    delete c.enforcementLevel;
    const mode = (c.notCheckable as string | undefined) ?? allMode ?? defaults.notCheckable ?? "report";
    if (!modes.includes(mode))
      problems.push({ path: `${p.name}.notCheckable`, message: "invalid value", got: mode, allowed: modes.join(", ") });
    delete c.notCheckable;
    const schema = { type: "object", additionalProperties: false, properties: {}, ...(p.configSchema ?? {}) };
    const validate = ajv.compile(schema);
    if (!validate(c)) {
      for (const e of validate.errors ?? []) {
        const where = e.instancePath
          ? e.instancePath.slice(1).replace(/\//g, ".")
          : ((e.params as { additionalProperty?: string }).additionalProperty ?? "");
        problems.push({
          path: `${p.name}${where ? "." + where : ""}`,
          message: e.message ?? "invalid",
          got: where ? c[where.split(".")[0]!] : c,
          allowed: Object.keys((schema.properties ?? {}) as object).join(", ") || "no settings",
        });
      }
    }
    out.set(p.name, { enforcement: level as Enforcement, notCheckable: mode as NotCheckable, settings: c });
  }
  if (problems.length) throw new SpecError(problems);
  return out;
}

function isType(type: string) {
  return (cls: { __pulumiType?: string }) => cls.__pulumiType === type;
}

/** Run the policies over evaluated resources, the way CrossGuard would during a preview. */
export async function runPolicies(
  resources: readonly EvaluatedResource[],
  policies: readonly LatticePolicy[],
  config: Map<string, ResolvedPolicy>,
): Promise<ReviewFinding[]> {
  const findings: ReviewFinding[] = [];
  const byUrn = new Map<string, PolicyResource>();
  const policyResources: PolicyResource[] = resources.map((r) => {
    const pr = {
      type: r.type,
      name: r.name,
      urn: r.urn,
      props: proxy.unknownCheckingProxy(r.props),
      opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: {}, additionalSecretOutputs: [] },
      dependencies: [] as PolicyResource[],
      propertyDependencies: {},
      isType: isType(r.type),
      asType: (cls: { __pulumiType?: string }) => (cls.__pulumiType === r.type ? r.props : undefined),
    } as unknown as PolicyResource;
    byUrn.set(r.urn, pr);
    return pr;
  });
  resources.forEach((r, i) => {
    const pr = policyResources[i] as { parent?: PolicyResource; dependencies: PolicyResource[] };
    pr.parent = r.parent ? byUrn.get(r.parent) : undefined;
    pr.dependencies = r.dependencies.map((u) => byUrn.get(u)).filter((x): x is PolicyResource => !!x);
  });
  for (const p of policies) {
    const { enforcement, notCheckable, settings } = config.get(p.name)!;
    if (enforcement === "disabled") continue;
    const enforced = enforcement === "mandatory" || enforcement === "remediate";
    const record = (status: ReviewFinding["status"], urn: string, message: string) =>
      findings.push({
        policy: p.name,
        severity: p.severity,
        enforcement,
        status,
        urn,
        message,
        ...(status === "not-checkable" ? { checkableWhen: checkableWhen(p, urn, resources) } : {}),
        blocking: enforced && (status === "violation" || notCheckable === "fail"),
      });
    const getConfig = <T>() => settings as T;
    const notApplicable = (reason?: string): never => {
      throw new NotApplicable(reason);
    };
    if ("validateResource" in p && p.validateResource) {
      const validations = Array.isArray(p.validateResource) ? p.validateResource : [p.validateResource];
      for (const r of resources) {
        const args = {
          ...(policyResources[resources.indexOf(r)] as object),
          stackTags: new Map(),
          getConfig,
          notApplicable,
        } as unknown as ResourceValidationArgs;
        for (const v of validations) {
          try {
            await v(args, (message: string) => record("violation", r.urn, message));
          } catch (e) {
            if (e instanceof proxy.UnknownValueError) record("not-checkable", r.urn, `not checkable before deploy: ${e.message}`);
            else if (!(e instanceof NotApplicable)) throw e;
          }
        }
      }
    }
    if ("validateStack" in p && p.validateStack) {
      const args = { resources: policyResources, getConfig, notApplicable } as unknown as StackValidationArgs;
      try {
        await p.validateStack(args, (message: string, urn?: string) => record("violation", urn ?? "(stack)", message));
      } catch (e) {
        if (e instanceof proxy.UnknownValueError) record("not-checkable", "(stack)", `not checkable before deploy: ${e.message}`);
        else if (!(e instanceof NotApplicable)) throw e;
      }
    }
  }
  return findings;
}

/** What would make a value computed by the clouds checkable: the resources it waits for, and the policy's own note. */
function checkableWhen(p: LatticePolicy, urn: string, resources: readonly EvaluatedResource[]): string {
  const r = resources.find((x) => x.urn === urn);
  const waits = [...new Set((r?.dependencies ?? []).map((u) => resources.find((x) => x.urn === u)?.type ?? u))];
  const after = waits.length
    ? `known once ${waits.join(", ")} exist${waits.length === 1 ? "s" : ""}: a preview of the deployed stack (pulumi preview --policy-pack policies) checks it`
    : "known after deploy: a preview of the deployed stack (pulumi preview --policy-pack policies) checks it";
  return p.checkableWhen ? `${after}; ${p.checkableWhen}` : after;
}

/**
 * Every `config:` value of a stack file as the Pulumi engine hands it to the program (objects as JSON).
 * Encrypted (`secure:`) values cannot be read offline and are left out.
 */
export function stackConfigValues(file: string): Record<string, string> {
  const doc = parseYaml(readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(doc?.config ?? {})) {
    if (v && typeof v === "object" && "secure" in (v as object)) continue;
    out[k] = typeof v === "string" ? v : JSON.stringify(v);
  }
  return out;
}

export interface ReviewOptions {
  /** Not-checkable findings of mandatory policies fail the review (a policy's own `notCheckable` wins). */
  readonly failOnNotCheckable?: boolean;
}

/** A stack's program evaluated offline: every resource as CrossGuard would see it in a preview of a new stack. */
export interface EvaluatedStack {
  readonly stack: string;
  readonly file: string;
  /** The `config:` values handed to the program (encrypted ones left out). */
  readonly config: Readonly<Record<string, string>>;
  readonly resources: readonly EvaluatedResource[];
}

/**
 * Evaluate one stack's program under mocks (one per process: the program and Pulumi's runtime are loaded once).
 * `beforeRun` runs once the stack is validated, before the program: more input checks, all before any resource.
 */
export async function evaluateStack(stack: string, beforeRun?: () => void): Promise<EvaluatedStack> {
  const { ref } = loadStack(stack);
  beforeRun?.();
  const raw = readStackConfig(ref.file);
  // The stack's other settings (operatorCidrs, existingEgressCidrs, ...) decide what is exposed: pass them too.
  const config: Record<string, string> = {
    "gcp:project": "offline-review",
    ...stackConfigValues(ref.file),
    "latticeform:lattice": JSON.stringify(raw),
  };
  const resources = await evaluateOffline(ref.name, config, () => require(path.join(REPO_ROOT, "index.ts")));
  return { stack: ref.name, file: path.relative(REPO_ROOT, ref.file), config, resources };
}

/** Review resources already evaluated (the analyzer-protocol test drives the pack with the same ones). */
export async function reviewEvaluated(ev: EvaluatedStack, policyConfig: unknown = {}, opts: ReviewOptions = {}): Promise<ReviewResult> {
  const cfg = resolvePolicyConfig(allPolicies, policyConfig, { notCheckable: opts.failOnNotCheckable ? "fail" : "report" });
  const findings = await runPolicies(ev.resources, allPolicies, cfg);
  return {
    stack: ev.stack,
    file: ev.file,
    resources: ev.resources.length,
    policies: allPolicies.map((p) => ({
      name: p.name,
      severity: p.severity,
      enforcement: cfg.get(p.name)!.enforcement,
      description: p.description ?? "",
      remediationSteps: p.remediationSteps,
    })),
    findings,
    mandatoryViolations: findings.filter((f) => f.blocking && f.status === "violation").length,
    blockingNotCheckable: findings.filter((f) => f.blocking && f.status === "not-checkable").length,
    failed: findings.some((f) => f.blocking),
  };
}

/** Review one stack (one per process: the program and Pulumi's runtime are loaded once). */
export async function reviewStack(stack: string, policyConfig: unknown = {}, opts: ReviewOptions = {}): Promise<ReviewResult> {
  // Policy config problems are reported after the stack's, before the program runs.
  const checkConfig = () =>
    void resolvePolicyConfig(allPolicies, policyConfig, { notCheckable: opts.failOnNotCheckable ? "fail" : "report" });
  return reviewEvaluated(await evaluateStack(stack, checkConfig), policyConfig, opts);
}
