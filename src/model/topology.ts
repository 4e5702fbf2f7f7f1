/**
 * The derived topology of a validated spec: every NATS server, cluster, site and Wasm host,
 * with stable names. Pure; every compiler reads the lattice through this.
 */
import type { Cloud, HostPool, LatticeSpec, Ports } from "./schema";

export type ServerRole = "hub" | "stretch" | "tiebreaker";

export interface ServerNode {
  /** server_name: unique across the supercluster. */
  readonly name: string;
  /** NATS cluster (gateway name) the server belongs to. */
  readonly cluster: string;
  /** Failure domain: a cloud or the tie-breaker site. */
  readonly site: string;
  readonly provider: "aws" | "gcp";
  readonly region: string;
  readonly zone: string;
  readonly role: ServerRole;
  /** Index within its cluster, from 0. */
  readonly index: number;
  readonly ports: Ports;
}

export interface ClusterNode {
  readonly name: string;
  readonly servers: readonly ServerNode[];
  /** Sites the cluster's servers live in (more than one for the stretched cluster). */
  readonly sites: readonly string[];
}

export interface HostNode {
  /** Host id, also the leaf server's name prefix. */
  readonly name: string;
  readonly cloud: string;
  readonly pool: string;
  readonly index: number;
  readonly zone: string;
  readonly connection: HostPool["connection"];
  readonly remoteOrder: HostPool["remoteOrder"];
  readonly labels: Readonly<Record<string, string>>;
}

export interface Topology {
  readonly clusters: readonly ClusterNode[];
  readonly servers: readonly ServerNode[];
  readonly hosts: readonly HostNode[];
  /** Sites in declaration order: clouds, then the tie-breaker site. */
  readonly sites: readonly string[];
}

function hubServers(cloud: Cloud): ServerNode[] {
  return Array.from({ length: cloud.hub.servers }, (_, i) => ({
    name: `${cloud.name}-${i + 1}`,
    cluster: cloud.name,
    site: cloud.name,
    provider: cloud.provider,
    region: cloud.region,
    zone: cloud.zones[i % cloud.zones.length]!,
    role: "hub" as const,
    index: i,
    ports: cloud.hub.ports,
  }));
}

export function topologyOf(spec: LatticeSpec): Topology {
  const clusters: ClusterNode[] = [];
  for (const cloud of spec.clouds) {
    clusters.push({ name: cloud.name, servers: hubServers(cloud), sites: [cloud.name] });
  }
  const tb = spec.tieBreaker;
  const tbServers = (cluster: string): ServerNode[] =>
    tb
      ? Array.from({ length: tb.servers }, (_, i) => ({
          name: `${tb.name}-${i + 1}`,
          cluster,
          site: tb.name,
          provider: tb.provider,
          region: tb.region,
          zone: tb.zones[i % tb.zones.length]!,
          role: "tiebreaker" as const,
          index: i,
          ports: tb.ports,
        }))
      : [];
  if (spec.stretched) {
    const st = spec.stretched;
    const members: ServerNode[] = [];
    for (const cloud of spec.clouds) {
      for (let i = 0; i < st.serversPerCloud; i++) {
        members.push({
          name: `${st.name}-${cloud.name}-${i + 1}`,
          cluster: st.name,
          site: cloud.name,
          provider: cloud.provider,
          region: cloud.region,
          // Offset from hub servers so the stretched member lands on another zone where possible.
          zone: cloud.zones[(cloud.hub.servers + i) % cloud.zones.length]!,
          role: "stretch",
          index: 0,
          ports: cloud.hub.ports,
        });
      }
    }
    const all = [...members, ...tbServers(st.name)].map((s, index) => ({ ...s, index }));
    clusters.push({ name: st.name, servers: all, sites: [...new Set(all.map((s) => s.site))] });
  } else if (tb) {
    clusters.push({ name: tb.name, servers: tbServers(tb.name), sites: [tb.name] });
  }
  const hosts: HostNode[] = [];
  for (const cloud of spec.clouds) {
    for (const pool of cloud.hostPools) {
      for (let i = 0; i < pool.hosts; i++) {
        hosts.push({
          name: `${cloud.name}-${pool.name}-${i + 1}`,
          cloud: cloud.name,
          pool: pool.name,
          index: i,
          zone: cloud.zones[i % cloud.zones.length]!,
          connection: pool.connection,
          remoteOrder: pool.remoteOrder,
          labels: pool.labels,
        });
      }
    }
  }
  const sites = [...spec.clouds.map((c) => c.name), ...(tb ? [tb.name] : [])];
  return { clusters, servers: clusters.flatMap((c) => c.servers), hosts, sites };
}

/** Sites whose loss leaves the JetStream meta group without a majority. */
export function metaQuorumRisks(topo: Topology): { site: string; lost: number; total: number; majority: number }[] {
  const total = topo.servers.length;
  const majority = Math.floor(total / 2) + 1;
  return topo.sites
    .map((site) => ({ site, lost: topo.servers.filter((s) => s.site === site).length, total, majority }))
    .filter((r) => total - r.lost < majority);
}

/** Instances per cloud of a workload, from `instances`, `spread` or the default of one per cloud. */
export function instancesPerCloud(spec: LatticeSpec, w: LatticeSpec["workloads"][number]): Record<string, number> {
  const clouds = spec.clouds.map((c) => c.name);
  let out: Record<string, number>;
  if (w.instances) out = { ...w.instances };
  else if (w.spread) {
    const weights = w.spread.weights;
    const sum = Object.values(weights).reduce((a, b) => a + b, 0) || 1;
    out = {};
    let assigned = 0;
    const names = Object.keys(weights);
    names.forEach((c, i) => {
      const n = i === names.length - 1 ? w.spread!.total - assigned : Math.round((w.spread!.total * weights[c]!) / sum);
      out[c] = n;
      assigned += n;
    });
  } else out = Object.fromEntries(clouds.map((c) => [c, 1]));
  if (w.failover.mode === "active-passive") {
    for (const c of Object.keys(out)) if (c !== w.failover.primary) out[c] = w.failover.warmStandby;
  }
  return out;
}
