/**
 * Load and measurement during a drill: request probes per workload and client cloud, and JetStream
 * publishers that keep a ledger of every acknowledged message (with `Nats-Msg-Id` for de-duplication).
 */
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { headers, type NatsConnection } from "@nats-io/transport-node";
import { hubUrlsFor } from "../compile/nats";
import { connectLocal, jsOptions } from "../local/client";
import type { LocalRender } from "../local/state";
import type { Workload } from "../model/schema";
import { sampleLedgerUpdate, samplePayment } from "../lib/samples";

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
  /** The copy the acknowledged messages were looked up in (the source, or a mirror outside the lost cloud). */
  readonly copy: string;
  readonly acked: number;
  readonly recovered: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly outOfOrder: number;
  readonly lostIds: string[];
}

/** Look every acknowledged message up in a surviving copy (by sequence; mirrors keep the source's). */
export async function reconcileStream(
  nc: NatsConnection,
  r: LocalRender,
  stream: string,
  copy: string,
  acked: readonly PublishRecord[],
): Promise<Reconciliation> {
  const jsm = await jetstreamManager(nc, jsOptions(r.spec, 3000));
  const seen = new Map<string, number>();
  const lostIds: string[] = [];
  let outOfOrder = 0;
  let lastSeq = 0;
  let recovered = 0;
  for (const a of acked) {
    let found: string | undefined;
    let seq = 0;
    // Bounded retries: right after a cloud loss the copy's leader may still be being elected.
    for (let attempt = 0; attempt < 40 && found === undefined; attempt++) {
      try {
        const m = await jsm.streams.getMessage(copy, { seq: a.seq });
        found = m?.header?.get("Nats-Msg-Id") || m?.string();
        seq = m?.seq ?? 0;
      } catch (e) {
        if (/no message found|not found/i.test(String(e))) break;
        await new Promise((res) => setTimeout(res, 250));
      }
    }
    if (found === a.msgId) {
      recovered++;
      seen.set(a.msgId, (seen.get(a.msgId) ?? 0) + 1);
      if (seq < lastSeq) outOfOrder++;
      lastSeq = seq;
    } else lostIds.push(a.msgId);
  }
  const duplicated = [...seen.values()].filter((c) => c > 1).length;
  return { stream, copy, acked: acked.length, recovered, lost: lostIds.length, duplicated, outOfOrder, lostIds: lostIds.slice(0, 50) };
}

/** Stateful workload: after recovery, every acknowledged ledger update must be in the bucket. */
export async function reconcileLedger(
  nc: NatsConnection,
  r: LocalRender,
  bucket: string,
  ackedIds: readonly string[],
): Promise<{ acked: number; recovered: number; lost: number; lostIds: string[] }> {
  const kvm = new Kvm(jetstream(nc, jsOptions(r.spec, 3000)));
  let kv: Awaited<ReturnType<Kvm["open"]>> | undefined;
  for (let attempt = 0; attempt < 40 && !kv; attempt++) {
    kv = await kvm.open(bucket).catch(async () => {
      await new Promise((res) => setTimeout(res, 250));
      return undefined;
    });
  }
  if (!kv) throw new Error(`could not open KV bucket ${bucket} to reconcile the ledger`);
  const lostIds: string[] = [];
  let recovered = 0;
  for (const id of ackedIds) {
    let e;
    for (let attempt = 0; attempt < 40; attempt++) {
      try {
        e = await kv.get(`applied.${id}`);
        break;
      } catch {
        await new Promise((res) => setTimeout(res, 250));
      }
    }
    if (e && e.operation === "PUT") recovered++;
    else lostIds.push(id);
  }
  return { acked: ackedIds.length, recovered, lost: lostIds.length, lostIds: lostIds.slice(0, 50) };
}
