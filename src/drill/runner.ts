/**
 * Runs one repetition of a drill scenario against a running local lattice, in named phases: start load,
 * snapshot, inject, observe, reconcile, restore, settle. Produces raw measurements; `evidence.ts` and
 * `verdict.ts` turn them into a pack and a verdict. An abort (operator or error) between phases is recorded
 * as `interrupted` with the phase it stopped at, and the faults are still undone.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { mirrorName } from "../compile/jetstream";
import { jsOptions } from "../local/client";
import type { LocalRender } from "../local/state";
import type { Supervisor } from "../local/supervisor";
import { checkEffect } from "./effects";
import { inject, restore } from "./faults";
import { checkSteady, mirrorsCaughtUp, raftLeaders, recoveryFrom, sleep } from "./measure";
import { probeConnection, RequestProbe, StreamPublisher } from "./probes";
import { objectiveOf, reconcile } from "./reconcile";
import { rel, touchedClouds, wallAt, type Progress, type Rep } from "./repetition";
import type { DrillPlan, Interrupted, RepetitionResult } from "./types";
import { answeredBetween } from "./verdict";

export { latencyStats, recoveryFrom, type LatencyStats } from "./measure";
export { lostClouds, touchedBy, touchedClouds, type Progress } from "./repetition";
export type { DrillPlan, Interrupted, RepetitionResult, StreamMeasurement, WorkloadMeasurement } from "./types";

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
