/**
 * From raw drill measurements to the evidence record a regulator reads: verdicts per objective, aggregate
 * recovery over repetitions, reconciliation of acknowledged messages, findings and empty sign-off fields.
 * Pure: no I/O (the pack writer in pack.ts does that).
 */
import type { DrillRunRaw } from "./drill";
import type { LatencyStats, RepetitionResult, WorkloadMeasurement } from "./runner";
import { median } from "../lib/stats";

export const EVIDENCE_SCHEMA_VERSION = "1.0";

export type Verdict = "met" | "breached";

export interface TimelinePoint {
  /** Bin start, ms since injection. */
  readonly t: number;
  readonly successRate: number;
  readonly p50LatencyMs: number | null;
  readonly requests: number;
}

export interface Evidence {
  readonly schemaVersion: string;
  readonly scenario: {
    readonly id: string;
    readonly name: string;
    readonly hypothesis: string;
    /** Declared in the stack's `drills`, or a built-in scenario. */
    readonly source: "built-in" | "stack";
    readonly faults: readonly Record<string, unknown>[];
    readonly repetitions: number;
    readonly settings: Record<string, number | boolean>;
  };
  readonly stack: DrillRunRaw["stack"];
  readonly versions: DrillRunRaw["versions"];
  /** The failover-relevant settings the lattice ran with. */
  readonly tuning: Record<string, string | number>;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly objectives: readonly {
    readonly workload: string;
    readonly failover: string;
    readonly rtoObjectiveMs: number;
    readonly rpoObjectiveMessages: number;
    readonly recoveryMs: { readonly min: number | null; readonly median: number | null; readonly max: number | null };
    readonly unrecoveredRepetitions: number;
    readonly acknowledgedLost: number | null;
    readonly rtoVerdict: Verdict;
    readonly rpoVerdict: Verdict | "not measured";
    readonly verdict: Verdict;
  }[];
  readonly reconciliation: readonly {
    readonly repetition: number;
    readonly stream: string;
    readonly placement: string;
    readonly copy: string;
    readonly acknowledged: number;
    readonly recovered: number;
    readonly lost: number;
    readonly duplicated: number;
    readonly outOfOrder: number;
    readonly mirrorLagAtFault: number | null;
    readonly note: string | null;
  }[];
  readonly repetitions: readonly {
    readonly index: number;
    readonly timestamps: RepetitionResult["timestamps"];
    readonly faults: readonly {
      readonly kind: string;
      readonly action: string;
      readonly processes: readonly string[];
      readonly reason: string | null;
    }[];
    readonly stopConditionsFired: readonly string[];
    readonly jetstreamApi: { readonly ok: boolean; readonly ms: number; readonly error: string | null } | null;
    /** Raft leaders just before the fault, where known. */
    readonly leadersAtFault?: { readonly meta: string | null; readonly streams: Readonly<Record<string, string | null>> };
    readonly workloads: readonly {
      readonly workload: string;
      readonly recoveryMs: number | null;
      readonly firstFailureMs: number | null;
      readonly requestsOk: number;
      readonly requestsFailed: number;
      readonly latency: { readonly before: LatencyStats; readonly during: LatencyStats; readonly after: LatencyStats };
      readonly servedBy: Record<string, number>;
      readonly ledger: { readonly acked: number; readonly recovered: number; readonly lost: number } | null;
      readonly timeline: readonly TimelinePoint[];
    }[];
  }[];
  readonly verdict: Verdict;
  readonly findings: readonly { readonly id: string; readonly severity: "high" | "medium" | "info"; readonly text: string }[];
  readonly signOff: {
    readonly owner: { readonly name: string; readonly role: string; readonly date: string; readonly signature: string };
    readonly independentReviewer: { readonly name: string; readonly role: string; readonly date: string; readonly signature: string };
  };
}

/** Success rate and median latency per `binMs`, from `fromMs` to `toMs` relative to the injection. */
export function timeline(samples: readonly { t: number; ok: boolean; latencyMs: number }[], binMs = 250): TimelinePoint[] {
  if (samples.length === 0) return [];
  const from = Math.floor(Math.min(...samples.map((s) => s.t)) / binMs) * binMs;
  const to = Math.max(...samples.map((s) => s.t));
  const out: TimelinePoint[] = [];
  for (let t = from; t <= to; t += binMs) {
    const bin = samples.filter((s) => s.t >= t && s.t < t + binMs);
    if (bin.length === 0) continue;
    const ok = bin.filter((s) => s.ok).map((s) => s.latencyMs);
    out.push({
      t,
      successRate: +(ok.length / bin.length).toFixed(3),
      p50LatencyMs: ok.length ? +median(ok)!.toFixed(2) : null,
      requests: bin.length,
    });
  }
  return out;
}

