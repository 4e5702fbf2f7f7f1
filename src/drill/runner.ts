/**
 * Runs one repetition of a drill scenario against a running local lattice, in named phases: start load,
 * snapshot, inject, observe, reconcile, restore, settle. Produces raw measurements; `evidence.ts` and
 * `verdict.ts` turn them into a pack and a verdict. An abort (operator or error) between phases is recorded
 * as `interrupted` with the phase it stopped at, and the faults are still undone.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { mirrorName } from "../compile/jetstream";
import { jsOptions } from "../local/client";
import type { LocalRender } from "../local/state";
import type { Supervisor } from "../local/supervisor";
import type { LatticeSpec } from "../model/schema";
import { checkEffect } from "./effects";
import { inject, restore, type FaultStep, type Injected } from "./faults";
import { checkJetStreamApi, checkSteady, latencyStats, mirrorsCaughtUp, raftLeaders, recoveryFrom, sleep } from "./measure";
import {
  probeConnection,
  reconcileLedger,
  reconcileStream,
  RequestProbe,
  StreamPublisher,
  type LedgerReconciliation,
  type Sample,
} from "./probes";

export { latencyStats, recoveryFrom, type LatencyStats } from "./measure";
export type { DrillPlan, Interrupted, RepetitionResult, StreamMeasurement, WorkloadMeasurement } from "./types";
import { answeredBetween } from "./verdict";
import type { DrillPlan, Interrupted, RepetitionResult, StreamMeasurement, WorkloadMeasurement } from "./types";

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

function objectiveOf(plan: DrillPlan, w: LatticeSpec["workloads"][number]): { rtoMs: number; rpo: number } {
  const o = plan.objectives?.[w.name];
  return { rtoMs: (o?.rtoSeconds ?? w.objectives.rtoSeconds) * 1000, rpo: o?.rpoMessages ?? w.objectives.rpoMessages };
}

export type Progress = (line: string) => void;

/** The state a repetition's phases share. */
interface Rep {
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

const rel = (x: Rep, ss: readonly Sample[]): Sample[] => ss.map((s) => ({ ...s, t: s.t - x.injAbs }));
const wallAt = (x: Rep, t: number) => new Date(Date.now() - (performance.now() - (t + x.injAbs))).toISOString();

/** Phase "start load": request probes from every client cloud and stream publishers, then the steady state. */
async function startLoad(x: Rep): Promise<void> {
  const { r, plan } = x;
  const absClock = () => performance.now();
  for (const cloud of r.spec.clouds.map((c) => c.name)) {
    const nc = await probeConnection(r, cloud, `drill probe ${cloud}`);
    x.conns.push(nc);
    for (const w of x.runnable)
      x.probes.push(new RequestProbe(nc, w, cloud, absClock, { rateHz: plan.rateHz, timeoutMs: plan.requestTimeoutMs, run: x.run }));
  }
  // Publishers live in a cloud no fault touches where there is one, as a surviving client would.
  const touched = touchedClouds(r.spec, plan);
  const pubHome = r.spec.clouds.find((c) => !touched.includes(c.name))?.name ?? r.spec.clouds[0]!.name;
  x.pubConn = await probeConnection(r, pubHome, "drill publisher");
  x.conns.push(x.pubConn);
  x.publishers = plan.streams
    ? r.spec.streams.map(
        (s) =>
          new StreamPublisher(x.pubConn!, r, s.name, drillSubject(s.subjects[0]!), absClock, {
            rateHz: plan.rateHz,
            timeoutMs: 500,
            run: x.run,
          }),
      )
    : [];
  for (const p of x.probes) p.start();
  for (const p of x.publishers) p.start();
  x.progress(`  steady state for ${plan.warmupMs} ms`);
  await sleep(plan.warmupMs);
  // Inject only into a steady lattice: wait (bounded) until every probe's last window of finished requests all
  // succeeded. A lattice that never gets there is still drilled, and the verdict says it was not steady.
  const start = performance.now();
  for (let i = 0; i < 300 && performance.now() - start < 30000 && !steadyNow(x); i++) await sleep(100);
  if (!steadyNow(x)) x.progress(`  not steady after ${plan.warmupMs + 30000} ms of load: injecting anyway`);
  else if (performance.now() - start > 150) x.progress(`  steady after ${Math.round(plan.warmupMs + performance.now() - start)} ms`);
}

/** The verdict's steady-state rule, applied now: every probe's requests of the last window answered, all successes. */
function steadyNow(x: Rep): boolean {
  const now = performance.now();
  return x.probes.every((p) => {
    const w = answeredBetween(p.samples, now - x.plan.steadyWindowMs, now);
    return w.length > 0 && w.every((s) => s.ok);
  });
}

const drillSubject = (pattern: string) => pattern.replace(/\.>$/, ".drill").replace(/\*/g, "drill");

/** Phase "snapshot": mirror lag and raft leaders just before the fault (what the fault is about to take). */
async function snapshot(x: Rep): Promise<void> {
  const { r } = x;
  if (x.plan.streams) {
    const jsm = await jetstreamManager(x.pubConn!, jsOptions(r.spec, 2000));
    for (const s of r.spec.streams)
      for (const m of s.mirrors) {
        const lag = await Promise.all([jsm.streams.info(s.name), jsm.streams.info(mirrorName(s.name, m))])
          .then(([src, mir]) => Math.max(0, src.state.last_seq - mir.state.last_seq))
          .catch(() => undefined); // unknown lag: reported as such
        if (lag !== undefined) x.lagAtFault.set(`${s.name}/${m}`, lag);
      }
  }
  x.leadersAtFault = await raftLeaders(r, x.pubConn!);
  x.progress(
    `  leaders before the fault: meta ${x.leadersAtFault.meta ?? "?"}; ${Object.entries(x.leadersAtFault.streams)
      .map(([k, v]) => `${k} ${v ?? "?"}`)
      .join(", ")}`,
  );
}

/** Phase "inject": every fault, each followed by its own check that it took effect. t = 0 of the measurement. */
async function injectFaults(x: Rep): Promise<void> {
  x.injAbs = performance.now();
  x.iso.injected = new Date().toISOString();
  for (const step of x.plan.faults) {
    const inj = await inject(x.r, x.sup, step, x.pubConn);
    x.injected.push(inj);
    inj.effect = await checkEffect(x.r, inj);
    x.progress(
      `  injected ${step.kind}${step.cloud ? ` on ${step.cloud}` : ""}: ${inj.action} ${inj.processes.join(", ") || "(nothing)"}${inj.reason ? ` — ${inj.reason}` : ""}; effect ${inj.effect.ok ? "confirmed" : "NOT SHOWN"}: ${inj.effect.detail}`,
    );
  }
}

/**
 * Phase "observe": until every workload has recovered and the minimum observation has passed, or a stop
 * condition fires. Timed faults are held for their declared duration and observed past their end; a fault
 * whose effect starts late is still seen, since observation lasts at least the largest objective.
 */
async function observe(x: Rep, signal?: AbortSignal): Promise<void> {
  const { plan } = x;
  const clock = () => performance.now() - x.injAbs;
  const timed = x.injected.filter((i) => i.step.durationMs !== undefined && (i.action === "frozen" || i.action === "network"));
  const heldUntil = Math.max(0, ...timed.map((i) => i.step.durationMs!));
  const maxRto = Math.max(1000, ...x.runnable.map((w) => objectiveOf(plan, w).rtoMs));
  const sampleMs = Math.ceil((plan.minSamplesPerCloud / plan.rateHz) * 1000);
  const minEnd = Math.max(heldUntil + plan.steadyWindowMs, maxRto, sampleMs) + 100;
  const deadline = Math.max(minEnd, Math.min(plan.observeMs, plan.abortFactor * maxRto + plan.steadyWindowMs));
  for (let i = 0; i < Math.ceil(deadline / 100) + 2 && !signal?.aborted; i++) {
    await sleep(100);
    const t = clock();
    for (const inj of timed)
      if (inj.heldMs === undefined && t >= inj.step.durationMs!) {
        await restore(x.r, x.sup, inj);
        inj.heldMs = +clock().toFixed(1);
        x.progress(`  healed ${inj.step.kind} after ${inj.heldMs.toFixed(0)} ms (declared ${inj.step.durationMs} ms)`);
      }
    const states = x.runnable.map((w) => ({
      w,
      rec: recoveryFrom(
        rel(
          x,
          x.probes.filter((p) => p.workload.name === w.name).flatMap((p) => p.samples),
        ),
        plan.steadyWindowMs,
      ),
    }));
    for (const { w, rec } of states) {
      const limit = plan.abortFactor * objectiveOf(plan, w).rtoMs;
      if (
        rec.firstFailure !== null &&
        rec.recoveryMs === null &&
        t - rec.firstFailure > limit &&
        !x.fired.some((f) => f.startsWith(w.name))
      )
        x.fired.push(`${w.name}: down for more than ${plan.abortFactor} × its ${limit / plan.abortFactor / 1000} s objective`);
    }
    if (x.fired.length) {
      x.progress(`  stop condition: ${x.fired.join("; ")}`);
      break;
    }
    if (t >= minEnd && states.every((s) => s.rec.recoveryMs !== null)) break;
    if (t >= deadline) break;
  }
  for (const p of x.publishers) await p.stop();
  for (const p of x.probes) await p.stop();
}

/**
 * Phase "reconcile", while the fault still holds (the RPO question is what survives if the lost cloud never
 * returns): the JetStream API, each stream's surviving copy scanned, each ledger's balances. A copy or bucket
 * that cannot be read is recorded as an error, never as zero lost.
 */
async function reconcile(x: Rep): Promise<void> {
  const { r, plan } = x;
  const spec = r.spec;
  const touched = touchedClouds(spec, plan);
  const lost = lostClouds(spec, plan);
  // The meta group, checked outside every cloud a fault touches (not a cluster that just lost a peer).
  const survivor = spec.clouds.find((c) => !touched.includes(c.name))?.name ?? spec.clouds[0]!.name;
  x.jetstreamApi = plan.streams ? await checkJetStreamApi(x.pubConn!, r, survivor, x.run) : null;
  if (x.jetstreamApi)
    x.progress(
      `  JetStream API during the fault: ${x.jetstreamApi.ok ? `stream and consumer created in ${x.jetstreamApi.ms} ms` : `FAILED (${x.jetstreamApi.error})`}`,
    );
  for (const pub of x.publishers) x.streams.push(await reconcileOne(x, pub, lost));
  for (const w of x.runnable) x.workloads.push(await measureWorkload(x, w));
}

async function reconcileOne(x: Rep, pub: StreamPublisher, lost: readonly string[]): Promise<StreamMeasurement> {
  const s = x.r.spec.streams.find((st) => st.name === pub.stream)!;
  const sourceLost = lost.includes(s.placement.cluster);
  const survivingMirror = s.mirrors.find((m) => !lost.includes(m));
  const copy = sourceLost ? (survivingMirror ? mirrorName(s.name, survivingMirror) : undefined) : s.name;
  const base = { placement: s.placement.cluster, mirrors: s.mirrors, publishFailures: pub.failed };
  if (!copy)
    return {
      ...base,
      stream: s.name,
      copy: "(none outside the lost cloud)",
      acked: pub.acked.length,
      recovered: 0,
      lost: pub.acked.length,
      duplicated: 0,
      outOfOrder: 0,
      lostIds: pub.acked.slice(0, 50).map((a) => a.msgId),
      note: "no copy of the stream outside the lost cloud: every acknowledged message is lost",
    };
  const lag = survivingMirror ? x.lagAtFault.get(`${s.name}/${survivingMirror}`) : undefined;
  const note = sourceLost
    ? { note: `source lost with ${s.placement.cluster}; scanned the asynchronous mirror ${copy} (loss up to its lag)` }
    : {};
  try {
    const rec = await reconcileStream(x.pubConn!, x.r.spec.jetstream.domain, s.name, copy, pub.subject, pub.acked);
    return { ...rec, ...base, mirrorLagAtFault: lag, ...note };
  } catch (e) {
    const error = String((e as Error).message ?? e).slice(0, 300);
    return {
      ...base,
      stream: s.name,
      copy,
      acked: pub.acked.length,
      recovered: 0,
      lost: 0,
      duplicated: 0,
      outOfOrder: 0,
      lostIds: [],
      mirrorLagAtFault: lag,
      ...note,
      error,
    };
  }
}

async function measureWorkload(x: Rep, w: LatticeSpec["workloads"][number]): Promise<WorkloadMeasurement> {
  const ps = x.probes.filter((p) => p.workload.name === w.name);
  const samples = rel(
    x,
    ps.flatMap((p) => p.samples),
  ).sort((a, b) => a.t - b.t);
  const rec = recoveryFrom(samples, x.plan.steadyWindowMs);
  const o = objectiveOf(x.plan, w);
  const servedBy: Record<string, number> = {};
  for (const s of samples) if (s.ok && s.cloud) servedBy[s.cloud] = (servedBy[s.cloud] ?? 0) + 1;
  const samplesAfterFault = Object.fromEntries(ps.map((p) => [p.cloud, rel(x, p.samples).filter((s) => s.t >= 0).length]));
  const recEnd = rec.recoveryMs ?? Infinity;
  let ledger: LedgerReconciliation | undefined;
  let ledgerError: string | undefined;
  if (w.kv)
    try {
      ledger = await reconcileLedger(
        x.pubConn!,
        x.r.spec.jetstream.domain,
        w.kv,
        ps.map((p) => p.ledgerAccount()),
      );
    } catch (e) {
      ledgerError = String((e as Error).message ?? e).slice(0, 300);
      x.progress(`  ${w.name}: ledger NOT reconciled: ${ledgerError}`);
    }
  const fix = (v: number | null) => (v === null ? null : +v.toFixed(1));
  return {
    workload: w.name,
    failover: w.failover.mode,
    objectiveRtoMs: o.rtoMs,
    objectiveRpo: o.rpo,
    recoveryMs: fix(rec.recoveryMs),
    firstFailureMs: fix(rec.firstFailure),
    firstSuccessAfterFailureMs: fix(rec.firstSuccess),
    ok: samples.filter((s) => s.ok).length,
    failed: samples.filter((s) => !s.ok).length,
    samplesAfterFault,
    latency: {
      before: latencyStats(samples.filter((s) => s.t < 0)),
      during: latencyStats(samples.filter((s) => s.t >= 0 && s.t < recEnd)),
      after: latencyStats(samples.filter((s) => s.t >= recEnd)),
    },
    servedBy,
    ...(ledger ? { ledger } : {}),
    ...(ledgerError ? { ledgerError } : {}),
    samples,
  };
}

/** Phase "restore": undo every fault still in place (also after an abort). */
async function restoreFaults(x: Rep): Promise<void> {
  x.progress(`  restoring`);
  x.restored = true;
  for (const inj of x.injected) {
    if (inj.step.durationMs !== undefined && inj.heldMs === undefined && inj.action !== "skipped")
      inj.heldMs = +(performance.now() - x.injAbs).toFixed(1);
    await restore(x.r, x.sup, inj);
  }
  x.iso.restored = new Date().toISOString();
}

/** Phase "settle": a fresh request to every workload from every cloud succeeds, and every mirror follows again. */
async function settle(x: Rep): Promise<void> {
  const requestsSteady = await checkSteady(x.r, x.conns.slice(0, x.r.spec.clouds.length), x.runnable, x.plan.requestTimeoutMs);
  const mirrorsLag = x.plan.streams ? await mirrorsCaughtUp(x.r, x.pubConn!, 60000) : undefined;
  if (mirrorsLag) x.progress(`  mirrors not caught up after restore: ${mirrorsLag}`);
  x.iso.steadyAgain = mirrorsLag ? null : requestsSteady;
  if (x.iso.steadyAgain === null) x.notSteadyReason = mirrorsLag ?? "a workload did not answer from every cloud within 30 s";
}

const PHASES: readonly (readonly [string, (x: Rep, signal?: AbortSignal) => Promise<void>])[] = [
  ["start load", startLoad],
  ["snapshot", snapshot],
  ["inject", injectFaults],
  ["observe", observe],
  ["reconcile", reconcile],
];

export async function runRepetition(
  r: LocalRender,
  sup: Supervisor,
  plan: DrillPlan,
  index: number,
  progress: Progress = () => {},
  opts: { signal?: AbortSignal } = {},
): Promise<RepetitionResult> {
  const { signal } = opts;
  const x: Rep = {
    r,
    sup,
    plan,
    index,
    progress,
    run: `${plan.id}-${Date.now().toString(36)}-${index}`,
    runnable: r.spec.workloads.filter((w) => w.runtime === "wasmcloud" && "path" in w.artifact),
    conns: [],
    probes: [],
    publishers: [],
    injAbs: performance.now(),
    injected: [],
    fired: [],
    iso: { start: new Date().toISOString(), injected: null, restored: null, steadyAgain: null },
    lagAtFault: new Map(),
    jetstreamApi: null,
    streams: [],
    workloads: [],
    restored: false,
  };
  let interrupted: Interrupted | undefined;
  const abortedBy = (step: string): Interrupted => ({ by: "operator", step, detail: signal?.reason ? String(signal.reason) : undefined });
  try {
    for (const [step, phase] of PHASES) {
      if (signal?.aborted) {
        interrupted = abortedBy(step);
        break;
      }
      try {
        await phase(x, signal);
      } catch (e) {
        interrupted = { by: "error", step, detail: String((e as Error).message ?? e).slice(0, 300) };
        progress(`  ${step} failed: ${interrupted.detail}`);
        break;
      }
      // An abort during observation cuts it short: that phase did not finish.
      if (signal?.aborted) {
        interrupted = abortedBy(step);
        break;
      }
    }
    await restoreFaults(x);
    if (!interrupted) await settle(x);
    return result(x, interrupted);
  } finally {
    for (const p of x.probes) await p.stop();
    for (const p of x.publishers) await p.stop();
    for (const c of x.conns) await c.close().catch(() => {});
    // Whatever went wrong, never leave the lattice broken.
    if (!x.restored) for (const inj of x.injected) await restore(r, sup, inj).catch(() => {});
  }
}

function result(x: Rep, interrupted: Interrupted | undefined): RepetitionResult {
  const detectedT = Math.min(...x.workloads.map((w) => w.firstFailureMs ?? Infinity));
  const firstSuccessT = Math.max(...x.workloads.map((w) => w.firstSuccessAfterFailureMs ?? -Infinity));
  const steadyT = x.workloads.some((w) => w.recoveryMs === null) ? null : Math.max(0, ...x.workloads.map((w) => w.recoveryMs ?? 0));
  const now = new Date().toISOString();
  return {
    index: x.index,
    timestamps: {
      start: x.iso.start!,
      injected: x.iso.injected ?? now,
      detected: Number.isFinite(detectedT) ? wallAt(x, detectedT) : null,
      firstSuccess: Number.isFinite(firstSuccessT) ? wallAt(x, firstSuccessT) : null,
      steady: steadyT === null || !x.workloads.length ? null : wallAt(x, steadyT),
      restored: x.iso.restored ?? now,
      steadyAgain: x.iso.steadyAgain ?? null,
      end: now,
    },
    faults: x.injected,
    workloads: x.workloads,
    streams: x.streams,
    stopConditionsFired: x.fired,
    ...(x.notSteadyReason ? { notSteadyReason: x.notSteadyReason } : {}),
    ...(x.leadersAtFault ? { leadersAtFault: x.leadersAtFault } : {}),
    jetstreamApi: x.jetstreamApi,
    ...(interrupted ? { interrupted } : {}),
  };
}
