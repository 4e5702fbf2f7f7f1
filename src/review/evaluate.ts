/**
 * Offline evaluation of a stack's Pulumi program: the real `index.ts` under `pulumi.runtime.setMocks`, with
 * the stack's config, recording every resource as CrossGuard would see it in a preview of a new stack:
 * inputs, parent, dependencies, and inputs computed from other resources' outputs marked unknown (with
 * CrossGuard's own sentinels, so policies that read them raise the same UnknownValueError).
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";

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

const SECRET_SIG = "4dabf18193072939515e22adb298388d";

function unwrapSecrets(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(unwrapSecrets);
  if (typeof v !== "object" || v === null) return v;
  const o = v as Record<string, unknown>;
  if (o[SECRET_SIG] !== undefined && "value" in o) return unwrapSecrets(o.value);
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, unwrapSecrets(x)]));
}

/** Deterministic, well-formed outputs for what a cloud would compute (ids, endpoints, keys), so the program runs. */
function fakeOutputs(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  const hash = createHash("sha256").update(`${type}:${name}`).digest();
  const out: Record<string, unknown> = { arn: `arn:offline:${type}:${name}`, selfLink: `https://offline/${name}` };
  const pem = (kind: string) => `-----BEGIN ${kind}-----\noffline-${name}\n-----END ${kind}-----\n`;
  switch (type) {
    case "random:index/randomBytes:RandomBytes":
      out.base64 = hash.toString("base64");
      out.hex = hash.toString("hex");
      break;
    case "random:index/randomString:RandomString":
    case "random:index/randomPassword:RandomPassword":
      out.result = hash.toString("hex").slice(0, Number(inputs.length ?? 16));
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
      out.endpoint = `https://${name}.eks.offline`;
      out.certificateAuthority = { data: Buffer.from(`ca-${name}`).toString("base64") };
      out.vpcConfig = { ...(inputs.vpcConfig as object), clusterSecurityGroupId: `sg-${name}` };
      break;
    case "aws:ec2/eip:Eip":
      out.publicIp = `52.1.${hash[0]! % 250}.${(hash[1]! % 250) + 1}`;
      break;
    case "aws:ec2/launchTemplate:LaunchTemplate":
      out.latestVersion = 1;
      break;
    case "gcp:compute/address:Address":
      out.address = `34.1.${hash[0]! % 250}.${(hash[1]! % 250) + 1}`;
      break;
    case "gcp:container/cluster:Cluster":
      out.endpoint = `10.9.${hash[0]! % 250}.${(hash[1]! % 250) + 1}`;
      out.masterAuth = { clusterCaCertificate: Buffer.from(`ca-${name}`).toString("base64") };
      break;
    case "gcp:serviceaccount/account:Account":
      out.email = `${String(inputs.accountId)}@offline.iam.gserviceaccount.com`;
      break;
    case "kubernetes:core/v1:Service": {
      const spec = inputs.spec as { type?: string } | undefined;
      if (spec?.type === "LoadBalancer") out.status = { loadBalancer: { ingress: [{ hostname: `${name}.lb.offline` }] } };
      break;
    }
  }
  return { ...inputs, ...out };
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
        return { id: args.custom ? `${args.name}-id` : undefined, state: fakeOutputs(args.type, args.name, plain) };
      },
      call(args) {
        return args.inputs;
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
