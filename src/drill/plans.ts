/**
 * Drill plans for a lattice: the built-in scenarios (what a bank asks first: lose the primary cloud, then
 * smaller faults) and those the stack declares under `drills`, which replace a built-in of the same id.
 */
import type { Drill, DrillFault, LatticeSpec } from "../model/schema";
import type { FaultStep } from "./faults";
import type { DrillPlan } from "./runner";

/** The cloud whose loss hurts most: the primary of an active-passive workload, else the first cloud. */
export function primaryCloud(spec: LatticeSpec): string {
  for (const w of spec.workloads) if (w.failover.mode === "active-passive") return w.failover.primary;
  return spec.clouds[0]!.name;
}

const DEFAULTS = {
  rateHz: 50,
  requestTimeoutMs: 250,
  minSamplesPerCloud: 20,
  warmupMs: 5000,
  steadyWindowMs: 1000,
  observeMs: 30000,
  abortFactor: 3,
  repetitions: 1,
  streams: true,
  source: "built-in",
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

function faultStep(f: DrillFault): FaultStep {
  switch (f.kind) {
    case "cloud-outage":
      return { kind: f.kind, cloud: f.cloud };
    case "hub-node-loss":
      return { kind: f.kind, cloud: f.cloud, server: f.server };
    case "host-crash":
      return { kind: f.kind, cloud: f.cloud, ...(f.host ? { host: f.host } : {}) };
    case "blackhole":
      return { kind: f.kind, cloud: f.cloud, durationMs: f.durationSeconds * 1000, ...(f.server ? { server: f.server } : {}) };
    case "partition":
      return { kind: f.kind, between: f.between, durationMs: f.durationSeconds * 1000 };
    case "latency":
      return { kind: f.kind, between: f.between, delayMs: f.delayMs, durationMs: f.durationSeconds * 1000 };
  }
}

/** A drill declared in the stack, as the runner takes it. */
export function planOf(d: Drill): DrillPlan {
  return {
    id: d.id,
    name: d.name ?? d.id,
    hypothesis: d.hypothesis,
    faults: d.faults.map(faultStep),
    rateHz: d.load.rateHz,
    requestTimeoutMs: d.load.requestTimeoutMs,
    minSamplesPerCloud: d.load.minSamplesAfterFault,
    streams: d.load.streams,
    warmupMs: Math.round(d.steadyState.warmupSeconds * 1000),
    steadyWindowMs: Math.round(d.steadyState.windowSeconds * 1000),
    observeMs: Math.round(d.observeSeconds * 1000),
    abortFactor: d.stopConditions.downFactor,
    repetitions: d.repetitions,
    objectives: d.objectives,
    source: "stack",
  };
}

/** Every scenario of a lattice: the built-ins, with the stack's declared drills replacing or adding to them. */
export function plansFor(spec: LatticeSpec): DrillPlan[] {
  const declared = spec.drills.map(planOf);
  const builtin = builtinPlans(spec);
  const byId = new Map(declared.map((p) => [p.id, p]));
  return [...builtin.map((p) => byId.get(p.id) ?? p), ...declared.filter((p) => !builtin.some((b) => b.id === p.id))];
}
