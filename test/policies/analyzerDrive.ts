/**
 * Drives the pack through the analyzer protocol the way the engine does in a preview (pulumi/pulumi v3.248.0):
 * ConfigureStack (forwarded by the language host's proxy, `sdk/policy_proxy.go`), GetAnalyzerInfo, Configure with
 * the schema defaults (`pkg/resource/analyzer/config.go` ReconcilePolicyPackConfig), Analyze with every resource's
 * inputs (`pkg/resource/deploy/step_generator.go` analyzeAll), then AnalyzeStack with all of them
 * (`AnalyzeResources`). The resources are the ones the offline review records.
 */
import type { JavaScriptValue } from "google-protobuf/google/protobuf/struct_pb";
import * as pb from "@pulumi/pulumi/proto/analyzer_pb";
import type { EvaluatedResource } from "../../src/review/evaluate";
import type { EvaluatedStack, ReviewFinding, ReviewResult } from "../../src/review/review";
import { AnalyzerRpc, startPack, Struct, type StackInfo } from "./analyzerPack";

/** What recordStack.ts writes: the resources the review evaluated and the review's own verdict on them. */
export interface Recorded {
  readonly evaluated: EvaluatedStack;
  readonly review: ReviewResult;
  /** The review under the policy config given to recordStack.ts, if any. */
  readonly configured?: ReviewResult;
}

/** A policy pack config file: `{ <policy> | all: <level> | { enforcementLevel?, ...properties } }`. */
export type PackConfigFile = Record<string, string | Record<string, JavaScriptValue>>;

/** One finding in a form both sides can produce. */
export interface Finding {
  readonly status: "violation" | "not-checkable";
  readonly policy: string;
  readonly enforcement: string;
  readonly urn: string;
  readonly message: string;
}

export const LEVEL_NAMES: Record<number, string> = {
  [pb.EnforcementLevel.ADVISORY]: "advisory",
  [pb.EnforcementLevel.MANDATORY]: "mandatory",
  [pb.EnforcementLevel.DISABLED]: "disabled",
  [pb.EnforcementLevel.REMEDIATE]: "remediate",
};

/** Where the review names the stack itself (a stack policy's violation without a URN; the engine uses the root stack's). */
const STACK_URN = "(stack)";

function options(r: EvaluatedResource): pb.AnalyzerResourceOptions {
  const o = new pb.AnalyzerResourceOptions().setProtect(false);
  if (r.parent) o.setParent(r.parent);
  return o;
}

/**
 * Inputs as the engine marshals them (MarshalProperties with KeepUnknowns): a value unknown before deploy is
 * the unknown sentinel string, which is what the review's evaluation already put there. The review unwraps
 * secrets; the engine would send them wrapped, and the pack unwraps them (deserializeProperties with
 * proxySecrets=false), so the policies see the same plain values either way.
 */
function props(r: EvaluatedResource) {
  return Struct.fromJavaScript(r.props as Record<string, JavaScriptValue>);
}

export function analyzeRequest(r: EvaluatedResource): pb.AnalyzeRequest {
  return new pb.AnalyzeRequest().setUrn(r.urn).setType(r.type).setName(r.name).setProperties(props(r)).setOptions(options(r));
}

/**
 * A resource of AnalyzeStack. The engine sends the resources' outputs; in a preview of a new stack those are
 * the inputs with every computed output unknown, and the stack policies read only inputs, so the recorded
 * inputs stand for them, as they do in the review.
 */
export function stackResource(r: EvaluatedResource): pb.AnalyzerResource {
  return new pb.AnalyzerResource()
    .setUrn(r.urn)
    .setType(r.type)
    .setName(r.name)
    .setProperties(props(r))
    .setOptions(options(r))
    .setParent(r.parent ?? "")
    .setDependenciesList([...r.dependencies]);
}

interface PolicyConfig {
  level?: pb.EnforcementLevel;
  properties?: Record<string, JavaScriptValue>;
}

const LEVEL_OF = new Map(Object.entries(LEVEL_NAMES).map(([n, name]) => [name, Number(n) as pb.EnforcementLevel]));

/**
 * The Configure request the engine sends (`pkg/resource/analyzer/config.go`): each policy's level and its schema's
 * top-level defaults (createConfigWithDefaults), then the config file applied over them (parsePolicyPackConfig,
 * applyConfig: `all` sets every level first, then each entry its level and properties).
 */
