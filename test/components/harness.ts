/**
 * Evaluates the components under `pulumi.runtime.setMocks`: every resource the program registers is recorded
 * with its type, name, parent, provider and resolved inputs (what the engine would receive). Cloud outputs the
 * components read (endpoints, addresses, random bytes, PEMs) get deterministic fake values. Shared by the mock
 * tests and bench/components.bench.ts.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { Lattice, type LatticeArgs } from "../../components/lattice";
import type { LatticeSpec } from "../../src/spec/schema";

export interface Recorded {
  readonly type: string;
  readonly name: string;
  /** Name of the parent resource (undefined for the top). */
  parent?: string;
  parentType?: string;
  /** Name of the explicit provider resource, if any. */
  provider?: string;
  /** Inputs as the engine receives them (secrets unwrapped), filled in when registered. */
  inputs?: Record<string, unknown>;
  /** State the mock returned (inputs plus fake cloud outputs). */
  state?: Record<string, unknown>;
  /** Top-level input keys that were secret outputs when the resource was constructed. */
  secretInputs: string[];
  readonly custom: boolean;
}

const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** Inputs as plain values: the mock monitor hands secrets over wrapped in a signature object. */
function unwrapSecrets(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(unwrapSecrets);
  if (typeof v !== "object" || v === null) return v;
  const o = v as Record<string, unknown>;
  if (o[SECRET_SIG] !== undefined && "value" in o) return unwrapSecrets(o.value);
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, unwrapSecrets(x)]));
}

function h(name: string, n = 4): Buffer {
  return createHash("sha256").update(name).digest().subarray(0, n);
}

function ip(prefix: string, name: string): string {
  const b = h(name, 2);
  return `${prefix}.${b[0]! % 250}.${(b[1]! % 250) + 1}`;
}

/** Fake outputs per provider type, merged over the inputs. */
export function fakeState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  const pem = (kind: string) => `-----BEGIN ${kind}-----\nmock-${name}\n-----END ${kind}-----\n`;
  const out: Record<string, unknown> = {
    arn: `arn:mock:${type}:${name}`,
    selfLink: `https://mock/${name}`,
    selfLinkUnique: `https://mock/${name}?u`,
  };
  switch (type) {
    case "random:index/randomBytes:RandomBytes": {
      const bytes = createHash("sha256").update(`master:${name}`).digest();
      out.base64 = bytes.toString("base64");
      out.hex = bytes.toString("hex");
      break;
    }
    case "random:index/randomString:RandomString":
    case "random:index/randomPassword:RandomPassword":
      out.result = h(name, 16)
        .toString("hex")
        .slice(0, Number(inputs.length ?? 16));
      break;
    case "tls:index/privateKey:PrivateKey":
      out.privateKeyPem = pem("PRIVATE KEY");
      out.publicKeyPem = pem("PUBLIC KEY");
      break;
    case "tls:index/selfSignedCert:SelfSignedCert":
    case "tls:index/locallySignedCert:LocallySignedCert":
      out.certPem = pem("CERTIFICATE");
      break;
    case "tls:index/certRequest:CertRequest":
      out.certRequestPem = pem("CERTIFICATE REQUEST");
      break;
    case "aws:eks/cluster:Cluster":
      out.endpoint = `https://${name}.eks.mock`;
      out.certificateAuthority = { data: Buffer.from(`ca-${name}`).toString("base64") };
      out.vpcConfig = { ...(inputs.vpcConfig as object), clusterSecurityGroupId: `sg-${name}` };
      break;
    case "aws:ec2/eip:Eip":
      out.publicIp = ip("52.1", name);
      break;
    case "aws:ec2/launchTemplate:LaunchTemplate":
      out.latestVersion = 1;
      break;
    case "gcp:compute/address:Address":
      out.address = ip("34.1", name);
      break;
    case "gcp:container/cluster:Cluster":
      out.endpoint = ip("10.9", name);
      out.masterAuth = { clusterCaCertificate: Buffer.from(`ca-${name}`).toString("base64") };
      break;
    case "gcp:serviceaccount/account:Account":
      out.email = `${String(inputs.accountId)}@mock.iam.gserviceaccount.com`;
      break;
    case "kubernetes:core/v1:Service": {
      const spec = inputs.spec as { type?: string } | undefined;
      if (spec?.type === "LoadBalancer") {
        const annotations = (inputs.metadata as { annotations?: Record<string, string> }).annotations ?? {};
        const aws = Object.keys(annotations).some((k) => k.startsWith("service.beta.kubernetes.io/aws"));
        out.status = { loadBalancer: { ingress: [aws ? { hostname: `${name}.elb.mock` } : { ip: ip("35.2", name) }] } };
      }
      break;
    }
  }
  return { ...inputs, ...out };
}

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
        }
        return { id: args.custom ? `${args.name}-id` : undefined, state };
      },
      call(args) {
        return args.inputs;
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
    const rec: Recorded = {
      type: a.type,
      name: a.name,
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
  const ev = await evaluateProgram(
    name,
    (opts) => new Lattice(name, { gcpProject: "mock-project", operatorCidrs: ["198.51.100.0/24"], ...extra, spec }, opts),
  );
  return { ...ev, lattice: ev.root };
}
