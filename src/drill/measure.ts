/**
 * Measurements a drill repetition takes besides its probes: raft leaders before the fault, the JetStream API
 * while it holds, recovery from samples, and whether the lattice is steady again after restore.
 */
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { mirrorName } from "../compile/jetstream";
import type { LocalRender } from "../local/state";
import { monitorJson } from "../local/supervisor";
import type { LatticeSpec } from "../model/schema";
import type { Sample } from "./probes";
import { percentile } from "../lib/stats";
import { sampleLedgerUpdate, samplePayment } from "../lib/samples";
import { jsOptions } from "../local/client";

export interface LatencyStats {
  readonly p50: number;
  readonly p99: number;
  readonly n: number;
}

export { sleep } from "../lib/time";
import { sleep } from "../lib/time";

/** The JetStream meta leader (from a running server's /jsz) and the leader of every stream, bucket and mirror. */
export async function raftLeaders(
  r: LocalRender,
  nc: NatsConnection,
): Promise<{ meta: string | null; streams: Record<string, string | null> }> {
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
export async function checkJetStreamApi(
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

/**
 * After restore, every mirror must follow its source again: publish a marker to each mirrored stream and wait
 * (bounded) until the mirror holds it. Undefined when all do, else what lags.
 */
export async function mirrorsCaughtUp(r: LocalRender, nc: NatsConnection, timeoutMs: number): Promise<string | undefined> {
  const mirrored = r.spec.streams.filter((s) => s.mirrors.length > 0);
  if (mirrored.length === 0) return undefined;
  const jsm = await jetstreamManager(nc, jsOptions(r.spec, 2000));
  const js = jetstream(nc, { domain: r.spec.jetstream.domain, timeout: 2000 });
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
export async function checkSteady(
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