export function configureRequest(info: pb.AnalyzerInfo, file: PackConfigFile = {}): pb.ConfigureAnalyzerRequest {
  const result = new Map<string, PolicyConfig>();
  for (const p of info.getPoliciesList()) {
    const schema = (p.getConfigschema()?.getProperties()?.toJavaScript() ?? {}) as Record<string, { default?: JavaScriptValue }>;
    const defaults = Object.entries(schema).filter(([, v]) => v && typeof v === "object" && "default" in v);
    result.set(p.getName(), {
      level: p.getEnforcementlevel(),
      properties: defaults.length ? Object.fromEntries(defaults.map(([k, v]) => [k, v.default!])) : undefined,
    });
  }
  const parsed = new Map<string, PolicyConfig>();
  for (const [k, v] of Object.entries(file)) {
    const { enforcementLevel, ...props } = typeof v === "string" ? { enforcementLevel: v } : v;
    const level = enforcementLevel === undefined ? undefined : LEVEL_OF.get(String(enforcementLevel));
    if (enforcementLevel !== undefined && level === undefined)
      throw new Error(`${k}: ${String(enforcementLevel)} is not a valid enforcement level`);
    parsed.set(k, { level, properties: Object.keys(props).length ? props : undefined });
  }
  const all = parsed.get("all")?.level;
  if (all !== undefined) for (const c of result.values()) c.level = all;
  for (const [k, given] of parsed) {
    const c = result.get(k) ?? {};
    result.set(k, {
      level: given.level ?? c.level,
      properties: given.properties ? { ...c.properties, ...given.properties } : c.properties,
    });
  }
  const req = new pb.ConfigureAnalyzerRequest();
  for (const [k, c] of result) {
    const pc = new pb.PolicyConfig().setEnforcementlevel(c.level ?? pb.EnforcementLevel.ADVISORY);
    req.getPolicyconfigMap().set(k, pc.setProperties(Struct.fromJavaScript(c.properties ?? {})));
  }
  return req;
}

const CANT_RUN = /^can't run policy '([^']+)' from policy pack '[^']+' during preview: ([\s\S]*)$/;

/**
 * A diagnostic as the engine reports it: Analyze's always against the analyzed resource (`events.OnPolicyViolation(
 * r.URN, d)`), AnalyzeStack's against its own URN or else the stack. The pack prefixes the policy's description
 * to a violation's message and reports a value unknown before deploy as an advisory "can't run ... during preview".
 */
export function fromDiagnostic(d: pb.AnalyzeDiagnostic, urn: string): Finding {
  const level = LEVEL_NAMES[d.getEnforcementlevel()] ?? String(d.getEnforcementlevel());
  const msg = d.getMessage();
  const cant = CANT_RUN.exec(msg);
  if (cant) return { status: "not-checkable", policy: d.getPolicyname(), enforcement: level, urn, message: cant[2]! };
  const desc = d.getDescription();
  const message = msg === desc ? "" : msg.startsWith(`${desc}\n`) ? msg.slice(desc.length + 1) : `(no description prefix) ${msg}`;
  return { status: "violation", policy: d.getPolicyname(), enforcement: level, urn, message };
}

export function fromReview(f: ReviewFinding): Finding {
  const message = f.status === "not-checkable" ? f.message.replace(/^not checkable before deploy: /, "") : f.message;
  return { status: f.status, policy: f.policy, enforcement: f.enforcement, urn: f.urn, message };
}

export interface Driven {
  readonly pid: number;
  readonly port: number;
  readonly pluginVersion: string;
  readonly info: pb.AnalyzerInfo;
  readonly findings: Finding[];
  /** Analyze calls answered (one per recorded resource). */
  readonly analyzed: number;
}

/** Start the pack for one stack as a preview would, run the whole protocol over the recorded resources, stop it. */
export async function driveStack(rec: Recorded, config: PackConfigFile = {}): Promise<Driven> {
  const stack: StackInfo = {
    organization: "organization",
    project: "latticeform",
    stack: rec.evaluated.stack,
    dryRun: true,
    config: rec.evaluated.config,
  };
  // The engine's address: run-policy-pack drops it and @pulumi/policy never dials the engine, so nothing listens.
  const pack = await startPack(stack, "127.0.0.1:1");
  const client = new AnalyzerRpc(pack.port);
  try {
    await client.configureStack(stack);
    const pluginVersion = (await client.getPluginInfo()).getVersion();
    const info = await client.getAnalyzerInfo();
    await client.configure(configureRequest(info, config));
    const findings: Finding[] = [];
    let analyzed = 0;
    for (const r of rec.evaluated.resources) {
      const res = await client.analyze(analyzeRequest(r));
      for (const d of res.getDiagnosticsList()) findings.push(fromDiagnostic(d, r.urn));
      analyzed++;
    }
    const res = await client.analyzeStack(new pb.AnalyzeStackRequest().setResourcesList(rec.evaluated.resources.map(stackResource)));
    for (const d of res.getDiagnosticsList()) findings.push(fromDiagnostic(d, d.getUrn() || STACK_URN));
    return { pid: pack.pid, port: pack.port, pluginVersion, info, findings, analyzed };
  } catch (e) {
    throw new Error(`${(e as Error).message}\npack stderr:\n${pack.stderr().slice(-4000)}`, { cause: e });
  } finally {
    client.close();
    await pack.stop();
  }
}

/** A finding as one comparable line. */
export const key = (f: Finding): string => [f.status, f.policy, f.enforcement, f.urn, f.message].join(" | ");
