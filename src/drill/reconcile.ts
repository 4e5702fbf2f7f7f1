/**
 * Phase "reconcile" of a repetition: what survived the fault, measured while it still holds. Streams are
 * scanned in their surviving copy, ledgers reconciled against the updates their clients know, and each
 * workload's recovery, latency and samples collected.
 */
import { mirrorName } from "../compile/jetstream";
import type { LatticeSpec } from "../model/schema";
import { checkJetStreamApi, latencyStats, recoveryFrom } from "./measure";
import { reconcileLedger, reconcileStream, type LedgerReconciliation, type StreamPublisher } from "./probes";
import { lostClouds, rel, touchedClouds, type Rep } from "./repetition";
import type { DrillPlan, StreamMeasurement, WorkloadMeasurement } from "./types";

export function objectiveOf(plan: DrillPlan, w: LatticeSpec["workloads"][number]): { rtoMs: number; rpo: number } {
  const o = plan.objectives?.[w.name];
  return { rtoMs: (o?.rtoSeconds ?? w.objectives.rtoSeconds) * 1000, rpo: o?.rpoMessages ?? w.objectives.rpoMessages };
}

/**
 * Phase "reconcile", while the fault still holds (the RPO question is what survives if the lost cloud never
 * returns): the JetStream API, each stream's surviving copy scanned, each ledger's balances. A copy or bucket
 * that cannot be read is recorded as an error, never as zero lost.
 */
export async function reconcile(x: Rep): Promise<void> {
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