export function buildEvidence(run: DrillRunRaw, tuning: Record<string, string | number> = {}): Evidence {
  const reps = run.repetitions;
  const workloadNames = [...new Set(reps.flatMap((r) => r.workloads.map((w) => w.workload)))];
  const objectives = workloadNames.map((name) => {
    const ms = reps.map((r) => r.workloads.find((w) => w.workload === name)!).filter(Boolean);
    const first = ms[0]!;
    const recovered = ms.map((m) => m.recoveryMs).filter((x): x is number => x !== null);
    const unrecovered = ms.length - recovered.length;
    const rtoVerdict: Verdict = unrecovered === 0 && recovered.every((x) => x <= first.objectiveRtoMs) ? "met" : "breached";
    const ledgers = ms.map((m) => m.ledger).filter((l): l is NonNullable<typeof l> => !!l);
    const lost = ledgers.length ? ledgers.reduce((a, l) => a + l.lost, 0) : null;
    const rpoVerdict: Verdict | "not measured" =
      lost === null ? "not measured" : ledgers.every((l) => l.lost <= first.objectiveRpo) ? "met" : "breached";
    return {
      workload: name,
      failover: first.failover,
      rtoObjectiveMs: first.objectiveRtoMs,
      rpoObjectiveMessages: first.objectiveRpo,
      recoveryMs: {
        min: recovered.length ? Math.min(...recovered) : null,
        median: median(recovered),
        max: unrecovered ? null : recovered.length ? Math.max(...recovered) : null,
      },
      unrecoveredRepetitions: unrecovered,
      acknowledgedLost: lost,
      rtoVerdict,
      rpoVerdict,
      verdict: (rtoVerdict === "met" && rpoVerdict !== "breached" ? "met" : "breached") as Verdict,
    };
  });
  const reconciliation = reps.flatMap((r) =>
    r.streams.map((s) => ({
      repetition: r.index,
      stream: s.stream,
      placement: s.placement,
      copy: s.copy,
      acknowledged: s.acked,
      recovered: s.recovered,
      lost: s.lost,
      duplicated: s.duplicated,
      outOfOrder: s.outOfOrder,
      mirrorLagAtFault: s.mirrorLagAtFault ?? null,
      note: s.note ?? null,
    })),
  );
  const findings: { id: string; severity: "high" | "medium" | "info"; text: string }[] = [];
  let n = 1;
  const fid = () => `F-${String(n++).padStart(2, "0")}`;
  for (const o of objectives) {
    if (o.rtoVerdict === "breached") {
      findings.push({
        id: fid(),
        severity: "high",
        text: `${o.workload}: recovery ${o.unrecoveredRepetitions ? `did not complete in ${o.unrecoveredRepetitions} repetition(s)` : `took up to ${o.recoveryMs.max} ms`}, beyond its ${o.rtoObjectiveMs} ms objective.`,
      });
    }
    if (o.rpoVerdict === "breached")
      findings.push({
        id: fid(),
        severity: "high",
        text: `${o.workload}: ${o.acknowledgedLost} acknowledged update(s) lost, beyond its RPO of ${o.rpoObjectiveMessages}.`,
      });
  }
  for (const s of reconciliation) {
    if (s.lost > 0) {
      findings.push({
        id: fid(),
        severity: s.mirrorLagAtFault !== null ? "medium" : "high",
        text: `${s.stream} (repetition ${s.repetition + 1}): ${s.lost} of ${s.acknowledged} acknowledged messages are missing from ${s.copy}${s.mirrorLagAtFault !== null ? `; the asynchronous mirror lagged ${s.mirrorLagAtFault} message(s) at the fault` : ""}. Place the stream in a cluster stretched over the clouds for RPO 0.`,
      });
    }
    if (s.duplicated > 0 || s.outOfOrder > 0)
      findings.push({
        id: fid(),
        severity: "medium",
        text: `${s.stream}: ${s.duplicated} duplicated and ${s.outOfOrder} out-of-order messages in ${s.copy}.`,
      });
  }
  for (const r of reps) {
    // A raft leader the fault took: writes to that stream or bucket waited for an election, which explains
    // (and bounds) the slower recoveries of the workloads that use it.
    const taken = new Set(r.faults.filter((f) => f.action === "killed" || f.action === "frozen").flatMap((f) => f.processes));
    const lostLeaders = Object.entries(r.leadersAtFault?.streams ?? {}).filter(([, leader]) => leader !== null && taken.has(leader));
    if (lostLeaders.length) {
      const slowest = r.workloads
        .filter((w) => w.recoveryMs !== null)
        .reduce<WorkloadMeasurement | undefined>((a, w) => (!a || w.recoveryMs! > a.recoveryMs! ? w : a), undefined);
      findings.push({
        id: fid(),
        severity: "info",
        text: `Repetition ${r.index + 1}: the fault took the raft leader of ${lostLeaders.map(([st, l]) => `${st} (${l})`).join(", ")}; writes there waited for a new leader to be elected${slowest ? ` (slowest recovery in this repetition: ${slowest.workload}, ${slowest.recoveryMs!.toFixed(0)} ms)` : ""}. Repetitions where the leader survives recover faster: judge the objective on the slower case.`,
      });
    }
    for (const f of r.faults)
      if (f.action === "skipped")
        findings.push({ id: fid(), severity: "medium", text: `Fault ${f.step.kind} was not injected: ${f.reason}.` });
    for (const s of r.stopConditionsFired)
      findings.push({
        id: fid(),
        severity: "high",
        text: `Stop condition fired in repetition ${r.index + 1}: ${s}; the drill was aborted and the lattice restored.`,
      });
    if (r.timestamps.steadyAgain === null)
      findings.push({
        id: fid(),
        severity: "high",
        text: `The lattice did not return to steady state after restore in repetition ${r.index + 1}.`,
      });
  }
  if (findings.length === 0)
    findings.push({
      id: fid(),
      severity: "info",
      text: "Every objective held and every acknowledged message was found in a surviving copy.",
    });
  const stopped = reps.some((r) => r.stopConditionsFired.length > 0);
  const plan = run.plan;
  return {
    schemaVersion: EVIDENCE_SCHEMA_VERSION,
    scenario: {
      id: plan.id,
      name: plan.name,
      hypothesis: plan.hypothesis,
      source: plan.source,
      faults: plan.faults.map((f) => ({ ...f })),
      repetitions: plan.repetitions,
      settings: {
        rateHzPerWorkloadPerCloud: plan.rateHz,
        requestTimeoutMs: plan.requestTimeoutMs,
        warmupMs: plan.warmupMs,
        steadyWindowMs: plan.steadyWindowMs,
        observeMs: plan.observeMs,
        abortFactor: plan.abortFactor,
        streams: plan.streams,
      },
    },
    stack: run.stack,
    versions: run.versions,
    tuning,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    objectives,
    reconciliation,
    repetitions: reps.map((r) => ({
      index: r.index,
      timestamps: r.timestamps,
      faults: r.faults.map((f) => ({ kind: f.step.kind, action: f.action, processes: f.processes, reason: f.reason ?? null })),
      stopConditionsFired: r.stopConditionsFired,
      jetstreamApi: r.jetstreamApi ?? null,
      ...(r.leadersAtFault ? { leadersAtFault: r.leadersAtFault } : {}),
      workloads: r.workloads.map((w) => ({
        workload: w.workload,
        recoveryMs: w.recoveryMs,
        firstFailureMs: w.firstFailureMs,
        requestsOk: w.ok,
        requestsFailed: w.failed,
        latency: w.latency,
        servedBy: w.servedBy,
        ledger: w.ledger ? { acked: w.ledger.acked, recovered: w.ledger.recovered, lost: w.ledger.lost } : null,
        timeline: timeline(w.samples),
      })),
    })),
    verdict:
      objectives.every((o) => o.verdict === "met") && !stopped && reps.every((r) => !r.jetstreamApi || r.jetstreamApi.ok)
        ? "met"
        : "breached",
    findings,
    signOff: {
      owner: { name: "", role: "service owner", date: "", signature: "" },
      independentReviewer: { name: "", role: "independent reviewer", date: "", signature: "" },
    },
  };
}
