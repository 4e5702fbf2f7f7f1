/**
 * Load and measurement during a drill: request probes per workload and client cloud, and JetStream
 * publishers that keep a ledger of every acknowledged message (with `Nats-Msg-Id` for de-duplication).
 */
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { headers, type NatsConnection } from "@nats-io/transport-node";
import { hubUrlsFor } from "../compile/nats";
import { connectLocal, jsOptions } from "../local/client";
import { sampleLedgerUpdate, samplePayment } from "../lib/samples";
import type { LocalRender } from "../local/state";
import type { Workload } from "../model/schema";

export interface Sample {
  /** Milliseconds since the drill's clock origin (performance.now based). */
  readonly t: number;
  readonly ok: boolean;
  readonly latencyMs: number;
  readonly host?: string;
  readonly cloud?: string;
  readonly error?: string;
}

/** A client of `cloud` holding every cloud's hub URLs, its own cloud first: the direct-client connection mode. */
export function probeConnection(r: LocalRender, cloud: string, name: string): Promise<NatsConnection> {
  return connectLocal(r, {
    name,
    options: {
      servers: hubUrlsFor(r.spec, r.topo, r.layout.env, cloud, "home-first", "client", "tls"),
      noRandomize: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 20,
      // nats.js adds up to 1 s of random jitter before reconnecting over TLS by default: the largest part of a
      // direct client's failover time. Clients here are few; no jitter.
      reconnectJitter: 0,
      reconnectJitterTLS: 0,
      // A frozen server is found by pings; the connect timeout bounds each reconnect attempt.
      timeout: 250,
      pingInterval: 250,
      maxPingOut: 2,
    },
  });
}

/** Default payload for a workload's probe requests. */
export function probePayload(w: Workload, cloud: string, n: number, run: string): string {
  if (w.name === "ledger" || w.kv) return sampleLedgerUpdate(`${run}-${cloud}-${n}`, `drill-${run}-${cloud}`, 1);
  return samplePayment(`${run}-${n}`);
}

export class RequestProbe {
  readonly samples: Sample[] = [];
  /** Ids whose request was acknowledged (a successful reply): the stateful workload's ledger. */
  readonly acked: string[] = [];
  private timer?: NodeJS.Timeout;
  private inFlight = 0;
  private n = 0;

  constructor(
    private readonly nc: NatsConnection,
    readonly workload: Workload,
    readonly cloud: string,
    private readonly clock: () => number,
    private readonly opts: { rateHz: number; timeoutMs: number; run: string; maxInFlight?: number },
  ) {}

  start(): void {
    this.timer = setInterval(() => this.fire(), Math.max(1, Math.round(1000 / this.opts.rateHz)));
  }

  private fire(): void {
    if (this.inFlight >= (this.opts.maxInFlight ?? 8)) return;
    const n = this.n++;
    const payload = probePayload(this.workload, this.cloud, n, this.opts.run);
    const t = this.clock();
    this.inFlight++;
    this.nc
      .request(this.workload.subject, payload, { timeout: this.opts.timeoutMs })
      .then((m) => {
        const err = m.headers?.get("lf-error");
        const ok = !err;
        if (ok && this.workload.kv) this.acked.push(JSON.parse(payload).id as string);
        this.samples.push({
          t,
          ok,
          latencyMs: this.clock() - t,
          host: m.headers?.get("lf-host"),
          cloud: m.headers?.get("lf-cloud"),
          ...(err ? { error: err } : {}),
        });
      })
      .catch((e: unknown) =>
        this.samples.push({ t, ok: false, latencyMs: this.clock() - t, error: String((e as Error).message ?? e).slice(0, 80) }),
      )
      .finally(() => this.inFlight--);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (let i = 0; i < 100 && this.inFlight > 0; i++) await new Promise((r) => setTimeout(r, 20));
  }

  /** The ledger account this probe updates (see probePayload) and the ids it acknowledged. */
  ledgerAccount(): LedgerAccount {
    return {
      account: `drill-${this.opts.run}-${this.cloud}`,
      ackedIds: this.acked,
      idPrefix: `${this.opts.run}-${this.cloud}-`,
      sent: this.n,
    };
  }
}

export interface PublishRecord {
  readonly msgId: string;
  readonly seq: number;
  readonly t: number;
}

