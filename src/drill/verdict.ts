/**
 * The drill verdict as a table of named rules. Each rule looks at the raw measurements and either stays silent
 * or says BREACHED or INCONCLUSIVE with its reasons. MET only when no rule speaks: every objective measured and
 * held, every fault shown to have taken effect. Only valid repetitions (finished, every fault in effect, steady
 * before the fault) can show a breach; a breach they show outranks an inconclusive finding elsewhere (a
 * failure seen is a failure); anything not measured can never read as met. Pure.
 */
import type { DrillRunRaw } from "./drill";
import type { RepetitionResult, WorkloadMeasurement } from "./runner";

export type Outcome = "met" | "breached" | "inconclusive";

/** Process exit code of a drill per outcome (2 is bad input, raised before anything runs). */
export const EXIT_CODES: Readonly<Record<Outcome, number>> = { met: 0, breached: 1, inconclusive: 3 };

export interface Finding {
  readonly rule: string;
  readonly outcome: Exclude<Outcome, "met">;
  readonly reason: string;
}

export interface VerdictRule {
  readonly name: string;
  /** What the rule checks, in words a reviewer can judge (printed in the pack). */
  readonly description: string;
  /** The outcome this rule gives when it fires. */
  readonly outcome: Exclude<Outcome, "met">;
  /** One reason per thing that fired; [] when the rule holds. */
  readonly check: (run: DrillRunRaw) => string[];
}

const repName = (r: RepetitionResult) => `repetition ${r.index + 1}`;
/** Repetitions the drill actually finished (an interrupted one is judged by the `interrupted` rule alone). */
const finished = (run: DrillRunRaw) => run.repetitions.filter((r) => !r.interrupted);
const heldOk = (f: RepetitionResult["faults"][number]) => f.step.durationMs === undefined || (f.heldMs ?? -1) >= f.step.durationMs;
/** Every fault injected, shown to take effect and held as declared. */
const faultsValid = (r: RepetitionResult) => r.faults.every((f) => f.action !== "skipped" && f.effect?.ok === true && heldOk(f));

/**
 * Requests sent from `from` on whose outcome (reply, error or timeout) was known before `to`. A request still in
 * flight at `to` is left out: when `to` is the fault, its failure is the fault's doing, not unsteadiness.
 */
export function answeredBetween<S extends { t: number; latencyMs: number }>(samples: readonly S[], from: number, to: number): S[] {
  return samples.filter((s) => s.t >= from && s.t + s.latencyMs < to);
}

/** Workloads that were not steady in the sustained window just before the fault (or were not measured there). */
export function notSteadyBefore(r: RepetitionResult, windowMs: number): string[] {
  return r.workloads.flatMap((w) => {
    const before = answeredBetween(w.samples, -windowMs, 0);
    const failed = before.filter((s) => !s.ok).length;
    return before.length === 0 || failed > 0
      ? [
          `${w.workload}: ${before.length === 0 ? "no request" : `${failed} of ${before.length} requests failed`} in the ${windowMs} ms before the fault`,
        ]
      : [];
  });
}

/**
 * Repetitions whose measurements test the hypothesis: finished, every fault took effect. Only these can show
 * a breach, and only for workloads that were steady before the fault; the rest are INCONCLUSIVE by the rules
 * that say why.
 */
const valid = (run: DrillRunRaw) => finished(run).filter(faultsValid);
/** The repetitions in which a workload's measurements count: valid, and that workload steady before the fault. */
export function judgedRepetitions(run: DrillRunRaw, workload: string): RepetitionResult[] {
  return valid(run).filter((r) => {
    const w = r.workloads.filter((x) => x.workload === workload);
    return w.length > 0 && notSteadyBefore({ ...r, workloads: w }, run.plan.steadyWindowMs).length === 0;
  });
}
const each = <T>(run: DrillRunRaw, f: (r: RepetitionResult) => T[]): T[] => valid(run).flatMap(f);
const eachFinished = <T>(run: DrillRunRaw, f: (r: RepetitionResult) => T[]): T[] => finished(run).flatMap(f);
const wl = (r: RepetitionResult, f: (w: WorkloadMeasurement) => string | undefined) =>
  r.workloads
    .map(f)
    .filter((x): x is string => !!x)
    .map((x) => `${repName(r)}: ${x}`);
/** `wl` over the workloads that were steady just before the fault: only their breaches are measured ones. */
const wlSteady = (run: DrillRunRaw, r: RepetitionResult, f: (w: WorkloadMeasurement) => string | undefined) =>
  wl({ ...r, workloads: r.workloads.filter((w) => notSteadyBefore({ ...r, workloads: [w] }, run.plan.steadyWindowMs).length === 0) }, f);

