/**
 * Evaluates the components under `pulumi.runtime.setMocks`: every resource the program registers is recorded
 * with its type, name, parent, provider and resolved inputs (what the engine would receive). Cloud outputs the
 * components read (endpoints, addresses, random bytes, PEMs) get deterministic fake values. Shared by the mock
 * tests and bench/components.bench.ts.
 */
import * as pulumi from "@pulumi/pulumi";
import { Lattice, type LatticeArgs } from "../../components/lattice";
import { fakeCall, fakeState, unwrapSecrets } from "../../src/review/fakes";
import type { LatticeSpec } from "../../src/model/schema";

export interface Recorded {
  readonly type: string;
  readonly name: string;
  /** Name of the parent resource (undefined for the top). */
  parent?: string;
  parentType?: string;
  /** Name of the explicit provider resource, if any. */
  provider?: string;
  /** The provider reference the engine receives (`<urn>::<id>`), explicit or inherited from a parent. */
  providerRef?: string;
  /** Inputs as the engine receives them (secrets unwrapped), filled in when registered. */
  inputs?: Record<string, unknown>;
  /** State the mock returned (inputs plus fake cloud outputs). */
  state?: Record<string, unknown>;
  /** Top-level input keys that were secret outputs when the resource was constructed. */
  secretInputs: string[];
  /** Names of the resources given in `dependsOn` (a plain list; promises and outputs are not resolved). */
  readonly dependsOn: string[];
  readonly custom: boolean;
}

export { fakeState };

export interface Evaluation {
  readonly lattice: Lattice;
  /** Every registered resource (components included), in registration order. */
  readonly resources: Recorded[];
  readonly byName: Map<string, Recorded>;
  /** Resources of a type. */
  ofType(type: string): Recorded[];
  /** Resolve an output. */
  value<T>(o: pulumi.Output<T>): Promise<T>;
}

const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };

export function valueOf<T>(o: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => o.apply((v) => resolve(v)));
}

export interface ProgramEvaluation<T extends pulumi.Resource> extends Omit<Evaluation, "lattice"> {
  readonly root: T;
}

/**
 * Run `build` under mocks (stack `name`) and wait until every registration has been answered. `build` gets the
 * resource options (a recording transformation) to give its top-level resource.
 */
export async function evaluateProgram<T extends pulumi.Resource>(
  name: string,
  build: (opts: pulumi.ComponentResourceOptions) => T,
): Promise<ProgramEvaluation<T>> {
  const resources: Recorded[] = [];
  const byKey = new Map<string, Recorded>();
  const pending: Promise<void>[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const plain = unwrapSecrets(args.inputs) as Record<string, unknown>;
        const state = fakeState(args.type, args.name, plain);
        const rec = byKey.get(`${args.type}::${args.name}`);
        if (rec) {
          rec.inputs = plain;
          rec.state = state;
          rec.providerRef = args.provider;
        }
        return { id: args.custom ? `${args.name}-id` : undefined, state };
      },
      call(args) {
        return fakeCall(args.token, args.inputs as Record<string, unknown>);
      },
    },
    "latticeform",
    name,
    false,
  );
  const record: pulumi.ResourceTransformation = (a) => {
    const parent = a.opts.parent as unknown as { __name?: string; __pulumiType?: string } | undefined;
    const provider = a.opts.provider as unknown as { __name?: string } | undefined;
    const secretInputs: string[] = [];
    for (const [k, v] of Object.entries((a.props ?? {}) as Record<string, unknown>)) {
      if (pulumi.Output.isInstance(v))
        pending.push(pulumi.isSecret(v as pulumi.Output<unknown>).then((s) => void (s && secretInputs.push(k))));
    }
    const deps = Array.isArray(a.opts.dependsOn) ? (a.opts.dependsOn as unknown as { __name?: string }[]) : [];
    const rec: Recorded = {
      type: a.type,
      name: a.name,
      dependsOn: deps.map((d) => d.__name ?? "?"),
      parent: parent?.__name,
      parentType: parent?.__pulumiType,
      provider: provider?.__name,
      secretInputs,
      custom: a.resource instanceof pulumi.CustomResource,
    };
    resources.push(rec);
    byKey.set(`${a.type}::${a.name}`, rec);
    return undefined;
  };
  let root: T;
  try {
    // `transformations` apply to the top resource itself too, so it is recorded first.
    root = build({ transformations: [record] });
  } catch (e) {
    // Let the registrations already sent finish, so they do not reach the next test's mock monitor.
    await settings.waitForRPCs();
    throw e;
  }
  await valueOf(root.urn);
  await settings.waitForRPCs();
  await Promise.all(pending);
  const byName = new Map<string, Recorded>();
  for (const r of resources) if (!byName.has(r.name)) byName.set(r.name, r);
  return { root, resources, byName, ofType: (type) => resources.filter((r) => r.type === type), value: valueOf };
}

/** Build one `Lattice` under mocks and wait until every registration has been answered. */
export async function evaluateLattice(
  spec: LatticeSpec,
  extra: Partial<Omit<LatticeArgs, "spec">> = {},
  name = "test",
): Promise<Evaluation> {
  const ev = await evaluateProgram(name, (opts) => new Lattice(name, { gcpProject: "mock-project", ...extra, spec }, opts));
  return { ...ev, lattice: ev.root };
}
