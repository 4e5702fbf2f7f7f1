/**
 * Offline evaluation of a stack's Pulumi program: the real `index.ts` under `pulumi.runtime.setMocks`, with
 * the stack's config, recording every resource as CrossGuard would see it in a preview of a new stack:
 * inputs, parent, dependencies, and inputs computed from other resources' outputs marked unknown (with
 * CrossGuard's own sentinels, so policies that read them raise the same UnknownValueError).
 */
import * as pulumi from "@pulumi/pulumi";
import { fakeCall, fakeState, unwrapSecrets } from "./fakes";

export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export interface EvaluatedResource {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  /** Inputs with values computed from other resources' outputs replaced by the unknown sentinel. */
  props: Record<string, unknown>;
  readonly parent?: string;
  readonly dependencies: string[];
  readonly custom: boolean;
  /** Input paths whose values are unknown until deploy. */
  readonly unknownPaths: string[];
  readonly providerName?: string;
}

/** Paths of every Output inside `v` that depends on another resource: unknown in a preview of a new stack. */
function outputPaths(v: unknown, path: string, out: { path: string; output: pulumi.Output<unknown> }[], depth = 0): void {
  if (depth > 8 || v === null || v === undefined) return;
  if (pulumi.Output.isInstance(v)) {
    out.push({ path, output: v as pulumi.Output<unknown> });
    return;
  }
  if (Array.isArray(v)) v.forEach((x, i) => outputPaths(x, `${path}[${i}]`, out, depth + 1));
  else if (typeof v === "object" && !(v instanceof pulumi.Resource)) {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) outputPaths(x, path ? `${path}.${k}` : k, out, depth + 1);
  }
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(/\.|\[(\d+)\]/).filter((p) => p !== undefined && p !== "");
  let cur: Record<string, unknown> | unknown[] = obj;
  for (let i = 0; i < parts.length - 1; i++) {
    const next = (cur as Record<string, unknown>)[parts[i]!];
    if (next === null || typeof next !== "object") return;
    cur = next as Record<string, unknown>;
  }
  const last = parts[parts.length - 1]!;
  if (last in (cur as object)) (cur as Record<string, unknown>)[last] = value;
}

const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
const stackRuntime = require("@pulumi/pulumi/runtime/stack") as { runInPulumiStack(init: () => Promise<unknown>): Promise<unknown> };

/**
 * Run `program` (which registers resources) under mocks as stack `stack` with `config`, and return every
 * resource. The program is loaded once per process: Pulumi's runtime state is global.
 */
export async function evaluateOffline(stack: string, config: Record<string, string>, program: () => void): Promise<EvaluatedResource[]> {
  const records: EvaluatedResource[] = [];
  const byKey = new Map<string, EvaluatedResource>();
  const pending: Promise<unknown>[] = [];
  const urnOf = new Map<pulumi.Resource, string>();
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const plain = unwrapSecrets(args.inputs) as Record<string, unknown>;
        const rec = byKey.get(`${args.type}::${args.name}`);
        if (rec) rec.props = structuredClone(plain);
        return { id: args.custom ? `${args.name}-id` : undefined, state: fakeState(args.type, args.name, plain) };
      },
      call(args) {
        return fakeCall(args.token, args.inputs as Record<string, unknown>);
      },
    },
    "latticeform",
    stack,
    true,
  );
  pulumi.runtime.setAllConfig(config);
  const record: pulumi.ResourceTransformation = (a) => {
    const parent = a.opts.parent as (pulumi.Resource & { __name?: string; __pulumiType?: string }) | undefined;
    const provider = a.opts.provider as unknown as { __name?: string } | undefined;
    const parentUrn = parent ? urnOf.get(parent) : undefined;
    const typeChain = parentUrn ? `${parentUrn.split("::")[2]}$${a.type}` : a.type;
    const urn = `urn:pulumi:${stack}::latticeform::${typeChain}::${a.name}`;
    urnOf.set(a.resource, urn);
    const outs: { path: string; output: pulumi.Output<unknown> }[] = [];
    outputPaths(a.props, "", outs);
    const rec: EvaluatedResource = {
      type: a.type,
      name: a.name,
      urn,
      props: {},
      parent: parentUrn,
      dependencies: [],
      custom: a.resource instanceof pulumi.CustomResource,
      unknownPaths: [],
      providerName: provider?.__name,
    };
    for (const o of outs) {
      // An output that depends on another resource is unknown until that resource exists.
      pending.push(
        (async () => {
          const deps =
            (await (o.output as unknown as { allResources?: () => Promise<Set<pulumi.Resource>> }).allResources?.()) ??
            new Set<pulumi.Resource>();
          if (deps.size > 0) {
            rec.unknownPaths.push(o.path);
            for (const d of deps) {
              const u = urnOf.get(d);
              if (u && !rec.dependencies.includes(u)) rec.dependencies.push(u);
            }
          }
        })(),
      );
    }
    for (const d of ([] as unknown[]).concat(a.opts.dependsOn ?? [])) {
      const u = urnOf.get(d as pulumi.Resource);
      if (u) rec.dependencies.push(u);
    }
    records.push(rec);
    byKey.set(`${a.type}::${a.name}`, rec);
    return undefined;
  };
  // As `pulumi up` does: the program runs inside the root Stack resource, so stack transformations apply.
  await stackRuntime.runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation(record);
    program();
    return undefined;
  });
  await settings.waitForRPCs();
  // Registrations answered; resolve the unknown bookkeeping, then apply the sentinels.
  for (let i = 0; i < 5; i++) {
    await Promise.all(pending.splice(0));
    await settings.waitForRPCs();
  }
  for (const r of records) for (const p of r.unknownPaths) setPath(r.props, p, UNKNOWN);
  return records;
}
