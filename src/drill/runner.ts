/**
 * Runs a drill scenario against a running local lattice: steady state, fault injection, measurement until
 * recovery (or a stop condition), reconciliation of acknowledged messages in the surviving copies, restore,
 * and a check that the lattice is steady again. Produces raw measurements; `evidence/` turns them into a pack.
 */
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { mirrorName } from "../compile/jetstream";
import type { LocalRender } from "../local/state";
import { monitorJson, type Supervisor } from "../local/supervisor";
import type { LatticeSpec } from "../model/schema";
import { inject, restore, type FaultStep, type Injected } from "./faults";
import {
  probeConnection,
  reconcileLedger,
  reconcileStream,
  RequestProbe,
  StreamPublisher,
  type Reconciliation,
  type Sample,
} from "./probes";
import { sleep } from "../lib/time";
import { percentile } from "../lib/stats";
import { sampleLedgerUpdate, samplePayment } from "../lib/samples";
import { jsOptions } from "../local/client";

export interface DrillPlan {
  readonly id: string;
  readonly name: string;
  readonly hypothesis: string;
  readonly faults: readonly FaultStep[];
  /** Requests per second per workload per client cloud. */
  readonly rateHz: number;
  readonly requestTimeoutMs: number;
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

export interface LatencyStats {
  readonly p50: number;
  readonly p99: number;
  readonly n: number;
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
  readonly latency: { before: LatencyStats; during: LatencyStats; after: LatencyStats };
  readonly servedBy: Record<string, number>;
  /** Stateful workloads: acknowledged updates looked up after recovery. */
  readonly ledger?: { acked: number; recovered: number; lost: number; lostIds: string[] };
  readonly samples: readonly Sample[];
}

export interface StreamMeasurement extends Reconciliation {
  readonly placement: string;
  readonly mirrors: readonly string[];
  readonly mirrorLagAtFault?: number;
  readonly publishFailures: number;
  readonly note?: string;
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
}

/** The JetStream meta leader (from a running server's /jsz) and the leader of every stream, bucket and mirror. */
async function raftLeaders(r: LocalRender, nc: NatsConnection): Promise<{ meta: string | null; streams: Record<string, string | null> }> {
  let meta: string | null = null;
  for (const s of r.nats.servers) {
    const jsz = await monitorJson<{ meta_cluster?: { leader?: string } }>(s.monitorPort, "/jsz").catch(() => undefined);
    if (jsz?.meta_cluster?.leader) {
      meta = jsz.meta_cluster.leader;
      break;
    }
  }
  const names = [
    ...r.spec.streams.flatMap((s) => [s.name, ...s.mirrors.map((m) => mirrorName(s.name, m))]),
    ...r.spec.kv.map((b) => `KV_${b.bucket}`),
  ];
  const streams: Record<string, string | null> = {};
  const jsm = await jetstreamManager(nc, jsOptions(r.spec, 2000)).catch(() => undefined);
  for (const n of names) streams[n] = (await jsm?.streams.info(n).catch(() => undefined))?.cluster?.leader ?? null;
  return { meta, streams };
}

/** While the fault holds: can the JetStream API still create (and remove) a stream and a consumer? */
async function checkJetStreamApi(
  nc: NatsConnection,
  r: LocalRender,
  placement: string,
  run: string,
): Promise<{ ok: boolean; ms: number; error: string | null }> {
  const t0 = performance.now();
  const name = `DRILL_API_${run.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  let lastError = "";
  for (let attempt = 0; attempt < 20; attempt++) {
    // A fresh name per attempt: an attempt that timed out may still have created its stream.
    const stream = `${name}_${attempt}`;
    try {
      const jsm = await jetstreamManager(nc, jsOptions(r.spec, 2000));
      await jsm.streams.add({
        name: stream,
        subjects: [`drill.api.${stream}`],
        num_replicas: 1,
        placement: { cluster: placement, tags: [] },
      });
      await jsm.consumers.add(stream, { durable_name: "probe", ack_policy: AckPolicy.Explicit });
      await jsm.streams.delete(stream);
      return { ok: true, ms: +(performance.now() - t0).toFixed(1), error: null };
    } catch (e) {
      lastError = String((e as Error).message ?? e);
      await sleep(250);
    }
  }
  return { ok: false, ms: +(performance.now() - t0).toFixed(1), error: lastError.slice(0, 200) };
}

export function latencyStats(samples: readonly Sample[]): LatencyStats {
  const l = samples.filter((s) => s.ok).map((s) => s.latencyMs);
  return { p50: +(percentile(l, 50) ?? 0).toFixed(3), p99: +(percentile(l, 99) ?? 0).toFixed(3), n: l.length };
}

/**
 * Recovery time from samples relative to the injection (t = 0): the start of the first window of
 * `windowMs` after the first failure in which every request succeeded. Null when success never returned.
 */
export function recoveryFrom(
  samples: readonly Sample[],
  windowMs: number,
): { recoveryMs: number | null; firstFailure: number | null; firstSuccess: number | null } {
  const after = samples.filter((s) => s.t >= 0).sort((a, b) => a.t - b.t);
  const firstFail = after.find((s) => !s.ok);
  if (!firstFail) return { recoveryMs: 0, firstFailure: null, firstSuccess: null };
  const firstSuccess = after.find((s) => s.ok && s.t > firstFail.t)?.t ?? null;
  for (let i = 0; i < after.length; i++) {
    const s = after[i]!;
    if (!s.ok || s.t < firstFail.t) continue;
    const window = after.filter((x) => x.t >= s.t && x.t <= s.t + windowMs);
    const lastT = after[after.length - 1]!.t;
    if (lastT < s.t + windowMs) break; // not enough observation left to call it sustained
    if (window.every((x) => x.ok)) return { recoveryMs: s.t, firstFailure: firstFail.t, firstSuccess };
  }
  return { recoveryMs: null, firstFailure: firstFail.t, firstSuccess };
}

function objectiveOf(spec: LatticeSpec, plan: DrillPlan, w: LatticeSpec["workloads"][number]): { rtoMs: number; rpo: number } {
  const o = plan.objectives?.[w.name];
  return { rtoMs: (o?.rtoSeconds ?? w.objectives.rtoSeconds) * 1000, rpo: o?.rpoMessages ?? w.objectives.rpoMessages };
}

/** Clouds whose processes a plan takes down (for choosing surviving copies and probe homes). */
function lostClouds(plan: DrillPlan): string[] {
  return plan.faults.filter((f) => f.kind === "cloud-outage" && f.cloud).map((f) => f.cloud!);
}

export type Progress = (line: string) => void;

export async function runRepetition(
  r: LocalRender,
  sup: Supervisor,
  plan: DrillPlan,
  index: number,
  progress: Progress = () => {},
): Promise<RepetitionResult> {
  const { spec } = r;
  const run = `${plan.id}-${Date.now().toString(36)}-${index}`;
  // Probes stamp samples with the absolute clock; analysis shifts them so the injection is t = 0.
  let injAbs = performance.now();
  const absClock = () => performance.now();
  const clock = () => performance.now() - injAbs;
  const rel = (ss: readonly Sample[]): Sample[] => ss.map((x) => ({ ...x, t: x.t - injAbs }));
  const wallAt = (t: number) => new Date(Date.now() - (performance.now() - (t + injAbs))).toISOString();
  const startIso = new Date().toISOString();
  const lost = lostClouds(plan);

  const conns: NatsConnection[] = [];
  const probes: RequestProbe[] = [];
  const runnable = spec.workloads.filter((w) => w.runtime === "wasmcloud" && "path" in w.artifact);
  for (const cloud of spec.clouds.map((c) => c.name)) {
    const nc = await probeConnection(r, cloud, `drill probe ${cloud}`);
    conns.push(nc);
    for (const w of runnable)
      probes.push(new RequestProbe(nc, w, cloud, absClock, { rateHz: plan.rateHz, timeoutMs: plan.requestTimeoutMs, run }));
  }
  // Publishers live in a cloud the plan does not take down, as a surviving client would.
  const pubHome = spec.clouds.find((c) => !lost.includes(c.name))?.name ?? spec.clouds[0]!.name;
  const pubConn = await probeConnection(r, pubHome, "drill publisher");
  conns.push(pubConn);
  const publishers = plan.streams
    ? spec.streams.map(
        (s) =>
          new StreamPublisher(pubConn, r, s.name, s.subjects[0]!.replace(/\.>$/, ".drill").replace(/\*/g, "drill"), absClock, {
            rateHz: plan.rateHz,
            timeoutMs: 500,
            run,
          }),
      )
    : [];

  const fired: string[] = [];
  const injected: Injected[] = [];
  let restored = false;
  try {
    for (const p of probes) p.start();
    for (const p of publishers) p.start();
    progress(`  steady state for ${plan.warmupMs} ms`);
    await sleep(plan.warmupMs);

    // Mirror lag at the moment of the fault: how much an asynchronous copy can lose.
    const lagAtFault = new Map<string, number>();
    if (plan.streams) {
      const jsm = await jetstreamManager(pubConn, jsOptions(spec, 2000));
      for (const s of spec.streams) {
        for (const m of s.mirrors) {
          try {
            const [src, mir] = await Promise.all([jsm.streams.info(s.name), jsm.streams.info(mirrorName(s.name, m))]);
            lagAtFault.set(`${s.name}/${m}`, Math.max(0, src.state.last_seq - mir.state.last_seq));
          } catch {
            // unknown lag: reported as such
          }
        }
      }
    }

    // Which raft leaders the fault is about to take: a lost leader means an election before writes resume.
    const leadersAtFault = await raftLeaders(r, pubConn);
    progress(
      `  leaders before the fault: meta ${leadersAtFault.meta ?? "?"}; ${Object.entries(leadersAtFault.streams)
        .map(([k, v]) => `${k} ${v ?? "?"}`)
        .join(", ")}`,
    );

    // The fault: t = 0 of the measurement.
    injAbs = performance.now();
    const injectedIso = new Date().toISOString();
    for (const step of plan.faults) {
      const inj = await inject(r, sup, step, pubConn);
      injected.push(inj);
      progress(
        `  injected ${step.kind}${step.cloud ? ` on ${step.cloud}` : ""}: ${inj.action} ${inj.processes.join(", ") || "(nothing)"}${inj.reason ? ` — ${inj.reason}` : ""}`,
      );
    }
    // Timed faults (blackhole, partition, latency) heal after their duration, during the observation.
    const blackholeMs = Math.max(
      0,
      ...plan.faults.filter((f) => ["blackhole", "partition", "latency"].includes(f.kind)).map((f) => f.durationMs ?? 0),
    );

    // Observe until every workload has recovered (plus the sustained window) or a stop condition fires.
    const maxRto = Math.max(1000, ...runnable.map((w) => objectiveOf(spec, plan, w).rtoMs));
    const deadline = Math.min(plan.observeMs, plan.abortFactor * maxRto + plan.steadyWindowMs);
    let thawed = blackholeMs === 0;
    for (let i = 0; i < Math.ceil(deadline / 100) + 1; i++) {
      await sleep(100);
      const t = clock();
      if (!thawed && t >= blackholeMs) {
        for (const inj of injected) if (inj.action === "frozen" || inj.action === "network") await restore(r, sup, inj);
        thawed = true;
        progress(`  healed the timed faults at ${t.toFixed(0)} ms`);
      }
      const states = runnable.map((w) => {
        const samples = rel(probes.filter((p) => p.workload.name === w.name).flatMap((p) => p.samples));
        return { w, rec: recoveryFrom(samples, plan.steadyWindowMs) };
      });
      for (const { w, rec } of states) {
        const limit = plan.abortFactor * objectiveOf(spec, plan, w).rtoMs;
        if (
          rec.firstFailure !== null &&
          rec.recoveryMs === null &&
          t - rec.firstFailure > limit &&
          !fired.some((f) => f.startsWith(w.name))
        ) {
          fired.push(`${w.name}: down for more than ${plan.abortFactor} × its ${limit / plan.abortFactor / 1000} s objective`);
        }
      }
      if (fired.length) {
        progress(`  stop condition: ${fired.join("; ")}`);
        break;
      }
      if (t >= blackholeMs + plan.steadyWindowMs && states.every((s) => s.rec.recoveryMs !== null)) break;
    }
    for (const p of publishers) await p.stop();
    for (const p of probes) await p.stop();

    // The JetStream API (meta group) must still work while the fault holds: the tie-breaker's job.
    // Placed outside every cloud a fault touches: this checks the meta group, not a cluster that just lost a peer
    // (2.9.10 may still place an R1 stream on a peer it has not yet marked offline).
    const touched = new Set(plan.faults.map((f) => f.cloud).filter((c): c is string => !!c));
    const survivor = spec.clouds.find((c) => !touched.has(c.name))?.name ?? spec.clouds[0]!.name;
    const jetstreamApi = plan.streams ? await checkJetStreamApi(pubConn, r, survivor, run) : null;
    if (jetstreamApi)
      progress(
        `  JetStream API during the fault: ${jetstreamApi.ok ? `stream and consumer created in ${jetstreamApi.ms} ms` : `FAILED (${jetstreamApi.error})`}`,
      );

    // Reconcile before restoring: the RPO question is what survives if the lost cloud never returns.
    const streams: StreamMeasurement[] = [];
    for (const pub of publishers) {
      const s = spec.streams.find((x) => x.name === pub.stream)!;
      const sourceLost = lost.includes(s.placement.cluster);
      const survivingMirror = s.mirrors.find((m) => !lost.includes(m));
      const copy = sourceLost ? (survivingMirror ? mirrorName(s.name, survivingMirror) : undefined) : s.name;
      const lag = survivingMirror ? lagAtFault.get(`${s.name}/${survivingMirror}`) : undefined;
      if (!copy) {
        streams.push({
          stream: s.name,
          copy: "(none outside the lost cloud)",
          acked: pub.acked.length,
          recovered: 0,
          lost: pub.acked.length,
          duplicated: 0,
          outOfOrder: 0,
          lostIds: pub.acked.slice(0, 50).map((a) => a.msgId),
          placement: s.placement.cluster,
          mirrors: s.mirrors,
          publishFailures: pub.failed,
          note: "no copy of the stream outside the lost cloud: every acknowledged message is lost",
        });
        continue;
      }
      const rec = await reconcileStream(pubConn, r, s.name, copy, pub.acked);
      streams.push({
        ...rec,
        placement: s.placement.cluster,
        mirrors: s.mirrors,
        mirrorLagAtFault: lag,
        publishFailures: pub.failed,
        ...(sourceLost
          ? { note: `source lost with ${s.placement.cluster}; looked up in the asynchronous mirror ${copy} (loss up to its lag)` }
          : {}),
      });
    }

    const workloads: WorkloadMeasurement[] = [];
    for (const w of runnable) {
      const ps = probes.filter((p) => p.workload.name === w.name);
      const samples = rel(ps.flatMap((p) => p.samples)).sort((a, b) => a.t - b.t);
      const rec = recoveryFrom(samples, plan.steadyWindowMs);
      const o = objectiveOf(spec, plan, w);
      const servedBy: Record<string, number> = {};
      for (const s of samples) if (s.ok && s.cloud) servedBy[s.cloud] = (servedBy[s.cloud] ?? 0) + 1;
      const before = samples.filter((s) => s.t < 0);
      const recEnd = rec.recoveryMs ?? Infinity;
      const during = samples.filter((s) => s.t >= 0 && s.t < recEnd);
      const afterS = samples.filter((s) => s.t >= recEnd);
      const ledger = w.kv
        ? await reconcileLedger(
            pubConn,
            r,
            w.kv,
            ps.flatMap((p) => p.acked),
          ).catch(() => undefined)
        : undefined;
      workloads.push({
        workload: w.name,
        failover: w.failover.mode,
        objectiveRtoMs: o.rtoMs,
        objectiveRpo: o.rpo,
        recoveryMs: rec.recoveryMs === null ? null : +rec.recoveryMs.toFixed(1),
        firstFailureMs: rec.firstFailure === null ? null : +rec.firstFailure.toFixed(1),
        firstSuccessAfterFailureMs: rec.firstSuccess === null ? null : +rec.firstSuccess.toFixed(1),
        ok: samples.filter((s) => s.ok).length,
        failed: samples.filter((s) => !s.ok).length,
        latency: { before: latencyStats(before), during: latencyStats(during), after: latencyStats(afterS) },
        servedBy,
        ...(ledger ? { ledger } : {}),
        samples,
      });
    }

    const detectedT = Math.min(...workloads.map((w) => w.firstFailureMs ?? Infinity));
    const firstSuccessT = Math.max(...workloads.map((w) => w.firstSuccessAfterFailureMs ?? -Infinity));
    const steadyT = workloads.some((w) => w.recoveryMs === null) ? null : Math.max(0, ...workloads.map((w) => w.recoveryMs ?? 0));

    progress(`  restoring`);
    restored = true;
    for (const inj of injected) await restore(r, sup, inj);
    const restoredIso = new Date().toISOString();
    // Steady again: a fresh request to every workload from every cloud succeeds (bounded).
    const requestsSteady = await checkSteady(r, conns.slice(0, spec.clouds.length), runnable, plan.requestTimeoutMs);
    // Steady also means every mirror has caught up with its source again: a stale mirror is no copy.
    const mirrorsSteady = plan.streams ? await mirrorsCaughtUp(r, pubConn, 30000) : null;
    if (mirrorsSteady) progress(`  mirrors not caught up after restore: ${mirrorsSteady}`);
    const steadyAgain = mirrorsSteady ? null : requestsSteady;
    return {
      index,
      timestamps: {
        start: startIso,
        injected: injectedIso,
        detected: Number.isFinite(detectedT) ? wallAt(detectedT) : null,
        firstSuccess: Number.isFinite(firstSuccessT) ? wallAt(firstSuccessT) : null,
        steady: steadyT === null ? null : wallAt(steadyT),
        restored: restoredIso,
        steadyAgain,
        end: new Date().toISOString(),
      },
      faults: injected,
      workloads,
      streams,
      stopConditionsFired: fired,
      ...(steadyAgain === null ? { notSteadyReason: mirrorsSteady ?? "a workload did not answer from every cloud within 30 s" } : {}),
      leadersAtFault,
      jetstreamApi,
    };
  } finally {
    for (const p of probes) await p.stop();
    for (const p of publishers) await p.stop();
    for (const c of conns) await c.close().catch(() => {});
    // Whatever went wrong, never leave the lattice broken.
    if (!restored) for (const inj of injected) await restore(r, sup, inj).catch(() => {});
  }
}

/**
 * After restore, every mirror must follow its source again: publish a marker to each mirrored stream and wait
 * (bounded) until the mirror holds it. Undefined when all do, else what lags.
 */
async function mirrorsCaughtUp(r: LocalRender, nc: NatsConnection, timeoutMs: number): Promise<string | undefined> {
  const mirrored = r.spec.streams.filter((s) => s.mirrors.length > 0);
  if (mirrored.length === 0) return undefined;
  const jsm = await jetstreamManager(nc, jsOptions(r.spec, 2000));
  const js = jetstream(nc, jsOptions(r.spec, 2000));
  const targets: { src: string; mir: string; seq: number }[] = [];
  for (const s of mirrored) {
    let seq = 0;
    for (let i = 0; i < 40 && !seq; i++) {
      seq = await js
        .publish(s.subjects[0]!.replace(/\.>$/, ".drill-marker").replace(/\*/g, "drill-marker"), "marker")
        .then((pa) => pa.seq)
        .catch(async () => {
          await sleep(250);
          return 0;
        });
    }
    for (const m of s.mirrors) targets.push({ src: s.name, mir: mirrorName(s.name, m), seq });
  }
  let lagging = "";
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 300 && Date.now() < deadline; i++) {
    lagging = "";
    for (const t of targets) {
      if (!t.seq) {
        lagging += `${t.src} accepts no publish; `;
        continue;
      }
      const last = await jsm.streams
        .info(t.mir)
        .then((b) => b.state.last_seq)
        .catch(() => -1);
      if (last < t.seq) lagging += `${t.mir} does not follow ${t.src} (has seq ${last}, source at ${t.seq}); `;
    }
    if (!lagging) return undefined;
    await sleep(250);
  }
  return `${lagging.trim()} after ${timeoutMs / 1000} s`;
}

/** After restore: every workload answers from every cloud within a bounded time. ISO time or null. */
async function checkSteady(
  r: LocalRender,
  conns: NatsConnection[],
  ws: LatticeSpec["workloads"],
  timeoutMs: number,
): Promise<string | null> {
  const deadline = Date.now() + 30000;
  for (let i = 0; i < 300 && Date.now() < deadline; i++) {
    let allOk = true;
    for (const nc of conns) {
      for (const w of ws) {
        try {
          const payload = w.kv ? sampleLedgerUpdate(`steady-${Date.now()}-${i}`, "drill-steady", 0) : samplePayment("steady", 1);
          const m = await nc.request(w.subject, payload, { timeout: timeoutMs });
          if (m.headers?.get("lf-error")) allOk = false;
        } catch {
          allOk = false;
        }
      }
    }
    if (allOk) return new Date().toISOString();
    await sleep(100);
  }
  void r;
  return null;
}
