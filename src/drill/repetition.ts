/**
 * What a repetition's phases share: the state they pass along (`Rep`), the sites a fault touches, and the
 * clock conversions of their samples.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import type { LocalRender } from "../local/state";
import type { Supervisor } from "../local/supervisor";
import type { LatticeSpec } from "../model/schema";
import type { FaultStep, Injected } from "./faults";
import type { RequestProbe, Sample, StreamPublisher } from "./probes";
import type { DrillPlan, RepetitionResult, StreamMeasurement, WorkloadMeasurement } from "./types";

/**
 * The one definition of the sites a fault touches, and whether it keeps them down until restore (so their
 * copies cannot count as surviving). Timed faults heal during the observation; single-process faults leave
 * the cloud's other replicas.
 */
export function touchedBy(spec: LatticeSpec, step: FaultStep): { sites: string[]; downUntilRestore: boolean } {
  if (step.kind === "partition" || step.kind === "latency") {
    const between = step.between ?? [spec.clouds[0]!.name, spec.clouds[1]?.name ?? spec.clouds[0]!.name];
    return { sites: [...between], downUntilRestore: false };
  }
  return { sites: step.cloud ? [step.cloud] : [], downUntilRestore: step.kind === "cloud-outage" };
}

export function touchedClouds(spec: LatticeSpec, plan: DrillPlan): string[] {
  return [...new Set(plan.faults.flatMap((f) => touchedBy(spec, f).sites))];
}

export function lostClouds(spec: LatticeSpec, plan: DrillPlan): string[] {
  return [...new Set(plan.faults.flatMap((f) => (touchedBy(spec, f).downUntilRestore ? touchedBy(spec, f).sites : [])))];
}

export type Progress = (line: string) => void;

/** The state a repetition's phases share. */
export interface Rep {
  readonly r: LocalRender;
  readonly sup: Supervisor;
  readonly plan: DrillPlan;
  readonly index: number;
  readonly progress: Progress;
  readonly run: string;
  readonly runnable: LatticeSpec["workloads"];
  readonly conns: NatsConnection[];
  readonly probes: RequestProbe[];
  publishers: StreamPublisher[];
  pubConn?: NatsConnection;
  /** performance.now() of the injection: samples are shifted so it is t = 0. */
  injAbs: number;
  readonly injected: Injected[];
  readonly fired: string[];
  readonly iso: Record<string, string | null>;
  lagAtFault: Map<string, number>;
  leadersAtFault?: RepetitionResult["leadersAtFault"];
  jetstreamApi: RepetitionResult["jetstreamApi"];
  streams: StreamMeasurement[];
  workloads: WorkloadMeasurement[];
  restored: boolean;
  notSteadyReason?: string;
}

export const rel = (x: Rep, ss: readonly Sample[]): Sample[] => ss.map((s) => ({ ...s, t: s.t - x.injAbs }));
export const wallAt = (x: Rep, t: number) => new Date(Date.now() - (performance.now() - (t + x.injAbs))).toISOString();
