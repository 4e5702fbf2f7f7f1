/** Helpers shared by the policies: reading the lattice spec from the `Lattice` component's inputs. */
import type { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { decode } from "@nats-io/jwt";
import { buildCredentials, type Credentials, type UserCreds } from "../src/compile/credentials";
import { kubernetesEnv } from "../src/compile/k8senv";
import { compileNats, type CompiledNats } from "../src/compile/nats";
import type { LatticeSpec } from "../src/model/schema";
import { topologyOf, type ServerNode, type Topology } from "../src/model/topology";

export const LATTICE_TYPE = "latticeform:index:Lattice";

/** Policy metadata beyond CrossGuard's fields that the review and tests read. */
export type LatticePolicy = (ResourceValidationPolicy | StackValidationPolicy) & {
  readonly severity: "low" | "medium" | "high" | "critical";
  readonly remediationSteps: string;
  /** For rules that read values computed by the clouds: what checks them once they exist (a drill's pre-check, a preview). */
  readonly checkableWhen?: string;
};

/** Run `check` on the validated spec held by the top-level Lattice component. */
export function onSpec(check: (spec: LatticeSpec, report: ReportViolation, args: ResourceValidationArgs) => void) {
  return (args: ResourceValidationArgs, report: ReportViolation): void => {
    if (args.type !== LATTICE_TYPE) return;
    check(args.props.spec as LatticeSpec, report, args);
  };
}

/** Resource inputs as CrossGuard hands them over: untyped provider properties. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Props = Record<string, any>;

/** Run `check` on resources of the given types. */
export function onTypes(types: readonly string[], check: (props: Props, report: ReportViolation, args: ResourceValidationArgs) => void) {
  return (args: ResourceValidationArgs, report: ReportViolation): void => {
    if (!types.includes(args.type)) return;
    check(args.props, report, args);
  };
}

/** Every site of the spec: clouds and the tie-breaker. */
export function sites(spec: LatticeSpec): { name: string; provider: string; region: string; zones: string[]; path: string }[] {
  return [
    ...spec.clouds.map((c, i) => ({ name: c.name, provider: c.provider, region: c.region, zones: c.zones, path: `clouds[${i}]` })),
    ...(spec.tieBreaker
      ? [
          {
            name: spec.tieBreaker.name,
            provider: spec.tieBreaker.provider,
            region: spec.tieBreaker.region,
            zones: spec.tieBreaker.zones,
            path: "tieBreaker",
          },
        ]
      : []),
  ];
}

/** Walk every value of a JSON-like tree with its path. */
export function walk(v: unknown, visit: (path: string, value: unknown) => void, path = ""): void {
  visit(path, v);
  if (Array.isArray(v)) v.forEach((x, i) => walk(x, visit, `${path}[${i}]`));
  else if (v && typeof v === "object")
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(x, visit, path ? `${path}.${k}` : k);
}

/** Ranges that admit the whole internet, and ranges broader than `minPrefix` bits. */
export function isOpenRange(cidr: string, minPrefix = 0): boolean {
  if (cidr === "0.0.0.0/0" || cidr === "::/0") return true;
  const m = /\/(\d+)$/.exec(cidr);
  return !!m && cidr.includes(".") && Number(m[1]) < minPrefix;
}

/**
 * Port ranges of a GCP firewall `allows[].ports` list ("7222", "7222-7422"); none listed means every port,
 * as GCP reads it. Unparsable entries are returned as NaN bounds for the caller to report.
 */
export function portRanges(ports: readonly (string | number)[] | undefined): [number, number][] {
  if (!ports || ports.length === 0) return [[0, 65535]];
  return ports.map((p) => {
    const [a, b] = String(p).split("-");
    const lo = Number(a);
    return [lo, b === undefined ? lo : Number(b)];
  });
}

export function formatRanges(r: readonly [number, number][]): string {
  return r.map(([a, b]) => (a === 0 && b === 65535 ? "all ports" : a === b ? String(a) : `${a}-${b}`)).join(", ");
}

/** The ports the lattice exposes outside its clusters, per site, as the compilers and components open them. */
export function exposedPorts(spec: LatticeSpec): { site: string; what: string; ports: number[] }[] {
  const out = spec.clouds.map((c) => ({
    site: c.name,
    what: "hub load balancer",
    ports: [c.hub.ports.gateway, c.hub.ports.leafnode, c.hub.ports.client],
  }));
  if (spec.stretched)
    for (const c of spec.clouds)
      out.push({ site: c.name, what: `${spec.stretched.name} member load balancers`, ports: [c.hub.ports.cluster, c.hub.ports.gateway] });
  if (spec.tieBreaker) {
    const p = spec.tieBreaker.ports;
    out.push({ site: spec.tieBreaker.name, what: "tie-breaker firewall", ports: [p.cluster, p.gateway, p.client] });
  }
  return out;
}

/** Spec-level stream or bucket as the replication rules judge it. */
export interface StoredData {
  readonly kind: "stream" | "bucket";
  readonly name: string;
  readonly replicas: number;
  readonly storage: "file" | "memory";
  readonly placement: { cluster: string; tags: string[] };
  readonly mirrors: readonly string[];
}

export function storedData(spec: LatticeSpec): StoredData[] {
  return [
    ...spec.streams.map((s) => ({
      kind: "stream" as const,
      name: s.name,
      replicas: s.replicas,
      storage: s.storage,
      placement: s.placement,
      mirrors: s.mirrors,
    })),
    ...spec.kv.map((k) => ({
      kind: "bucket" as const,
      name: k.bucket,
      replicas: k.replicas,
      storage: "file" as const,
      placement: k.placement,
      mirrors: k.mirrors,
    })),
  ];
}

/**
 * How many of a placement's replicas one site can hold: JetStream places replicas on servers of the
 * placement cluster carrying the placement tags, on distinct zones (`unique_tag: az`), so a site can hold as
 * many replicas as it has distinct zones among those servers.
 */
export function replicasPerSite(spec: LatticeSpec, d: StoredData): Record<string, number> {
  const cluster = topologyOf(spec).clusters.find((c) => c.name === d.placement.cluster);
  if (!cluster) return {};
  const tagsOf = (s: ServerNode) => [
    `cloud:${s.site}`,
    `provider:${s.provider}`,
    `region:${s.region}`,
    `az:${s.zone}`,
    `cluster:${s.cluster}`,
  ];
  const eligible = cluster.servers.filter((s) => d.placement.tags.every((t) => tagsOf(s).includes(t)));
  const zones: Record<string, Set<string>> = {};
  for (const s of eligible) (zones[s.site] ??= new Set()).add(s.zone);
  return Object.fromEntries(Object.entries(zones).map(([site, z]) => [site, Math.min(d.replicas, z.size)]));
}

/**
 * Why `d` may lose acknowledged writes (or its quorum) when one site is lost, or undefined when every quorum
 * spans sites. Asynchronous mirrors do not count: what they miss is lost.
 */
export function syncReplicationGap(spec: LatticeSpec, d: StoredData): string | undefined {
  const per = replicasPerSite(spec, d);
  const sites = Object.keys(per);
  const mirrorNote = d.mirrors.length ? `; its mirrors in ${d.mirrors.join(", ")} are asynchronous (loss up to their lag)` : "";
  if (sites.length === 0) return `placement cluster ${d.placement.cluster} has no server carrying tags ${d.placement.tags.join(", ")}`;
  if (sites.length === 1) return `all its replicas are in ${sites[0]}${mirrorNote}`;
  const quorum = Math.floor(d.replicas / 2) + 1;
  const worst = Object.entries(per).find(([, n]) => n > d.replicas - quorum);
  if (worst)
    return `${worst[1]} of its ${d.replicas} replicas may be placed in ${worst[0]} (quorum ${quorum}): losing ${worst[0]} can lose acknowledged writes${mirrorNote}`;
  return undefined;
}

/** Sites holding a copy of `d`: the sites its replicas may occupy, and its mirrors' clouds. */
export function sitesWithCopy(spec: LatticeSpec, d: StoredData): string[] {
  return [...new Set([...Object.keys(replicasPerSite(spec, d)), ...d.mirrors])];
}

/** Every credential and compiled NATS config of a spec, as the compilers produce them (placeholder addresses). */
export interface CompiledPreview {
  readonly topo: Topology;
  readonly creds: Credentials;
  readonly compiled: CompiledNats;
}

const previews = new Map<string, Promise<CompiledPreview>>();

/**
 * Compile the spec's credentials and nats-server configs with the Kubernetes environment and placeholder
 * endpoints: what the program deploys, minus the addresses the clouds assign. A fixed master secret: the
 * keys are thrown away, only the permissions and settings are judged. Cached per spec.
 */
export function compiledPreview(spec: LatticeSpec): Promise<CompiledPreview> {
  const key = JSON.stringify(spec);
  let p = previews.get(key);
  if (!p) {
    const plain = JSON.parse(key) as LatticeSpec;
    const topo = topologyOf(plain);
    p = buildCredentials(plain, topo, new Uint8Array(32), 0).then((creds) => ({
      topo,
      creds,
      compiled: compileNats(plain, topo, kubernetesEnv(plain), creds),
    }));
    if (previews.size > 16) previews.clear();
    previews.set(key, p);
  }
  return p;
}

/** A user's publish/subscribe allow lists from its JWT; undefined lists mean the whole account. */
export function userPermissions(u: UserCreds): { pub?: string[]; sub?: string[] } {
  const claims = decode<{ pub?: { allow?: string[] }; sub?: { allow?: string[] } }>(u.jwt).nats;
  const pub = claims.pub?.allow?.length ? claims.pub.allow : undefined;
  const sub = claims.sub?.allow?.length ? claims.sub.allow : undefined;
  return { pub, sub };
}
