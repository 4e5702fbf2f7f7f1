/**
 * The Kubernetes compile environment: servers run as pods of the official NATS Helm chart (one release per
 * cluster per cloud, namespace `nats`), files mounted from Secrets. Inside a cloud every connection stays in the
 * cluster (the chart's headless Service for server-to-server links, which lists pods whether Ready or not; its
 * ClusterIP Service for clients); between sites it goes to the exposed addresses (load balancers, VM addresses
 * from Pulumi outputs; `<listener>.<cluster>.<lattice>.<dnsZone>` placeholders when rendered without them), and
 * servers advertise those. Pure.
 */
import type { LatticeSpec, Ports } from "../model/schema";
import { topologyOf, type ClusterNode, type ServerNode, type Topology } from "../model/topology";
import type { CompileEnv, Endpoint } from "./nats";

export const NATS_NAMESPACE = "nats";

/** The in-cluster client URL of a cloud's hub release (what the keeper, and any pod of the cloud, dials). */
export function hubClientUrl(spec: LatticeSpec, cloud: string, release: string): string {
  const port = spec.clouds.find((c) => c.name === cloud)!.hub.ports.client;
  return `tls://${release}.${NATS_NAMESPACE}.svc.cluster.local:${port}`;
}
export const TLS_MOUNT = "/etc/nats-certs";
export const CREDS_MOUNT = "/etc/nats-creds";
export const JS_STORE = "/data/jetstream";
const SVC_DOMAIN = `${NATS_NAMESPACE}.svc.cluster.local`;

export function releaseName(cluster: string): string {
  return `nats-${cluster}`;
}

/** The chart's ClusterIP Service (Ready pods only: clients). */
export function serviceHost(cluster: string): string {
  return `${releaseName(cluster)}.${SVC_DOMAIN}`;
}

/** The chart's headless Service (`publishNotReadyAddresses: true`: server-to-server links work before readiness). */
export function headlessHost(cluster: string): string {
  return `${releaseName(cluster)}-headless.${SVC_DOMAIN}`;
}

/** One pod of a release through the headless Service. */
export function podHost(cluster: string, ordinal: number): string {
  return `${releaseName(cluster)}-${ordinal}.${headlessHost(cluster)}`;
}

export type Listener = "gateway" | "leafnode" | "client" | "cluster";

export interface K8sEnvOptions {
  /** Exposed addresses per cluster and listener (hub load balancers, from Pulumi outputs); defaults to DNS names under dnsZone. */
  readonly endpoints?: Readonly<Record<string, Partial<Record<Listener, string | readonly string[]>>>>;
  readonly dnsZone?: string;
  /** Exposed address of each server reached one by one across sites (stretched-cluster members, tie-breaker servers); defaults to DNS names under dnsZone. */
  readonly serverHosts?: Readonly<Record<string, string>>;
}

/** Pod ordinal of a server inside its release (the servers of its cluster in its site, in topology order). */
export function ordinalOf(topo: Pick<Topology, "servers">, s: ServerNode): number {
  return topo.servers.filter((o) => o.cluster === s.cluster && o.site === s.site).findIndex((o) => o.name === s.name);
}

export function kubernetesEnv(spec: LatticeSpec, opts: K8sEnvOptions = {}): CompileEnv {
  const zone = opts.dnsZone ?? "nats.internal";
  const clouds = new Set(spec.clouds.map((c) => c.name));
  const portsOf = (s: ServerNode): Ports => {
    const cloud = spec.clouds.find((c) => c.name === s.site);
    return cloud ? cloud.hub.ports : spec.tieBreaker!.ports;
  };
  const external = (cluster: string, listener: Listener): string[] => {
    const v = opts.endpoints?.[cluster]?.[listener];
    if (v === undefined || v.length === 0) return [`${listener}.${cluster}.${spec.name}.${zone}`];
    return typeof v === "string" ? [v] : [...v];
  };
  const serverHost = (s: ServerNode): string => opts.serverHosts?.[s.name] ?? `${s.name}.${external(s.cluster, "cluster")[0]}`;
  const topo = topologyOf(spec);
  return {
    bindHost: "0.0.0.0",
    ports: portsOf,
    routeAddress: (s, from) => {
      // Same cloud: the pod through the headless Service. Across sites (stretched cluster): the server's exposed address.
      if (s.site === from.site && clouds.has(s.site)) return { host: podHost(s.cluster, ordinalOf(topo, s)), port: portsOf(s).cluster };
      return { host: serverHost(s), port: portsOf(s).cluster };
    },
    clusterEndpoints: (c: ClusterNode, listener, from): Endpoint[] => {
      const local = c.servers.filter((s) => s.site === from);
      if (local.length > 0 && clouds.has(from)) {
        const port = portsOf(local[0]!)[listener];
        return [{ host: listener === "client" ? serviceHost(c.name) : headlessHost(c.name), port }];
      }
      const port = portsOf(c.servers[0]!)[listener];
      // A cluster without a load balancer of its own (the stretched cluster, a tie-breaker cluster) is reached at
      // its servers' addresses: those outside `from` first-hand, gateways gossip the rest.
      if (!clouds.has(c.name) && !opts.endpoints?.[c.name]?.[listener])
        return c.servers.filter((s) => s.site !== from).map((s) => ({ host: serverHost(s), port: portsOf(s)[listener] }));
      return external(c.name, listener).map((host) => ({ host, port }));
    },
    advertise: (s, listener) => {
      if (s.role === "hub")
        return listener === "cluster" ? undefined : { host: external(s.cluster, listener)[0]!, port: portsOf(s)[listener] };
      return { host: serverHost(s), port: portsOf(s)[listener] };
    },
    leafPorts: () => ({ client: 4222, monitor: 8222 }),
    storeDir: () => JS_STORE,
    tlsFiles: () => ({ cert_file: `${TLS_MOUNT}/tls.crt`, key_file: `${TLS_MOUNT}/tls.key`, ca_file: `${TLS_MOUNT}/ca.crt` }),
    credsFile: (id) => `${CREDS_MOUNT}/${id.replace(/[^A-Za-z0-9_.-]/g, "_")}.creds`,
  };
}

/**
 * Every name a peer may use to reach the servers of one release (cluster `cluster` in cloud `cloud`): the chart's
 * Services, each pod through the headless Service, and the exposed addresses. Their certificate must cover all of
 * them (nats-server checks the name in the URL it dialled).
 */
export function releaseTlsNames(cluster: string, exposed: readonly string[]): string[] {
  const r = releaseName(cluster);
  return [r, `${r}.${SVC_DOMAIN}`, `${r}-headless`, headlessHost(cluster), `*.${r}-headless`, `*.${headlessHost(cluster)}`, ...exposed];
}