/** Publishes to a stream at a steady rate and keeps every acknowledgement (sequence and msg id). */
export class StreamPublisher {
  readonly acked: PublishRecord[] = [];
  failed = 0;
  private timer?: NodeJS.Timeout;
  private inFlight = 0;
  private n = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly r: LocalRender,
    readonly stream: string,
    readonly subject: string,
    private readonly clock: () => number,
    private readonly opts: { rateHz: number; timeoutMs: number; run: string },
  ) {}

  start(): void {
    const js = jetstream(this.nc, jsOptions(this.r.spec, this.opts.timeoutMs));
    this.timer = setInterval(
      () => {
        if (this.inFlight >= 16) return;
        const msgId = `${this.opts.run}-${this.stream}-${this.n++}`;
        const t = this.clock();
        this.inFlight++;
        const h = headers();
        h.set("lf-drill", this.opts.run);
        js.publish(this.subject, msgId, { msgID: msgId, headers: h, timeout: this.opts.timeoutMs })
          .then((pa) => {
            if (!pa.duplicate) this.acked.push({ msgId, seq: pa.seq, t });
          })
          .catch(() => this.failed++)
          .finally(() => this.inFlight--);
      },
      Math.max(1, Math.round(1000 / this.opts.rateHz)),
    );
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (let i = 0; i < 100 && this.inFlight > 0; i++) await new Promise((res) => setTimeout(res, 20));
  }
}

export interface Reconciliation {
  readonly stream: string;
  /** The copy the acknowledged messages were looked for in (the source, or a mirror outside the lost cloud). */
  readonly copy: string;
  readonly acked: number;
  readonly recovered: number;
  readonly lost: number;
  /** Extra copies of acknowledged messages found in the copy. */
  readonly duplicated: number;
  /** Acknowledged messages stored before one the source acknowledged earlier. */
  readonly outOfOrder: number;
  readonly lostIds: string[];
}

const pause = (ms: number) => new Promise((res) => setTimeout(res, ms));

/**
 * Scan the surviving copy (every message of the drill's subject, in stored order) and reconcile the
 * acknowledged messages against it: missing ones are lost, extra ones duplicated, and an acknowledged message
 * stored before one with a lower source sequence is out of order. Throws when the copy cannot be read.
 */
export async function reconcileStream(
  nc: NatsConnection,
  domain: string | undefined,
  stream: string,
  copy: string,
  subject: string,
  acked: readonly PublishRecord[],
  opts: { timeoutMs?: number } = {},
): Promise<Reconciliation> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30000);
  const js = jetstream(nc, { domain, timeout: 3000 });
  const stored: string[] = [];
  let lastError = "";
  // Bounded retries: right after a cloud loss the copy's leader may still be being elected. A retry rescans.
  for (let attempt = 0; attempt < 40 && Date.now() < deadline; attempt++) {
    stored.length = 0;
    try {
      const c = await js.consumers.get(copy, { filter_subjects: [subject] });
      for (let batch = 0; batch < 10000; batch++) {
        const it = await c.fetch({ max_messages: 500, expires: 1000 });
        let pending = 0;
        let got = 0;
        for await (const m of it) {
          stored.push(m.string());
          pending = m.info.pending;
          got++;
        }
        if (got === 0 || pending === 0) break;
        if (Date.now() > deadline) throw new Error(`scan of ${copy} did not finish in time`);
      }
      lastError = "";
      break;
    } catch (e) {
      lastError = String((e as Error).message ?? e);
      await pause(250);
    }
  }
  if (lastError) throw new Error(`could not read ${copy}: ${lastError}`);
  return reconcileAgainst(stream, copy, stored, acked);
}

/** Reconcile acknowledged messages against the ids stored in a copy, in stored order. Pure. */
export function reconcileAgainst(stream: string, copy: string, stored: readonly string[], acked: readonly PublishRecord[]): Reconciliation {
  const positions = new Map<string, number[]>();
  stored.forEach((id, i) => positions.set(id, [...(positions.get(id) ?? []), i]));
  const lostIds: string[] = [];
  let duplicated = 0;
  let outOfOrder = 0;
  let lastPos = -1;
  for (const a of [...acked].sort((x, y) => x.seq - y.seq)) {
    const at = positions.get(a.msgId);
    if (!at) {
      lostIds.push(a.msgId);
      continue;
    }
    duplicated += at.length - 1;
    if (at[0]! < lastPos) outOfOrder++;
    lastPos = Math.max(lastPos, at[0]!);
  }
  return {
    stream,
    copy,
    acked: acked.length,
    recovered: acked.length - lostIds.length,
    lost: lostIds.length,
    duplicated,
    outOfOrder,
    lostIds: lostIds.slice(0, 50),
  };
}

export interface LedgerAccount {
  readonly account: string;
  /** Ids whose update was acknowledged (each a delta of +1). */
  readonly ackedIds: readonly string[];
  /** Every id the drill sent for this account is `${idPrefix}${i}` for i < sent (acknowledged or not). */
  readonly idPrefix: string;
  readonly sent: number;
}

