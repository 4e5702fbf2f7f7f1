/**
 * The Wasm engine of the local lattice's hosts: workload components (wit/world.wit) on Node's WebAssembly,
 * inline on the caller's thread (inline.ts) or in worker threads (this file, worker.cjs).
 *
 * - Load (prepare.ts): the file must be a component of the world: its imports within the allow-list (key-value
 *   only for a workload that declares `kv`), `wasmcloud:messaging/handler@0.2.0` exported. Anything else is
 *   refused with what is wrong, before a worker starts.
 * - Fast path (a component with one core module of its own, plus wit-component's indirection modules): the
 *   core module runs with our canonical-ABI glue (fastGlue.cjs), its memory turned into an import the worker
 *   pools and zeroes, capped at the workload's limit. General path (any other component): `jco transpile`
 *   output, each core memory capped (transpile.ts). Both give each message a fresh instance.
 * - Capabilities with wash 2.7's semantics (keyvalue.ts): publish and request, key-value on the workload's
 *   declared bucket. The guest's publishes are handed to the host when it returns.
 * - A guest that loops is stopped by terminating its worker at the message's time limit (the only way to
 *   interrupt running Wasm in Node); a fresh worker takes its place.
 * - Inline: a fast-path component without key-value runs on the host's own thread, through the same glue
 *   (fastGlue.cjs), with fuel checks compiled in (meter.ts) that end it at its time limit. No thread hand-off:
 *   this is what brings a request's cost near a plain NATS responder's. A guest that calls `request` (which
 *   must block) is re-run from scratch in a worker (nothing it did was sent yet), and a guest that overran its
 *   time once, or calls `request`, runs in workers from then on, where it cannot hold up the host's thread.
 */
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import { REPO_ROOT } from "../../paths";
import { pagesOf } from "./binary";
import { InlineRunner } from "./inline";
import { KvError, washKv } from "./keyvalue";
import { prepare, type WorkerData } from "./prepare";
import type { BrokerMessage, Published, WasmPath, WasmPoolOptions, WasmResult } from "./types";

export { KvConflict, KvError, type KvBackend } from "./keyvalue";
export { WasmLoadError } from "./prepare";
export type { BrokerMessage, Published, RequestCapability, WasmLimits, WasmPath, WasmPoolOptions, WasmResult } from "./types";

// From the checkout, not __dirname: the host may run from a bundle elsewhere.
const WORKER = path.join(REPO_ROOT, "src", "local", "wasm", "worker.cjs");
const BUFFER = 1 << 20;

interface Pending {
  id: number;
  msg: BrokerMessage;
  resolve: (r: WasmResult) => void;
  started: number;
}

interface Slot {
  worker: Worker;
  ctrl: Int32Array;
  data: Uint8Array;
  /** Requests sent to the worker and not answered yet, in the order it runs them; the first is running. */
  batch: Pending[];
  timer?: NodeJS.Timeout;
  live: boolean;
  ready: Promise<void>;
}

/** Most requests handed to one worker in one message: fewer thread hand-offs under load, bounded unfairness. */
const MAX_BATCH = 16;

/**
 * A failed `consumer.request` as wash 2.7 words it (wasmcloud_messaging/nats.rs): its own timeout, or the client's
 * error (whose text is nats.js's here, async-nats's there).
 */
function requestError(why: string, timeoutMs: number): string {
  return /timeout/i.test(why) ? `request timed out after ${timeoutMs}ms` : `failed to send request: ${why}`;
}

