/**
 * A Wasm host of the local lattice, following the wasmCloud pattern: it connects to its own leaf sidecar
 * (or, for `direct` pools, to every cloud's hubs) with its own least-privilege credentials, runs the
 * workloads placed on its cloud in a queue group per workload, answers with the Wasm guest's output, and
 * publishes heartbeats. Active-passive standbys serve only while the primary cloud has no live instance.
 */
import * as path from "node:path";
import { jetstream } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import { headers, type Msg, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { latticeSubjects, workloadsOnHost } from "../../compile/credentials";
import { hubUrlsFor } from "../../compile/nats";
import { REPO_ROOT } from "../../paths";
import type { Workload } from "../../model/schema";
import type { HostNode } from "../../model/topology";
import { connectLocal, HOST_CONNECTION, serverUrls, jsOptions } from "../client";
import type { LocalRender } from "../state";
import { queueGroupOf } from "../../compile/workloadDeployment";
import { KvConflict, WasmPool, type BrokerMessage, type KvBackend, type WasmResult } from "../wasm/engine";

import { HEARTBEAT_MS, PRIMARY_DEAD_MS, START_WAIT_MS } from "./constants";
import { sleep } from "../../lib/time";

export interface Heartbeat {
  readonly host: string;
  readonly cloud: string;
  readonly pool: string;
  readonly connection: string;
  readonly pid: number;
  readonly uptimeMs: number;
  readonly workloads: { name: string; serving: boolean; served: number; errors: number; runnable: boolean; reason?: string }[];
  readonly connectedTo?: string;
}

interface Served {
  readonly w: Workload;
  pool?: WasmPool;
  sub?: Subscription;
  served: number;
  errors: number;
  reason?: string;
}

/**
 * The store under a workload's `wasi:keyvalue` (wash's semantics are in ../wasm/keyvalue.ts): the spec's
 * bucket, bound once the host is connected. A conditional update that loses is a KvConflict, which the guest
 * sees as wash's "wrong last revision". Concurrent updates go straight to JetStream: the pinned nats-server
 * checks the expected revision when the write is applied (nats-server#4320, fixed in 2.9.21), so of concurrent
 * updates expecting one revision exactly one wins (test/local/jetstream.test.ts).
 */
function kvBackend(holder: { kv?: KV }): KvBackend {
  const bucket = (): KV => {
    if (!holder.kv) throw new Error("key-value bucket not bound yet");
    return holder.kv;
  };
  return {
    async open() {
      bucket();
    },
    async entry(_b, key) {
      const e = await bucket().get(key);
      return e ? { value: e.value, revision: e.revision, deleted: e.operation !== "PUT" } : undefined;
    },
    put: (_b, key, value) => bucket().put(key, value),
    async update(_b, key, value, revision) {
      try {
        return await bucket().update(key, value, revision);
      } catch (e) {
        if (/wrong last sequence/i.test(String(e))) throw new KvConflict(key);
        throw e;
      }
    },
    async delete(_b, key) {
      await bucket().delete(key);
    },
    async keys() {
      const out: string[] = [];
      for await (const k of await bucket().keys()) out.push(k);
      return out;
    },
  };
}

export class WasmHost {
  private nc?: NatsConnection;
  private readonly served = new Map<string, Served>();
  private readonly lastPrimaryBeat = new Map<string, number>();
  private timers: NodeJS.Timeout[] = [];
  private started = Date.now();

  constructor(
    private readonly r: LocalRender,
    private readonly host: HostNode,
    private readonly log: (line: string) => void = () => {},
  ) {}

  /** Connection targets: the leaf sidecar, or every cloud's hubs in the pool's order. */
  private servers(): string[] {
    if (this.host.connection === "leaf") return serverUrls(this.r, [`${this.host.name}-leaf`]);
    return hubUrlsFor(this.r.spec, this.r.topo, this.r.layout.env, this.host.cloud, this.host.remoteOrder, "client", "tls");
  }

  /**
   * Start: compile the guests, connect, bind the key-value buckets, serve. A host may be started while its
   * servers are still starting (the lattice boots them together): refused connections and a JetStream API
   * or bucket that is not there yet are retried until START_WAIT_MS; wrong credentials fail at once.
   */
  async start(): Promise<void> {
    const { spec } = this.r;
    const buckets = new Map<string, { kv?: KV }>();
    for (const w of workloadsOnHost(spec, this.host)) {
      const s: Served = { w, served: 0, errors: 0 };
      this.served.set(w.name, s);
      if (!("path" in w.artifact)) {
        s.reason = "OCI artifacts run in the clouds only; the local lattice runs .wasm files";
        continue;
      }
      let kv: { bucket: string; backend: KvBackend } | undefined;
      if (w.kv) {
        const holder = buckets.get(w.kv) ?? {};
        buckets.set(w.kv, holder);
        kv = { bucket: w.kv, backend: kvBackend(holder) };
      }
      s.pool = await WasmPool.create({
        wasmFile: path.resolve(REPO_ROOT, w.artifact.path),
        limits: w.limits,
        // A guest waiting on key-value holds its worker: stateful pools grow while requests wait.
        size: 2,
        maxSize: w.kv ? 8 : 2,
        kv,
        request: (subject, body, timeoutMs) => this.request(subject, body, timeoutMs),
        name: w.name,
        // Workers start when the host starts serving the workload: a standby holds none (reconcile).
        startWorkers: false,
      });
    }
    const deadline = Date.now() + START_WAIT_MS;
    const options = {
      user: `host:${this.host.name}`,
      name: `host ${this.host.name}`,
      options: {
        servers: this.servers(),
        ...HOST_CONNECTION,
      },
    };
    for (;;) {
      try {
        this.nc = await connectLocal(this.r, options);
        break;
      } catch (e) {
        if (!/connection refused|timeout/i.test(String(e)) || Date.now() > deadline) throw e;
        await sleep(50);
      }
    }
    const kvm = new Kvm(jetstream(this.nc, jsOptions(spec, 2000)));
    for (const [bucket, holder] of buckets) {
      for (;;) {
        try {
          const kv = await kvm.open(bucket);
          await kv.status(); // the bucket exists (its stream answers)
          holder.kv = kv;
          break;
        } catch (e) {
          if (Date.now() > deadline) throw new Error(`key-value bucket ${bucket} not available: ${String(e)}`);
          await sleep(100);
        }
      }
    }
    this.started = Date.now();
    const { evt } = latticeSubjects(spec.name);
    // Track heartbeats of the primary cloud for active-passive workloads.
    this.nc.subscribe(`${evt}.host_heartbeat`, {
      callback: (_err, m) => {
        try {
          const hb = JSON.parse(m.string()) as Heartbeat;
          for (const wl of hb.workloads) if (wl.serving) this.lastPrimaryBeat.set(`${hb.cloud}/${wl.name}`, Date.now());
        } catch {
          // ignore malformed heartbeats
        }
      },
    });
    this.reconcile();
    this.timers.push(setInterval(() => this.reconcile(), HEARTBEAT_MS / 2));
    this.timers.push(setInterval(() => this.heartbeat(), HEARTBEAT_MS));
    this.heartbeat();
  }

  /** Should this host serve `w` now? Active-active: always. Active-passive: primary always, standby while the primary is silent. */
  private shouldServe(w: Workload): boolean {
    const fo = w.failover;
    if (fo.mode === "active-active" || fo.mode !== "active-passive") return true;
    if (this.host.cloud === fo.primary) return true;
    const last = this.lastPrimaryBeat.get(`${fo.primary}/${w.name}`) ?? 0;
    // Give the primary one grace period after start before promoting.
    return Date.now() - Math.max(last, this.started) > PRIMARY_DEAD_MS;
  }

  private reconcile(): void {
    if (!this.nc || this.nc.isClosed()) return;
    for (const s of this.served.values()) {
      if (!s.pool) continue;
      const want = this.shouldServe(s.w);
      if (want && !s.sub) {
        void s.pool.warm().catch((e: unknown) => this.log(`${s.w.name}: workers did not start: ${String(e)}`));
        // The queue group wash's messaging plugin joins with the WorkloadDeployment's consumer_group.
        s.sub = this.nc.subscribe(s.w.subject, { queue: queueGroupOf(this.r.spec, s.w), callback: (_e, m) => this.handle(s, m) });
        this.log(`serving ${s.w.name} on ${s.w.subject}`);
      } else if (!want && s.sub) {
        void s.sub.drain();
        s.sub = undefined;
        this.log(`standing by for ${s.w.name}`);
      }
    }
  }

  private replies: (() => void)[] = [];

  /**
   * Replies finished in one turn of the event loop go out together: nats.js writes to the socket once per
   * microtask flush, and each worker message is its own task, so replying at once costs a write each.
   */
  private reply(send: () => void): void {
    if (this.replies.push(send) === 1)
      setImmediate(() => {
        const all = this.replies;
        this.replies = [];
        for (const f of all) f();
      });
  }

  /** `consumer.request` for guests. */
  private async request(subject: string, body: Uint8Array, timeoutMs: number): Promise<BrokerMessage> {
    if (!this.nc) throw new Error("not connected");
    const m = await this.nc.request(subject, body, { timeout: timeoutMs });
    return { subject: m.subject, body: m.data, ...(m.reply ? { replyTo: m.reply } : {}) };
  }

  /**
   * One message, as wash's messaging plugin runs it: a fresh instance, then what the guest published is sent
   * (its reply to reply-to among it; handle-message's result is not a reply). A guest that runs inline is
   * answered in this same turn (nats.js writes once per turn anyway); a worker's answers are gathered per turn.
   */
  private handle(s: Served, m: Msg): void {
    const msg = { subject: m.subject, body: m.data, ...(m.reply ? { replyTo: m.reply } : {}) };
    const inline = s.pool!.runInline(msg);
    if (inline) return this.answer(s, m, inline, (send) => send());
    void s.pool!.handle(msg).then((res) => this.answer(s, m, res, (send) => this.reply(send)));
  }

  /**
   * Send what the guest published. Beyond wash: replies carry lf-host/lf-cloud/lf-duration-ms, and lf-error
   * when handle-message returned an error; a guest that traps or overruns before replying gets an error reply
   * from the host, so clients need not wait for a timeout.
   */
  private answer(s: Served, m: Msg, res: WasmResult, send: (f: () => void) => void): void {
    const h = headers();
    h.set("lf-host", this.host.name);
    h.set("lf-cloud", this.host.cloud);
    h.set("lf-duration-ms", res.durationMs.toFixed(3));
    const failed = !res.ok ? res.kind : res.handlerError !== undefined ? "guest" : undefined;
    if (failed) {
      s.errors++;
      h.set("lf-error", failed);
    } else s.served++;
    let replied = false;
    for (const p of res.published) {
      if (m.reply && p.subject === m.reply && !replied) {
        replied = true;
        send(() => m.respond(p.body, { headers: h }));
      } else send(() => this.nc?.publish(p.subject, p.body, p.replyTo ? { reply: p.replyTo } : {}));
    }
    if (!replied && m.reply && !res.ok) {
      send(() => m.respond(new TextEncoder().encode(JSON.stringify({ error: res.error, kind: res.kind })), { headers: h }));
    }
  }

  heartbeatBody(): Heartbeat {
    return {
      host: this.host.name,
      cloud: this.host.cloud,
      pool: this.host.pool,
      connection: this.host.connection,
      pid: process.pid,
      uptimeMs: Date.now() - this.started,
      connectedTo: this.nc?.getServer(),
      workloads: [...this.served.values()].map((s) => ({
        name: s.w.name,
        serving: !!s.sub,
        served: s.served,
        errors: s.errors,
        runnable: !!s.pool,
        ...(s.reason ? { reason: s.reason } : {}),
      })),
    };
  }

  private heartbeat(): void {
    if (!this.nc || this.nc.isClosed()) return;
    const { evt } = latticeSubjects(this.r.spec.name);
    try {
      this.nc.publish(`${evt}.host_heartbeat`, JSON.stringify(this.heartbeatBody()));
    } catch {
      // disconnected: the next beat goes out after reconnect
    }
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    if (this.nc && !this.nc.isClosed()) await this.nc.drain().catch(() => {});
    for (const s of this.served.values()) await s.pool?.close();
  }
}