export const VERDICT_RULES: readonly VerdictRule[] = [
  {
    name: "interrupted",
    description:
      "The drill was aborted by the operator (SIGINT/SIGTERM) or by an error, not by a stop condition: nothing after that step was measured.",
    outcome: "inconclusive",
    check: (run) => [
      ...(run.interrupted
        ? [
            `the run was interrupted by ${run.interrupted.by} at ${run.interrupted.step}${run.interrupted.detail ? ` (${run.interrupted.detail})` : ""}`,
          ]
        : []),
      ...run.repetitions
        .filter((r) => r.interrupted)
        .map(
          (r) =>
            `${repName(r)} was interrupted by ${r.interrupted!.by} at ${r.interrupted!.step}${r.interrupted!.detail ? ` (${r.interrupted!.detail})` : ""}`,
        ),
      ...(run.repetitions.length < run.plan.repetitions && !run.interrupted
        ? [`only ${run.repetitions.length} of ${run.plan.repetitions} repetitions ran`]
        : []),
    ],
  },
  {
    name: "fault-skipped",
    description: "A declared fault was not injected (for example no root for a partition, no netem for latency).",
    outcome: "inconclusive",
    check: (run) =>
      eachFinished(run, (r) =>
        r.faults
          .filter((f) => f.action === "skipped")
          .map((f) => `${repName(r)}: ${f.step.kind} was not injected: ${f.reason ?? "no reason given"}`),
      ),
  },
  {
    name: "fault-without-effect",
    description:
      "A fault's own check did not show its effect (processes still running, partition rules absent or a probe across them answered, no added latency), or a timed fault was not held for its declared duration.",
    outcome: "inconclusive",
    check: (run) =>
      eachFinished(run, (r) =>
        r.faults
          .filter((f) => f.action !== "skipped")
          .flatMap((f) => {
            const out: string[] = [];
            if (!f.effect) out.push(`${repName(r)}: ${f.step.kind} has no record that it took effect`);
            else if (!f.effect.ok) out.push(`${repName(r)}: ${f.step.kind} did not take effect: ${f.effect.detail}`);
            const declared = f.step.durationMs;
            if (declared !== undefined && (f.heldMs === undefined || f.heldMs < declared))
              out.push(
                `${repName(r)}: ${f.step.kind} was held ${f.heldMs === undefined ? "for an unknown time" : `${Math.round(f.heldMs)} ms`}, less than its declared ${declared} ms`,
              );
            return out;
          }),
      ),
  },
  {
    name: "steady-before-fault",
    description:
      "Every workload answered every request in the sustained window just before the fault (the steady-state hypothesis); otherwise recovery cannot be told from the noise.",
    outcome: "inconclusive",
    check: (run) => eachFinished(run, (r) => notSteadyBefore(r, run.plan.steadyWindowMs).map((x) => `${repName(r)}: ${x}`)),
  },
  {
    name: "too-few-samples",
    description:
      "Recovery needs at least the declared number of requests after the fault from every client cloud, for every workload; fewer cannot show an outage.",
    outcome: "inconclusive",
    check: (run) =>
      each(run, (r) =>
        wl(r, (w) => {
          const short = Object.entries(w.samplesAfterFault).filter(([, n]) => n < run.plan.minSamplesPerCloud);
          return short.length
            ? `${w.workload} had ${short.map(([c, n]) => `${n} request(s) from ${c}`).join(", ")} after the fault, fewer than the ${run.plan.minSamplesPerCloud} required`
            : undefined;
        }),
      ),
  },
  {
    name: "measurement-failed",
    description: "A reconciliation could not be made (the ledger's bucket or a stream's copy was unreachable), so loss is unknown.",
    outcome: "inconclusive",
    check: (run) =>
      each(run, (r) => [
        ...wl(r, (w) => (w.ledgerError ? `${w.workload}: ledger not reconciled: ${w.ledgerError}` : undefined)),
        ...r.streams.filter((s) => s.error).map((s) => `${repName(r)}: stream ${s.stream} not reconciled: ${s.error}`),
      ]),
  },
  {
    name: "recovery-objective",
    description: "Every workload recovered (a sustained window of successes) within its recovery-time objective, in every repetition.",
    outcome: "breached",
    check: (run) =>
      each(run, (r) =>
        wlSteady(run, r, (w) =>
          w.recoveryMs === null
            ? // A stop condition for another workload cut this one's observation short: judged by stop-condition.
              r.stopConditionsFired.length && !r.stopConditionsFired.some((s) => s.startsWith(`${w.workload}:`))
              ? undefined
              : `${w.workload} did not recover (objective ${w.objectiveRtoMs} ms)`
            : w.recoveryMs > w.objectiveRtoMs
              ? `${w.workload} recovered in ${Math.round(w.recoveryMs)} ms, beyond its ${w.objectiveRtoMs} ms objective`
              : undefined,
        ),
      ),
  },
  {
    name: "acknowledged-loss",
    description:
      "No acknowledged ledger update beyond the workload's RPO, and no acknowledged stream message (streams are judged at RPO 0), is missing from the surviving copy; the ledger's balance equals the sum of its acknowledged updates.",
    outcome: "breached",
    check: (run) =>
      each(run, (r) => [
        ...wlSteady(run, r, (w) =>
          w.ledger && w.ledger.lost > w.objectiveRpo
            ? `${w.workload}: ${w.ledger.lost} acknowledged update(s) lost (RPO ${w.objectiveRpo})${w.ledger.balanceShortfall ? `; balance short by ${w.ledger.balanceShortfall}` : ""}`
            : undefined,
        ),
        ...r.streams
          .filter((s) => !s.error && s.lost > 0)
          .map((s) => `${repName(r)}: stream ${s.stream}: ${s.lost} of ${s.acked} acknowledged message(s) missing from ${s.copy}`),
      ]),
  },
  {
    name: "integrity",
    description:
      "No update applied twice (balance above the sum of applied updates), no message duplicated or out of order in the surviving copy.",
    outcome: "breached",
    check: (run) =>
      each(run, (r) => [
        ...wlSteady(run, r, (w) =>
          w.ledger && w.ledger.duplicated > 0 ? `${w.workload}: ${w.ledger.duplicated} update(s) applied more than once` : undefined,
        ),
        ...r.streams
          .filter((s) => !s.error && (s.duplicated > 0 || s.outOfOrder > 0))
          .map((s) => `${repName(r)}: stream ${s.stream}: ${s.duplicated} duplicated, ${s.outOfOrder} out of order in ${s.copy}`),
      ]),
  },
  {
    name: "stop-condition",
    description: "No stop condition fired (a workload down longer than the declared factor times its objective).",
    outcome: "breached",
    check: (run) =>
      each(run, (r) => r.stopConditionsFired.map((s) => `${repName(r)}: ${s}; observation stopped and the faults were undone`)),
  },
  {
    name: "jetstream-api",
    description: "The JetStream API created a stream and a consumer while the fault held (the meta group kept its majority).",
    outcome: "breached",
    check: (run) =>
      each(run, (r) =>
        r.jetstreamApi && !r.jetstreamApi.ok ? [`${repName(r)}: JetStream API unavailable: ${r.jetstreamApi.error ?? "?"}`] : [],
      ),
  },
  {
    name: "steady-after-restore",
    description: "After restore every workload answered from every cloud and every mirror followed its source again.",
    outcome: "breached",
    check: (run) =>
      each(run, (r) =>
        r.timestamps.steadyAgain === null ? [`${repName(r)}: not steady again after restore: ${r.notSteadyReason ?? "unknown"}`] : [],
      ),
  },
];

