/**
 * The Kubernetes compile environment: servers run as pods of the official NATS Helm chart (one release
 * per cluster, namespace `nats`), files mounted from Secrets, and other clusters reached through the
 * per-cloud endpoints (load balancers; `<listener>.<cluster>.<lattice>.<dnsZone>` until Pulumi knows them). Pure.
 */
import type { LatticeSpec, Ports } from "../model/schema";
import type { ServerNode } from "../model/topology";
import type { CompileEnv, Endpoint } from "./nats";

export const NATS_NAMESPACE = "nats";
export const TLS_MOUNT = "/etc/nats-certs";
export const CREDS_MOUNT = "/etc/nats-creds";
export const JS_STORE = "/data/jetstream";

export function releaseName(cluster: string): string {
  return `nats-${cluster}`;
}

export interface K8sEnvOptions {
  /** Known external endpoints per cluster and listener (from Pulumi outputs); defaults to DNS names under dnsZone. */
  readonly endpoints?: Readonly<Record<string, Partial<Record<"gateway" | "leafnode" | "client" | "cluster", string>>>>;
  readonly dnsZone?: string;
  /** Addresses of servers reached across clouds (stretched-cluster members, tie-breaker servers): load balancer or VM addresses from Pulumi outputs; defaults to DNS names under dnsZone. */
  readonly serverHosts?: Readonly<Record<string, string>>;
}

export function kubernetesEnv(spec: LatticeSpec, opts: K8sEnvOptions = {}): CompileEnv {
  const zone = opts.dnsZone ?? "nats.internal";
  const portsOf = (s: ServerNode): Ports => {
    const cloud = spec.clouds.find((c) => c.name === s.site);
    return cloud ? cloud.hub.ports : spec.tieBreaker!.ports;
  };
  const external = (cluster: string, listener: "gateway" | "leafnode" | "client" | "cluster"): string =>
    opts.endpoints?.[cluster]?.[listener] ?? `${listener}.${cluster}.${spec.name}.${zone}`;
  return {
    bindHost: "0.0.0.0",
    ports: portsOf,
    routeAddress: (s) => {
      // Members of a stretched cluster live in different clouds: each is reached by its own external name.
      if (s.role !== "hub")
        return { host: opts.serverHosts?.[s.name] ?? `${s.name}.${external(s.cluster, "cluster")}`, port: portsOf(s).cluster };
      return {
        host: `${releaseName(s.cluster)}-${s.index}.${releaseName(s.cluster)}-headless.${NATS_NAMESPACE}.svc.cluster.local`,
        port: portsOf(s).cluster,
      };
    },
    clusterEndpoints: (c, listener): Endpoint[] => [{ host: external(c.name, listener), port: portsOf(c.servers[0]!)[listener] }],
    leafPorts: () => ({ client: 4222, monitor: 8222 }),
    storeDir: () => JS_STORE,
    tlsFiles: () => ({ cert_file: `${TLS_MOUNT}/tls.crt`, key_file: `${TLS_MOUNT}/tls.key`, ca_file: `${TLS_MOUNT}/ca.crt` }),
    credsFile: (id) => `${CREDS_MOUNT}/${id.replace(/[^A-Za-z0-9_.-]/g, "_")}.creds`,
  };
}