export interface LedgerReconciliation {
  readonly acked: number;
  readonly recovered: number;
  /** Acknowledged updates missing: no record of them, or a balance short of the updates known applied. */
  readonly lost: number;
  readonly lostIds: string[];
  /** Updates applied more than once: a balance above every update that could have been applied. */
  readonly duplicated: number;
  /** Updates known applied (acknowledged, or recorded) minus the balance, when positive. */
  readonly balanceShortfall: number;
  /**
   * Per account: the balance, the updates known applied (acknowledged or recorded), and those of unknown fate
   * (sent, failed or timed out at the client, no record): the balance must lie within known .. known + unknown.
   */
  readonly accounts: readonly { account: string; balance: number; knownApplied: number; unknownFate: number }[];
}

async function retried<T>(what: string, f: () => Promise<T>, attempts = 40): Promise<T> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      return await f();
    } catch (e) {
      last = e;
      await pause(250);
    }
  }
  throw new Error(`${what}: ${String((last as Error)?.message ?? last)}`);
}

/** A counter the ledger keeps with atomics.increment: a u64 big-endian (0 when absent). */
function counter(e: { operation: string; value: Uint8Array } | null): bigint {
  return e && e.operation === "PUT" && e.value.length >= 8 ? Buffer.from(e.value).readBigUInt64BE(0) : 0n;
}

/** One reading of the bucket: markers first, then balances (an update landing between is then of unknown fate). */
async function readLedger(
  kv: Awaited<ReturnType<Kvm["open"]>>,
  bucket: string,
  accounts: readonly LedgerAccount[],
): Promise<LedgerReconciliation> {
  const markers = await retried(
    `could not list the keys of KV bucket ${bucket}`,
    async () => {
      const out = new Set<string>();
      for await (const k of await kv.keys("applied.*")) out.add(k.slice("applied.".length));
      return out;
    },
    20,
  );
  const lostIds: string[] = [];
  let acked = 0;
  let shortfall = 0;
  let duplicated = 0;
  const out: LedgerReconciliation["accounts"][number][] = [];
  for (const a of accounts) {
    const read = (key: string) => retried(`could not read ${key} in ${bucket}`, () => kv.get(key), 20);
    const balance = Number(counter(await read(`credit.${a.account}`)) - counter(await read(`debit.${a.account}`)));
    const known = new Set([...a.ackedIds, ...[...markers].filter((id) => id.startsWith(a.idPrefix))]);
    for (const id of a.ackedIds) if (!markers.has(id)) lostIds.push(id);
    // A request that failed at the client may still have been applied (its marker lost with a crashed host).
    let unknownFate = 0;
    for (let i = 0; i < a.sent; i++) if (!known.has(`${a.idPrefix}${i}`)) unknownFate++;
    shortfall += Math.max(0, known.size - balance);
    duplicated += Math.max(0, balance - known.size - unknownFate);
    acked += a.ackedIds.length;
    out.push({ account: a.account, balance, knownApplied: known.size, unknownFate });
  }
  const lost = Math.max(lostIds.length, shortfall);
  return { acked, recovered: acked - lost, lost, lostIds: lostIds.slice(0, 50), duplicated, balanceShortfall: shortfall, accounts: out };
}

/**
 * Stateful workload: reconcile every account the drill updated (the ledger's layout: `credit.<account>` and
 * `debit.<account>` counters, `applied.<id>` markers written after the increment and before the reply). Each
 * drill update is +1: a balance below the updates known applied (acknowledged, or marked) lost some; one above
 * every update that could have been applied (known, plus those sent whose fate the client does not know)
 * applied some twice. A reading that disagrees is read again (a replica may lag) before it counts. Throws
 * when the bucket cannot be read: an unreachable bucket is no measurement.
 */
export async function reconcileLedger(
  nc: NatsConnection,
  domain: string | undefined,
  bucket: string,
  accounts: readonly LedgerAccount[],
): Promise<LedgerReconciliation> {
  // Replies that arrive from now on are not acknowledged for this reconciliation: their ids are of unknown fate.
  const frozen = accounts.map((a) => ({ ...a, ackedIds: [...a.ackedIds] }));
  const kvm = new Kvm(jetstream(nc, { domain, timeout: 3000 }));
  const kv = await retried(`could not open KV bucket ${bucket}`, () => kvm.open(bucket), 20);
  let rec = await readLedger(kv, bucket, frozen);
  for (let i = 0; i < 5 && (rec.lost > 0 || rec.duplicated > 0); i++) {
    await pause(1000);
    rec = await readLedger(kv, bucket, frozen);
  }
  return rec;
}
