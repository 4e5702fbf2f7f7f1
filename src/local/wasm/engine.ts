/**
 * The Wasm engine of the local lattice's hosts: workload components (wit/world.wit) on Node's WebAssembly,
 * in worker threads.
 *
 * - Load: the file must be a component of the world: its imports within the allow-list (key-value only for
 *   a workload that declares `kv`), `wasmcloud:messaging/handler@0.2.0` exported. Anything else is refused
 *   with what is wrong, before a worker starts.
 * - Fast path (a component with one core module of its own, plus wit-component's indirection modules): the
 *   core module runs with our canonical-ABI glue (worker.cjs), its memory turned into an import the worker
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
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import { REPO_ROOT } from "../../paths";
import { capMemory, memoryToImport, pagesOf } from "./binary";
import { parseComponent, singleCoreModule, worldProblems } from "./component";
import { KvError, washKv, type KvBackend } from "./keyvalue";
import { meterModule, tickFunction, Unmeterable } from "./meter";
import { transpiled } from "./transpile";

export { KvConflict, KvError, type KvBackend } from "./keyvalue";

export interface WasmLimits {
  readonly memoryMiB: number;
  readonly timeoutMs: number;
}

/** A message as `handle-message` receives it. */
export interface BrokerMessage {
  readonly subject: string;
  readonly body: Uint8Array;
  readonly replyTo?: string;
}

/** What the guest published while it ran (the host sends it). */
export interface Published {
  readonly subject: string;
  readonly body: Uint8Array;
  readonly replyTo?: string;
}

export type WasmResult =
  | { ok: true; published: Published[]; handlerError?: string; durationMs: number }
  | { ok: false; error: string; kind: "trap" | "timeout" | "memory" | "closed"; published: Published[]; durationMs: number };

/** `consumer.request` for guests: the host's NATS request. */
export type RequestCapability = (subject: string, body: Uint8Array, timeoutMs: number) => Promise<BrokerMessage>;

// From the checkout, not __dirname: the host may run from a bundle elsewhere.
const WORKER = path.join(REPO_ROOT, "src", "local", "wasm", "worker.cjs");
const GLUE = path.join(REPO_ROOT, "src", "local", "wasm", "fastGlue.cjs");
const BUFFER = 1 << 20;
/** Core imports the fast path's glue implements (worker.cjs). */
const FAST_IMPORTS: Record<string, string[]> = {
  "wasmcloud:messaging/consumer@0.2.0": ["publish", "request"],
  "wasi:keyvalue/store@0.2.0-draft": [
    "open",
    "[method]bucket.get",
    "[method]bucket.set",
    "[method]bucket.delete",
    "[method]bucket.exists",
    "[method]bucket.list-keys",
    "[resource-drop]bucket",
  ],
  "wasi:keyvalue/atomics@0.2.0-draft": ["increment"],
};

export class WasmLoadError extends Error {
  constructor(file: string, why: string) {
    super(`${file}: ${why}`);
    this.name = "WasmLoadError";
  }
}

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

export type WasmPath = "fast" | "general";

export interface WasmPoolOptions {
  readonly wasmFile: string;
  readonly limits: WasmLimits;
  /** Workers at start. @default 2 */
  readonly size?: number;
  /** Workers while requests wait (guests blocked on key-value hold theirs). @default size */
  readonly maxSize?: number;
  /** The workload's declared bucket and the store behind it; without it, key-value imports are refused. */
  readonly kv?: { readonly bucket: string; readonly backend: KvBackend };
  readonly request?: RequestCapability;
  /** Force a path; by default the fast path when the component allows it. */
  readonly path?: WasmPath;
  /**
   * Run on the caller's thread when the component allows it (fast path, meterable, no key-value).
   * @default true
   */
  readonly inline?: boolean;
  /**
   * Start the workers now; otherwise at `warm()` or when the first message needs one (an inline pool's only
   * start then, on a guest that calls `request` or overran its time).
   * @default true
   */
  readonly startWorkers?: boolean;
  readonly name?: string;
}

type WorkerData = Record<string, unknown>;

/** The metered module for inline runs, or undefined when the walker cannot read it (it then runs in workers). */
async function meteredModule(
  bytes: Uint8Array,
): Promise<{ module: WebAssembly.Module; reset?: { globals: readonly string[] } } | undefined> {
  try {
    const m = meterModule(bytes);
    return { module: await WebAssembly.compile(m.bytes), ...(m.resettable ? { reset: { globals: m.globals } } : {}) };
  } catch (e) {
    if (e instanceof Unmeterable) return undefined;
    throw e;
  }
}

interface FastRunner {
  run(msg: BrokerMessage, deadline: number): string | undefined;
  atCap(): boolean;
}

/**
 * A failed `consumer.request` as wash 2.7 words it (wasmcloud_messaging/nats.rs): its own timeout, or the client's
 * error (whose text is nats.js's here, async-nats's there).
 */
function requestError(why: string, timeoutMs: number): string {
  return /timeout/i.test(why) ? `request timed out after ${timeoutMs}ms` : `failed to send request: ${why}`;
}

/** What an inline guest's `request` throws: the message is run again in a worker. */
class NeedsWorker extends Error {}