export class WasmPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;
  private counters = { restarts: 0, served: 0, errors: 0 };
  private maxSize = 1;
  private growing = false;
  private kv?: ReturnType<typeof washKv>;
  /** The inline runner while this component runs on the caller's thread. */
  private inline?: InlineRunner;
  private size = 2;

  private constructor(
    private readonly data: WorkerData,
    private readonly opts: WasmPoolOptions,
    /** Which path runs this component. */
    readonly path: WasmPath,
    readonly name: string,
  ) {
    if (opts.kv) this.kv = washKv(opts.kv.bucket, opts.kv.backend);
    const inline = data.inline as ConstructorParameters<typeof InlineRunner>[0] | undefined;
    if (inline)
      this.inline = new InlineRunner(inline, { minPages: Number(data.minPages), maxPages: Number(data.maxPages) }, opts.limits.timeoutMs);
  }

  /** Load and check a component, start `size` workers, growing to `maxSize` while requests wait. */
  static async create(opts: WasmPoolOptions): Promise<WasmPool> {
    const maxPages = pagesOf(opts.limits.memoryMiB);
    const { path: p, data } = await prepare(opts, maxPages);
    const pool = new WasmPool({ ...data, maxPages }, opts, p, opts.name ?? path.basename(opts.wasmFile, ".wasm"));
    pool.size = Math.max(1, opts.size ?? 2);
    pool.maxSize = Math.max(pool.size, opts.maxSize ?? pool.size);
    // An inline pool starts its workers only when a message needs one.
    if (!pool.inline && opts.startWorkers !== false) await pool.startWorkers();
    return pool;
  }

  /** Start the workers ahead of the first message (an inline pool has none to start until it needs them). */
  async warm(): Promise<void> {
    if (!this.inline && !this.closed) await this.startWorkers();
  }

  private async startWorkers(): Promise<void> {
    for (let i = this.slots.length; i < this.size; i++) this.slots.push(this.spawn());
    await Promise.all(this.slots.map((s) => s.ready));
  }

  /** Whether messages run on the caller's thread now. */
  get runsInline(): boolean {
    return !!this.inline;
  }

  /**
   * Run a message on the caller's thread, synchronously, when this component runs inline; undefined when it
   * must go to a worker (`handle`). Never throws for guest faults.
   */
  runInline(msg: BrokerMessage): WasmResult | undefined {
    if (!this.inline || this.closed) return undefined;
    const r = this.inline.run(msg);
    if (this.inline.demoted) this.inline = undefined;
    if (r === "needs-worker") return undefined;
    if (r.ok) this.counters.served++;
    else this.counters.errors++;
    return r;
  }

  private spawn(): Slot {
    // [signal, status, length, call number] int32, then the answer's bytes (see worker.cjs).
    const sab = new SharedArrayBuffer(16 + BUFFER);
    // execArgv []: the worker is plain JavaScript and must not inherit a TypeScript loader.
    // The metered copy is the caller's thread's alone: workers run the unmetered module.
    const { inline: _inline, ...data } = this.data;
    const worker = new Worker(WORKER, { execArgv: [], workerData: { ...data, sab } });
    const slot: Slot = {
      worker,
      ctrl: new Int32Array(sab, 0, 4),
      data: new Uint8Array(sab, 16),
      batch: [],
      live: false,
      ready: Promise.resolve(),
    };
    let started = false;
    slot.ready = new Promise((resolve, reject) => {
      const onReady = (m: { type?: string }) => {
        if (m?.type !== "ready") return;
        started = true;
        slot.live = true;
        worker.off("message", onReady);
        resolve();
      };
      worker.on("message", onReady);
      worker.once("error", (e) => {
        if (!started) reject(new Error(`the Wasm worker of ${this.name} failed to start: ${e.message}`));
      });
    });
    worker.on("message", (m: Record<string, unknown>) => void this.onMessage(slot, m));
    worker.on("error", () => {
      if (started) this.replace(slot, "trap", "the guest's worker failed");
    });
    return slot;
  }

  /** A capability call of the running request: answered through the shared buffer (see worker.cjs). */
  private async hostCall(slot: Slot, m: Record<string, unknown>): Promise<void> {
    const rid = Number(m.rid);
    let status = 1;
    let out: Uint8Array = new Uint8Array(0);
    try {
      if (m.op === "request") {
        if (!this.opts.request) throw new KvError("other", "request is not available here");
        const r = await this.opts.request(String(m.subject), m.body as Uint8Array, Number(m.timeoutMs));
        const json = { subject: r.subject, body: Buffer.from(r.body).toString("base64"), replyTo: r.replyTo };
        out = new TextEncoder().encode(JSON.stringify(json));
      } else {
        if (!this.kv) throw new KvError("access-denied", `${this.name} declares no kv bucket`);
        const r = await this.kv.call(m);
        if (r === undefined) status = 0;
        else out = r;
      }
    } catch (e) {
      const tag = e instanceof KvError ? e.tag : "other";
      status = tag === "no-such-store" ? -2 : tag === "access-denied" ? -3 : -1;
      const why = String((e as Error).message ?? e);
      out = new TextEncoder().encode(
        e instanceof KvError ? e.message : m.op === "request" ? requestError(why, Number(m.timeoutMs)) : `JetStream error: ${why}`,
      );
    }
    // The request ended while the call ran: the buffers belong to the next one now.
    if (slot.batch[0]?.id !== rid) return;
    if (out.length > slot.data.length) {
      status = -1;
      out = new TextEncoder().encode("value too large for the host buffer");
    }
    slot.data.set(out);
    Atomics.store(slot.ctrl, 1, status);
    Atomics.store(slot.ctrl, 2, out.length);
    Atomics.store(slot.ctrl, 3, Number(m.seq));
    Atomics.store(slot.ctrl, 0, 1);
    Atomics.notify(slot.ctrl, 0);
  }

  private onMessage(slot: Slot, m: Record<string, unknown>): void {
    if (typeof m.op === "string") return void this.hostCall(slot, m);
    if (m.type !== "done" || slot.batch[0]?.id !== m.id) return;
    const p = slot.batch.shift()!;
    clearTimeout(slot.timer);
    const now = performance.now();
    const durationMs = now - p.started;
    // The worker runs its batch in order: the next request starts now, with its own time limit.
    if (slot.batch.length) this.arm(slot, now);
    const published = (m.published as Published[]) ?? [];
    if (m.ok) {
      this.counters.served++;
      p.resolve({ ok: true, published, durationMs, ...(m.handlerError !== undefined ? { handlerError: String(m.handlerError) } : {}) });
    } else {
      this.counters.errors++;
      p.resolve({ ok: false, error: String(m.error), kind: m.kind as "trap" | "memory", published, durationMs });
    }
    if (slot.batch.length === 0) this.pump();
  }

  private arm(slot: Slot, now: number): void {
    slot.batch[0]!.started = now;
    const ms = this.opts.limits.timeoutMs;
    slot.timer = setTimeout(() => this.replace(slot, "timeout", `the guest ran longer than its ${ms} ms limit`), ms);
  }

  /** Terminate a worker (a guest that overran its time, or crashed it) and start a fresh one in its place. */
  private replace(slot: Slot, kind: "timeout" | "trap", error: string): void {
    const [p, ...notStarted] = slot.batch;
    slot.batch = [];
    clearTimeout(slot.timer);
    void slot.worker.terminate();
    this.counters.restarts++;
    // Requests queued behind the culprit never ran: they go back to the front of the queue.
    this.queue.unshift(...notStarted);
    if (p) {
      this.counters.errors++;
      p.resolve({ ok: false, kind, error, published: [], durationMs: performance.now() - p.started });
    }
    if (this.closed) return;
    const fresh = this.spawn();
    this.slots[this.slots.indexOf(slot)] = fresh;
    void fresh.ready.then(() => this.pump());
  }

  /** Hand queued requests to idle workers, shared out evenly, at most MAX_BATCH per worker and message. */
  private pump(): void {
    if (this.slots.length === 0 && !this.closed)
      return void this.startWorkers().then(
        () => this.pump(),
        (e: unknown) => {
          for (const p of this.queue.splice(0)) p.resolve({ ok: false, kind: "trap", error: String(e), published: [], durationMs: 0 });
        },
      );
    const idle = this.slots.filter((s) => s.batch.length === 0 && s.live);
    for (let i = 0; i < idle.length && this.queue.length > 0; i++) {
      const slot = idle[i]!;
      // Guests with capabilities that wait on I/O: one at a time per worker, and the pool grows instead.
      const n = this.opts.kv || this.opts.request ? 1 : Math.min(MAX_BATCH, Math.ceil(this.queue.length / (idle.length - i)));
      slot.batch = this.queue.splice(0, n);
      this.arm(slot, performance.now());
      slot.worker.postMessage({
        type: "run",
        items: slot.batch.map((p) => ({ id: p.id, msg: p.msg })),
        timeoutMs: this.opts.limits.timeoutMs,
      });
    }
    if (this.queue.length > 0 && !this.growing && !this.closed && this.slots.length < this.maxSize) this.grow();
  }

  /** Every worker busy and requests waiting (a guest blocked on key-value holds its worker): add one. */
  private grow(): void {
    this.growing = true;
    const slot = this.spawn();
    this.slots.push(slot);
    void slot.ready.then(
      () => {
        this.growing = false;
        this.pump();
      },
      () => {
        this.growing = false;
        this.slots.splice(this.slots.indexOf(slot), 1);
      },
    );
  }

  /** Run one message in a fresh instance. Never throws for guest faults; never waits past the time limit (plus a worker restart). */
  handle(msg: BrokerMessage): Promise<WasmResult> {
    const inline = this.runInline(msg);
    if (inline) return Promise.resolve(inline);
    if (this.closed) return Promise.resolve({ ok: false, kind: "closed", error: "the pool is closed", published: [], durationMs: 0 });
    return new Promise((resolve) => {
      const copy = { subject: msg.subject, body: new Uint8Array(msg.body), ...(msg.replyTo !== undefined ? { replyTo: msg.replyTo } : {}) };
      this.queue.push({ id: this.nextId++, msg: copy, resolve, started: performance.now() });
      this.pump();
    });
  }

  stats(): { workers: number; inline: boolean; restarts: number; served: number; errors: number } {
    return { workers: this.slots.length, inline: this.runsInline, ...this.counters };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0))
      p.resolve({ ok: false, kind: "closed", error: "the pool is closed", published: [], durationMs: 0 });
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
