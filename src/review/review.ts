/**
 * `latticeform review`: the CrossGuard pack run offline. The stack's program is evaluated under Pulumi's
 * mocks (no cloud, no CLI) and the very same policy objects run over the resources, with enforcement levels,
 * configuration (schema-checked, defaults applied) and CrossGuard's handling of unknown values: a policy
 * that reads a value known only at deploy is reported as not checkable, never passed silently.
 */
import * as path from "node:path";
import type { PolicyResource, ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy";
import Ajv from "ajv";
import { policies as allPolicies } from "../../policies/policies";
import type { LatticePolicy } from "../../policies/lib";
import { loadStack, readStackConfig, REPO_ROOT } from "../model/load";
import { SpecError } from "../model/validate";
import { evaluateOffline, type EvaluatedResource } from "./evaluate";

const proxy = require("@pulumi/policy/proxy") as { unknownCheckingProxy<T>(o: T): T; UnknownValueError: new (...a: unknown[]) => Error };

export type Enforcement = "advisory" | "mandatory" | "remediate" | "disabled";

export interface ReviewFinding {
  readonly policy: string;
  readonly severity: string;
  readonly enforcement: Enforcement;
  readonly status: "violation" | "not-checkable";
  readonly urn: string;
  readonly message: string;
}

export interface ReviewResult {
  readonly stack: string;
  readonly file: string;
  readonly resources: number;
  readonly policies: readonly { name: string; severity: string; enforcement: Enforcement; description: string; remediationSteps: string }[];
  readonly findings: readonly ReviewFinding[];
  readonly mandatoryViolations: number;
}

export type PolicyConfig = Record<string, { enforcementLevel?: Enforcement; [setting: string]: unknown }> & {
  all?: Enforcement | { enforcementLevel?: Enforcement };
};

class NotApplicable extends Error {}

/** Enforcement and settings per policy, from the pack defaults and a config file; every problem at once. */
export function resolvePolicyConfig(
  policies: readonly LatticePolicy[],
  config: unknown,
): Map<string, { enforcement: Enforcement; settings: Record<string, unknown> }> {
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
  const out = new Map<string, { enforcement: Enforcement; settings: Record<string, unknown> }>();
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
  for (const p of policies) {
    const c = { ...((cfg[p.name] as Record<string, unknown> | undefined) ?? {}) };
    const level = (c.enforcementLevel as string | undefined) ?? all ?? p.enforcementLevel ?? "advisory";
    if (!levels.includes(level))
      problems.push({ path: `${p.name}.enforcementLevel`, message: "invalid enforcement level", got: level, allowed: levels.join(", ") });
    delete c.enforcementLevel;
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
    out.set(p.name, { enforcement: level as Enforcement, settings: c });
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
  config: Map<string, { enforcement: Enforcement; settings: Record<string, unknown> }>,
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
    const { enforcement, settings } = config.get(p.name)!;
    if (enforcement === "disabled") continue;
    const record = (status: ReviewFinding["status"], urn: string, message: string) =>
      findings.push({ policy: p.name, severity: p.severity, enforcement, status, urn, message });
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

/** Review one stack (one per process: the program and Pulumi's runtime are loaded once). */
export async function reviewStack(stack: string, policyConfig: unknown = {}): Promise<ReviewResult> {
  const { ref } = loadStack(stack);
  const cfg = resolvePolicyConfig(allPolicies, policyConfig);
  const raw = readStackConfig(ref.file);
  const config: Record<string, string> = { "latticeform:lattice": JSON.stringify(raw), "gcp:project": "offline-review" };
  const resources = await evaluateOffline(ref.name, config, () => require(path.join(REPO_ROOT, "index.ts")));
  const findings = await runPolicies(resources, allPolicies, cfg);
  return {
    stack: ref.name,
    file: path.relative(REPO_ROOT, ref.file),
    resources: resources.length,
    policies: allPolicies.map((p) => ({
      name: p.name,
      severity: p.severity,
      enforcement: cfg.get(p.name)!.enforcement,
      description: p.description ?? "",
      remediationSteps: p.remediationSteps,
    })),
    findings,
    mandatoryViolations: findings.filter(
      (f) => f.status === "violation" && (f.enforcement === "mandatory" || f.enforcement === "remediate"),
    ).length,
  };
}
