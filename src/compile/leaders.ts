/**
 * Where raft leaders are kept (pure): the streams, buckets and mirrors with a replica at the leader site (by
 * default the tie-breaker site, the one no cloud outage takes) and the JetStream meta leader. A keeper (the
 * local lattice's `src/local/leaders.ts`; in the clouds the same program on the tie-breaker VMs) moves a leader
 * back with a stepdown request carrying this placement (nats-server 2.11+) whenever an election put it elsewhere.
 */
import type { LatticeSpec } from "../model/schema";
import type { Topology } from "../model/topology";
import { planJetStream } from "./jetstream";

export interface KeptLeader {
  /** Stream name (KV buckets: `KV_<bucket>`). */
  readonly stream: string;
  readonly account: string;
  /** Site that should lead and the placement the stepdown request names (`cloud:<site>` is every server's tag). */
  readonly site: string;
  readonly tags: readonly string[];
}

export interface LeaderPlan {
  readonly site: string;
  /** Keep the meta leader at the site (needs the system account). */
  readonly meta: boolean;
  readonly streams: readonly KeptLeader[];
}

/** The leader site of the spec, or undefined when leaders are not kept (setting off, or no site to keep them at). */
export function leaderSite(spec: LatticeSpec): string | undefined {
  const l = spec.jetstream.leaders;
  if (!l.keep) return undefined;
  return l.site ?? spec.tieBreaker?.name;
}

export function planLeaders(spec: LatticeSpec, topo: Topology): LeaderPlan | undefined {
  const site = leaderSite(spec);
  if (!site) return undefined;
  const tags = [`cloud:${site}`];
  const streams = planJetStream(spec)
    .filter((p) => p.config.num_replicas > 1)
    .filter((p) => topo.servers.some((s) => s.cluster === p.config.placement.cluster && s.site === site))
    .map((p) => ({ stream: p.name, account: p.account, site, tags }));
  return { site, meta: spec.jetstream.leaders.meta, streams };
}

/** `$JS.API` subject of a stream leader stepdown in the lattice's domain, and its body with the placement. */
export function stepdownRequest(spec: LatticeSpec, stream: string, tags: readonly string[]): { subject: string; body: string } {
  return {
    subject: `$JS.${spec.jetstream.domain}.API.STREAM.LEADER.STEPDOWN.${stream}`,
    body: JSON.stringify({ placement: { tags } }),
  };
}

/** The meta leader stepdown (system account) with the placement. */
export function metaStepdownRequest(tags: readonly string[]): { subject: string; body: string } {
  return { subject: "$JS.API.META.LEADER.STEPDOWN", body: JSON.stringify({ placement: { tags } }) };
}
