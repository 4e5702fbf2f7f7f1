/**
 * From raw drill measurements to the evidence record a regulator reads: verdicts per objective, aggregate
 * recovery over repetitions, reconciliation of acknowledged messages, findings and empty sign-off fields.
 * Pure: no I/O (the pack writer in pack.ts does that).
 */
import * as path from "node:path";
import { median } from "../lib/stats";
import { REPO_ROOT } from "../model/load";
import type { DrillRunRaw } from "./drill";
import type { Interrupted, LatencyStats, RepetitionResult, WorkloadMeasurement } from "./runner";
import { judge, judgedRepetitions, VERDICT_RULES, type Outcome } from "./verdict";

export const EVIDENCE_SCHEMA_VERSION = "2.0";

export type Verdict = Outcome;
type Measured = "met" | "breached" | "not measured";

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
    /** Headline: the worst repetition (null when one never recovered), with the distribution beside it. */
    readonly recoveryMs: {
      readonly worst: number | null;
      readonly min: number | null;
      readonly median: number | null;
      readonly max: number | null;
      readonly perRepetition: readonly (number | null)[];
    };
    readonly unrecoveredRepetitions: number;
    readonly acknowledgedLost: number | null;
    readonly rtoVerdict: Measured;
    readonly rpoVerdict: Measured | "not applicable";
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
    /** Why the copy could not be reconciled (the counts then measure nothing). */
    readonly error: string | null;
  }[];
  readonly repetitions: readonly {
    readonly index: number;
    readonly timestamps: RepetitionResult["timestamps"];
    readonly faults: readonly {
      readonly kind: string;
      readonly action: string;
      readonly processes: readonly string[];
      readonly reason: string | null;
      /** The fault's own check that it took effect. */
      readonly effect: { readonly ok: boolean; readonly detail: string } | null;
      readonly declaredMs: number | null;
      readonly heldMs: number | null;
    }[];
    readonly interrupted: Interrupted | null;
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
      readonly samplesAfterFault: Readonly<Record<string, number>>;
      /** Failed requests by error (at most 8 kinds), before and after the fault. */
      readonly errors: Readonly<Record<string, number>>;
      readonly ledger: {
        readonly acked: number;
        readonly recovered: number;
        readonly lost: number;
        readonly duplicated: number;
        readonly balanceShortfall: number;
      } | null;
      readonly ledgerError: string | null;
      readonly timeline: readonly TimelinePoint[];
    }[];
  }[];
  readonly verdict: Verdict;
  /** The verdict's main reason, in one line (the same words as the CLI and both reports). */
  readonly verdictReason: string;
  /** Every verdict rule that fired. */
  readonly verdictFindings: readonly { readonly rule: string; readonly outcome: "breached" | "inconclusive"; readonly reason: string }[];
  /** The rules applied, so a reader can judge what MET means. */
  readonly verdictRules: readonly { readonly name: string; readonly outcome: "breached" | "inconclusive"; readonly description: string }[];
  readonly interrupted: Interrupted | null;
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

/** A path for the evidence: relative to the repository, never an absolute path of this machine. */
export function repoPath(file: string): string {
  const rel = path.relative(REPO_ROOT, path.resolve(REPO_ROOT, file));
  return rel.startsWith("..") || path.isAbsolute(rel) ? `(outside the repository) ${path.basename(file)}` : rel.split(path.sep).join("/");
}

function objectiveOf(run: DrillRunRaw, name: string) {
  const finished = run.repetitions.filter((r) => !r.interrupted);
  const ms = finished.map((r) => r.workloads.find((w) => w.workload === name)).filter((m): m is WorkloadMeasurement => !!m);
  const first = run.repetitions.flatMap((r) => r.workloads).find((w) => w.workload === name)!;
  const perRepetition = ms.map((m) => m.recoveryMs);
  const recovered = perRepetition.filter((x): x is number => x !== null);
  const unrecovered = ms.length - recovered.length;
  const enough = ms.length > 0 && ms.every((m) => Object.values(m.samplesAfterFault).every((n) => n >= run.plan.minSamplesPerCloud));
  // Verdicts only from the repetitions that count for this workload (verdict.ts): the numbers show them all.
  const judged = judgedRepetitions(run, name).flatMap((r) => r.workloads.filter((w) => w.workload === name));
  const allJudged = judged.length === ms.length;
  const rtoBreached = judged.some((m) => m.recoveryMs === null || m.recoveryMs > first.objectiveRtoMs);
  const rtoVerdict: Measured = rtoBreached ? "breached" : enough && allJudged ? "met" : "not measured";
  const stateful = ms.some((m) => m.ledger || m.ledgerError);
  const ledgers = ms.map((m) => m.ledger).filter((l): l is NonNullable<typeof l> => !!l);
  const lost = ledgers.length ? ledgers.reduce((a, l) => a + l.lost, 0) : null;
  const rpoBreached = judged.some((m) => m.ledger && (m.ledger.lost > first.objectiveRpo || m.ledger.duplicated > 0));
  const rpoVerdict: Measured | "not applicable" = !stateful
    ? "not applicable"
    : rpoBreached
      ? "breached"
      : ms.some((m) => m.ledgerError) || ledgers.length < ms.length || !allJudged
        ? "not measured"
        : "met";
  const verdict: Verdict =
    rtoVerdict === "breached" || rpoVerdict === "breached"
      ? "breached"
      : rtoVerdict === "not measured" || rpoVerdict === "not measured"
        ? "inconclusive"
        : "met";
  return {
    workload: name,
    failover: first.failover,
    rtoObjectiveMs: first.objectiveRtoMs,
    rpoObjectiveMessages: first.objectiveRpo,
    recoveryMs: {
      worst: unrecovered || !recovered.length ? null : Math.max(...recovered),
      min: recovered.length ? Math.min(...recovered) : null,
      median: median(recovered),
      max: recovered.length ? Math.max(...recovered) : null,
      perRepetition,
    },
    unrecoveredRepetitions: unrecovered,
    acknowledgedLost: lost,
    rtoVerdict,
    rpoVerdict,
    verdict,
  };
}