/** fastGlue.cjs, loaded from the checkout at run time like the worker (the host may run from a bundle). */
const glue = (): {
  createFastRunner(o: Record<string, unknown>): FastRunner;
  GuestTimeout: new () => Error;
} => require(GLUE);

/** Check the component against the world and prepare what its workers need. */
async function prepare(opts: WasmPoolOptions, maxPages: number): Promise<{ path: WasmPath; data: WorkerData }> {
  const file = opts.wasmFile;
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch (e) {
    throw new WasmLoadError(file, `cannot be read: ${(e as Error).message}`);
  }
  let info;
  try {
    info = parseComponent(bytes);
  } catch (e) {
    throw new WasmLoadError(file, `${(e as Error).message}; a workload is a component of the latticeform world (wit/world.wit)`);
  }
  const problems = worldProblems(info, { kv: !!opts.kv });
  if (problems.length) throw new WasmLoadError(file, problems.join("; "));
  const single = opts.path === "general" ? undefined : singleCoreModule(info);
  const fastOk = single && WebAssembly.Module.imports(single.module).every((i) => FAST_IMPORTS[i.module]?.includes(i.name));
  if (fastOk) {
    let rewritten;
    try {
      rewritten = memoryToImport(single.bytes);
    } catch (e) {
      throw new WasmLoadError(file, `its core module ${(e as Error).message}`);
    }
    if (rewritten.minPages > maxPages)
      throw new WasmLoadError(
        file,
        `needs ${rewritten.minPages} memory pages at start, more than its limit of ${opts.limits.memoryMiB} MiB (${maxPages} pages)`,
      );
    const data: WorkerData = { mode: "fast", wasmModule: await WebAssembly.compile(rewritten.bytes), minPages: rewritten.minPages };
    if (opts.inline !== false && !opts.kv) data.inline = await meteredModule(rewritten.bytes);
    return { path: "fast", data };
  }
  if (opts.path === "fast")
    throw new WasmLoadError(file, "does not fit the fast path (one core module of its own, imports the glue implements)");
  const t = await transpiled(bytes);
  const coreModules: Record<string, WebAssembly.Module> = {};
  for (const [name, core] of Object.entries(t.cores)) {
    try {
      coreModules[name] = await WebAssembly.compile(capMemory(core, maxPages));
    } catch (e) {
      throw new WasmLoadError(file, `core module ${name} ${(e as Error).message} (${opts.limits.memoryMiB} MiB)`);
    }
  }
  return { path: "general", data: { mode: "general", glueUrl: t.glueUrl, coreModules, minPages: 0 } };
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
  /** The inline runner while this component runs on the caller's thread; dropped for good on a timeout or a request. */
  private inline?: FastRunner;
  private inlinePublished: Published[] = [];
  private size = 2;

  private constructor(
    private readonly data: WorkerData,
    private readonly opts: WasmPoolOptions,
    /** Which path runs this component. */
    readonly path: WasmPath,
    readonly name: string,
  ) {
    if (opts.kv) this.kv = washKv(opts.kv.bucket, opts.kv.backend);
    const inline = data.inline as Awaited<ReturnType<typeof meteredModule>>;
    if (inline) {
      const fail = () => {
        throw new NeedsWorker();
      };
      this.inline = glue().createFastRunner({
        wasmModule: inline.module,
        reset: inline.reset,
        minPages: data.minPages,
        maxPages: data.maxPages,
        metered: true,
        tickFunction,
        // What the guest may do without waiting; anything else needs a worker that can block on it.
        caps: new Proxy(
          { publish: (subject: string, body: Uint8Array, replyTo?: string) => void this.inlinePublished.push({ subject, body, replyTo }) },
          { get: (t, k) => (k === "publish" ? t.publish : fail) },
        ),
      });
    }
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
    const runner = this.inline;
    if (!runner || this.closed) return undefined;
    this.inlinePublished = [];
    const started = performance.now();
    const limit = this.opts.limits.timeoutMs;
    try {
      const handlerError = runner.run(msg, started + limit);
      this.counters.served++;
      const durationMs = performance.now() - started;
      return { ok: true, published: this.inlinePublished, durationMs, ...(handlerError !== undefined ? { handlerError } : {}) };
    } catch (e) {
      // Nothing the guest published was sent: a worker runs the message again, from a fresh instance.
      if (e instanceof NeedsWorker) return void (this.inline = undefined);
      this.counters.errors++;
      const durationMs = performance.now() - started;
      if (e instanceof glue().GuestTimeout) {
        this.inline = undefined;
        return { ok: false, kind: "timeout", error: `the guest ran longer than its ${limit} ms limit`, published: [], durationMs };
      }
      const error = String((e as Error)?.message ?? e);
      return { ok: false, kind: runner.atCap() ? "memory" : "trap", error, published: this.inlinePublished, durationMs };
    }
  }

  private spawn(): Slot {
    // [signal, status, length, call number] int32, then the answer's bytes (see worker.cjs).
    const sab = new SharedArrayBuffer(16 + BUFFER);
    // execArgv []: the worker is plain JavaScript and must not inherit a TypeScript loader.
    const worker = new Worker(WORKER, { execArgv: [], workerData: { ...this.data, sab } });
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