export interface Judgement {
  readonly outcome: Outcome;
  /** Every rule that fired, breaches first. */
  readonly findings: readonly Finding[];
  /** One line: the word and its main reason. */
  readonly reason: string;
}

/** Apply every rule; MET only when none fires and at least one repetition was measured. */
export function judge(run: DrillRunRaw, rules: readonly VerdictRule[] = VERDICT_RULES): Judgement {
  const findings: Finding[] = rules.flatMap((rule) =>
    rule.check(run).map((reason) => ({ rule: rule.name, outcome: rule.outcome, reason })),
  );
  if (run.repetitions.length === 0 && !findings.length)
    findings.push({ rule: "interrupted", outcome: "inconclusive", reason: "no repetition was run" });
  findings.sort((a, b) => (a.outcome === b.outcome ? 0 : a.outcome === "breached" ? -1 : 1));
  const outcome: Outcome = findings.some((f) => f.outcome === "breached") ? "breached" : findings.length ? "inconclusive" : "met";
  const reason =
    outcome === "met"
      ? "every objective was measured and held, and every fault was shown to have taken effect"
      : `${findings[0]!.rule}: ${findings[0]!.reason}${findings.length > 1 ? ` (and ${findings.length - 1} more)` : ""}`;
  return { outcome, findings, reason };
}