function errorCounts(samples: readonly { ok: boolean; error?: string }[]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const s of samples) if (!s.ok) counts.set(s.error ?? "unknown", (counts.get(s.error ?? "unknown") ?? 0) + 1);
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]).slice(0, 8));
}

type FindingOut = { id: string; severity: "high" | "medium" | "info"; text: string };

/** Context a reviewer needs beside the verdict: raft leaders a fault took, and why an asynchronous copy lost. */
function infoFindings(reps: readonly RepetitionResult[]): string[] {
  const out: string[] = [];
  for (const r of reps) {
    // A raft leader the fault took: writes to that stream or bucket waited for an election, which explains
    // (and bounds) the slower recoveries of the workloads that use it.
    const taken = new Set(r.faults.filter((f) => f.action === "killed" || f.action === "frozen").flatMap((f) => f.processes));
    const lostLeaders = Object.entries(r.leadersAtFault?.streams ?? {}).filter(([, leader]) => leader !== null && taken.has(leader));
    if (lostLeaders.length) {
      const slowest = r.workloads
        .filter((w) => w.recoveryMs !== null)
        .reduce<WorkloadMeasurement | undefined>((a, w) => (!a || w.recoveryMs! > a.recoveryMs! ? w : a), undefined);
      out.push(
        `Repetition ${r.index + 1}: the fault took the raft leader of ${lostLeaders.map(([st, l]) => `${st} (${l})`).join(", ")}; writes there waited for a new leader to be elected${slowest ? ` (slowest recovery in this repetition: ${slowest.workload}, ${slowest.recoveryMs!.toFixed(0)} ms)` : ""}. Repetitions where the leader survives recover faster: the headline is the slowest case.`,
      );
    }
    for (const s of r.streams)
      if (!s.error && s.lost > 0 && s.mirrorLagAtFault !== undefined)
        out.push(
          `${s.stream} (repetition ${r.index + 1}): ${s.lost} of ${s.acked} acknowledged messages are missing from ${s.copy}; the asynchronous mirror lagged ${s.mirrorLagAtFault} message(s) at the fault. Place the stream in a cluster stretched over the clouds for RPO 0.`,
        );
  }
  return out;
}

export function buildEvidence(run: DrillRunRaw, tuning: Record<string, string | number> = {}): Evidence {
  const reps = run.repetitions;
  const judgement = judge(run);
  const workloadNames = [...new Set(reps.flatMap((r) => r.workloads.map((w) => w.workload)))];
  const objectives = workloadNames.map((name) => objectiveOf(run, name));
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
      error: s.error ?? null,
    })),
  );
  const findings: FindingOut[] = [];
  let n = 1;
  const fid = () => `F-${String(n++).padStart(2, "0")}`;
  for (const f of judgement.findings)
    findings.push({ id: fid(), severity: f.outcome === "breached" ? "high" : "medium", text: `[${f.rule}] ${f.reason}.` });
  for (const text of infoFindings(reps)) findings.push({ id: fid(), severity: "info", text });
  if (judgement.outcome === "met")
    findings.push({
      id: fid(),
      severity: "info",
      text: "Every objective was measured and held, every fault was shown to take effect, and every acknowledged message was found in a surviving copy.",
    });
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
        minSamplesPerCloud: plan.minSamplesPerCloud,
        warmupMs: plan.warmupMs,
        steadyWindowMs: plan.steadyWindowMs,
        observeMs: plan.observeMs,
        abortFactor: plan.abortFactor,
        streams: plan.streams,
      },
    },
    stack: { ...run.stack, file: repoPath(run.stack.file) },
    versions: run.versions,
    tuning,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    objectives,
    reconciliation,
    repetitions: reps.map((r) => ({
      index: r.index,
      timestamps: r.timestamps,
      faults: r.faults.map((f) => ({
        kind: f.step.kind,
        action: f.action,
        processes: f.processes,
        reason: f.reason ?? null,
        effect: f.effect ?? null,
        declaredMs: f.step.durationMs ?? null,
        heldMs: f.heldMs ?? null,
      })),
      interrupted: r.interrupted ?? null,
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
        samplesAfterFault: w.samplesAfterFault,
        errors: errorCounts(w.samples),
        ledger: w.ledger
          ? {
              acked: w.ledger.acked,
              recovered: w.ledger.recovered,
              lost: w.ledger.lost,
              duplicated: w.ledger.duplicated,
              balanceShortfall: w.ledger.balanceShortfall,
            }
          : null,
        ledgerError: w.ledgerError ?? null,
        timeline: timeline(w.samples),
      })),
    })),
    verdict: judgement.outcome,
    verdictReason: judgement.reason,
    verdictFindings: judgement.findings,
    verdictRules: VERDICT_RULES.map((r) => ({ name: r.name, outcome: r.outcome, description: r.description })),
    interrupted: run.interrupted ?? null,
    findings,
    signOff: {
      owner: { name: "", role: "service owner", date: "", signature: "" },
      independentReviewer: { name: "", role: "independent reviewer", date: "", signature: "" },
    },
  };
}
