/** The raw results of a drill: the plan the runner takes and what one repetition measured. */
import type { Injected, FaultStep } from "./faults";
import type { LatencyStats } from "./measure";
import type { LedgerReconciliation, Reconciliation, Sample } from "./probes";

export interface DrillPlan {
  readonly id: string;
  readonly name: string;
  readonly hypothesis: string;
  readonly faults: readonly FaultStep[];
  /** Requests per second per workload per client cloud. */
  readonly rateHz: number;
  readonly requestTimeoutMs: number;
  /** Fewest requests after the fault, per workload and client cloud, that can show an outage. */
  readonly minSamplesPerCloud: number;
  /** Steady state before the fault. */
  readonly warmupMs: number;
  /** Success must hold this long to count as recovered (the sustained window). */
  readonly steadyWindowMs: number;
  /** Longest time to wait for recovery after the fault. */
  readonly observeMs: number;
  /** Stop condition: abort when a workload is down longer than this factor × its recovery objective. */
  readonly abortFactor: number;
  readonly repetitions: number;
  /** Objective overrides per workload. */
  readonly objectives?: Readonly<Record<string, { rtoSeconds?: number; rpoMessages?: number }>>;
  /** Publish to streams and reconcile acknowledged messages. */
  readonly streams: boolean;
  /** Where the scenario comes from: built into latticeform, or declared in the stack's `drills`. */
  readonly source: "built-in" | "stack";
}

/** Why a repetition (or run) ended before its last phase: the operator, or an error. Not a stop condition. */
export interface Interrupted {
  readonly by: "operator" | "error";
  readonly step: string;
  readonly detail?: string;
}

export interface WorkloadMeasurement {
  readonly workload: string;
  readonly failover: string;
  readonly objectiveRtoMs: number;
  readonly objectiveRpo: number;
  /** Injection -> start of the sustained success window; 0 when no request failed. */
  readonly recoveryMs: number | null;
  readonly firstFailureMs: number | null;
  readonly firstSuccessAfterFailureMs: number | null;
  readonly ok: number;
  readonly failed: number;
  /** Requests sent at or after the injection, per client cloud. */
  readonly samplesAfterFault: Readonly<Record<string, number>>;
  readonly latency: { before: LatencyStats; during: LatencyStats; after: LatencyStats };
  readonly servedBy: Record<string, number>;
  /** Stateful workloads: acknowledged updates and balances reconciled after recovery. */
  readonly ledger?: LedgerReconciliation;
  /** Stateful workloads: why the ledger could not be reconciled. */
  readonly ledgerError?: string;
  readonly samples: readonly Sample[];
}

export interface StreamMeasurement extends Reconciliation {
  readonly placement: string;
  readonly mirrors: readonly string[];
  readonly mirrorLagAtFault?: number;
  readonly publishFailures: number;
  readonly note?: string;
  /** Why the copy could not be reconciled (then acked/lost describe nothing measured). */
  readonly error?: string;
}

export interface RepetitionResult {
  readonly index: number;
  readonly timestamps: {
    readonly start: string;
    readonly injected: string;
    readonly detected: string | null;
    readonly firstSuccess: string | null;
    readonly steady: string | null;
    readonly restored: string;
    readonly steadyAgain: string | null;
    readonly end: string;
  };
  readonly faults: readonly Injected[];
  readonly workloads: readonly WorkloadMeasurement[];
  readonly streams: readonly StreamMeasurement[];
  readonly stopConditionsFired: readonly string[];
  /** Why the lattice was not steady again after restore, if it was not. */
  readonly notSteadyReason?: string;
  /** Raft leaders just before the fault (JetStream meta group; every stream, KV bucket and mirror), where known. */
  readonly leadersAtFault?: { readonly meta: string | null; readonly streams: Readonly<Record<string, string | null>> };
  /** Stream and consumer creation and deletion through the JetStream API while the fault was still in place. */
  readonly jetstreamApi: { readonly ok: boolean; readonly ms: number; readonly error: string | null } | null;
  /** Set when the repetition was aborted by the operator or an error (not a stop condition). */
  readonly interrupted?: Interrupted;
}
