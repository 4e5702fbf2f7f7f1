/** Built-in drill plans for a lattice: what a bank asks first (lose the primary cloud), then smaller faults. */
import type { LatticeSpec } from "../spec/schema";
import type { DrillPlan } from "./runner";

/** The cloud whose loss hurts most: the primary of an active-passive workload, else the first cloud. */
export function primaryCloud(spec: LatticeSpec): string {
  for (const w of spec.workloads) if (w.failover.mode === "active-passive") return w.failover.primary;
  return spec.clouds[0]!.name;
}

const DEFAULTS = {
  rateHz: 50,
  requestTimeoutMs: 250,
  warmupMs: 1500,
  steadyWindowMs: 1000,
  observeMs: 30000,
  abortFactor: 3,
  repetitions: 1,
  streams: true,
} as const;

export function builtinPlans(spec: LatticeSpec): DrillPlan[] {
  const primary = primaryCloud(spec);
  const other = spec.clouds.find((c) => c.name !== primary)?.name ?? primary;
  return [
    {
      ...DEFAULTS,
      id: "lose-primary-cloud",
      name: `Lose the primary cloud (${primary})`,
      hypothesis: `Every server and Wasm host in ${primary} dies at once (a region-wide outage of one provider: severe but plausible, as public cloud incident histories show). Workloads keep answering from ${other} within their recovery objectives, and no acknowledged message of a stream with a copy outside ${primary} is lost.`,
      faults: [{ kind: "cloud-outage", cloud: primary }],
    },
    {
      ...DEFAULTS,
      id: "hub-node-loss",
      name: `Lose one hub server in ${primary} (a stream leader)`,
      hypothesis: `One hub server of ${primary}, the leader of a stream where there is one, crashes. Requests and JetStream publishes continue; replicas elect a new leader and nothing acknowledged is lost.`,
      faults: [{ kind: "hub-node-loss", cloud: primary, server: "stream-leader" }],
    },
    {
      ...DEFAULTS,
      id: "host-crash",
      name: `Crash a Wasm host in ${primary}`,
      hypothesis: `A Wasm host of ${primary} crashes. Its workloads are served by the remaining instances (active-active) or the standby is promoted (active-passive) within the objective.`,
      faults: [{ kind: "host-crash", cloud: primary }],
    },
    {
      ...DEFAULTS,
      id: "blackhole-primary",
      name: `Freeze the primary cloud (${primary}) for 5 s`,
      hypothesis: `Every process of ${primary} stops answering without closing its connections (a network blackhole). Peers detect it by pings and fail over; after the freeze the cloud rejoins.`,
      faults: [{ kind: "blackhole", cloud: primary, durationMs: 5000 }],
    },
  ];
}
