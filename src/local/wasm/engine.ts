/**
 * The Wasm engine of the local lattice's hosts: Node's built-in WebAssembly, guests run in worker threads.
 *
 * - The module is compiled once and shared with every worker; each request gets a fresh instance, so no
 *   state leaks between requests. Its memory is the worker's previous one zeroed (or a new one when a guest
 *   grew it): the same as a new memory, at a tenth of the cost (see worker.cjs).
 * - Sandbox: a guest gets only `env.memory` (created by the host with the workload's memory limit as its
 *   maximum), `env.kv_get` and `env.kv_put`; any other import is refused at load. No WASI: no file system,
 *   clock or network. A guest that loops is stopped by terminating its worker at the request's time limit
 *   (the only way to interrupt running Wasm in Node); a fresh worker takes its place.
 * - Key-value is a synchronous host function for the guest: the worker blocks on a SharedArrayBuffer
 *   (Atomics.wait, bounded by the request's deadline) while this thread runs the async capability.
 *
 * Guest ABI: exports `alloc(len) -> ptr` and `handle(ptr, len) -> ptr to [len: i32 LE][bytes]`.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import { REPO_ROOT } from "../../paths";

export interface KvEntry {
  readonly value: Uint8Array;
  /** The key's revision (JetStream sequence), for a conditional write. */
  readonly revision: number;
}

export interface KvCapability {
  get(key: string): Promise<KvEntry | undefined>;
  /**
   * Write `value` and return the new revision. With `expected`, only if the key is still at that revision
   * (0: only if it does not exist); otherwise throw `KvConflict`.
   */
  put(key: string, value: Uint8Array, expected?: number): Promise<number>;
}

/** A conditional write lost a race: another request changed the key since this one read it. */
export class KvConflict extends Error {
  constructor(key: string) {
    super(`key ${key} changed since it was read`);
    this.name = "KvConflict";
  }
}

/** Attempts of a request whose conditional key-value write lost a race (each in a fresh instance). */
export const CONFLICT_ATTEMPTS = 20;

export interface WasmLimits {
  readonly memoryMiB: number;
  readonly timeoutMs: number;
}

export type WasmResult =
  | { ok: true; output: Uint8Array; durationMs: number }
  | { ok: false; error: string; kind: "trap" | "timeout" | "memory" | "abi" | "conflict"; durationMs: number };

// From the checkout, not __dirname: the host may run from a bundle elsewhere.
const WORKER = path.join(REPO_ROOT, "src", "local", "wasm", "worker.cjs");
const PAGE = 65536;
const KV_BUFFER = 1 << 20;
const ALLOWED_IMPORTS = ["env.memory", "env.kv_get", "env.kv_put"];

export class WasmLoadError extends Error {
  constructor(file: string, why: string) {
    super(`${file}: ${why}`);
    this.name = "WasmLoadError";
  }
}

function readLeb(buf: Uint8Array, at: number): [number, number] {
  let result = 0;
  let shift = 0;
  let i = at;
  for (;;) {
    const b = buf[i++]!;
    result |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) break;
    shift += 7;
  }
  return [result >>> 0, i];
}

/** The declared minimum pages of an imported memory (the import section, id 2), or undefined. */
export function importedMemoryMin(bytes: Uint8Array): number | undefined {
  let i = 8;
  while (i < bytes.length) {
    const id = bytes[i]!;
    const [size, start] = readLeb(bytes, i + 1);
    if (id === 2) {
      const [count, first] = readLeb(bytes, start);
      let p = first;
      for (let k = 0; k < count; k++) {
        let len: number;
        [len, p] = readLeb(bytes, p);
        p += len;
        [len, p] = readLeb(bytes, p);
        p += len;
        const kind = bytes[p++]!;
        if (kind === 0) [, p] = readLeb(bytes, p);
        else if (kind === 1) {
          p++;
          const flags = bytes[p++]!;
          [, p] = readLeb(bytes, p);
          if (flags & 1) [, p] = readLeb(bytes, p);
        } else if (kind === 2) {
          const flags = bytes[p++]!;
          let min: number;
          [min, p] = readLeb(bytes, p);
          if (flags & 1) [, p] = readLeb(bytes, p);
          return min;
        } else if (kind === 3) p += 2;
      }
      return undefined;
    }
    i = start + size;
  }
  return undefined;
}

interface Pending {
  id: number;
  /** Runs so far that lost a key-value race. */
  conflicts: number;
  payload: Uint8Array;
  resolve: (r: WasmResult) => void;
  started: number;
  timer?: NodeJS.Timeout;
}

interface Slot {
  worker: Worker;
  ctrl: Int32Array;
  rev: Float64Array;
  data: Uint8Array;
  /** Requests sent to the worker and not answered yet, in the order it runs them; the first is running. */
  batch: Pending[];
  timer?: NodeJS.Timeout;
  /** Started and ready for work. */
  live: boolean;
  ready: Promise<void>;
}

/** Most requests handed to one worker in one message: fewer thread hand-offs under load, bounded unfairness. */
const MAX_BATCH = 16;

export class WasmPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;
  private counters = { restarts: 0, served: 0, errors: 0 };
  private maxSize = 1;
  private growing = false;

  private constructor(
    private readonly module: WebAssembly.Module,
    private readonly minPages: number,
    private readonly maxPages: number,
    private readonly limits: WasmLimits,
    private readonly kv: KvCapability | undefined,
    readonly name: string,
  ) {}

  /**
   * Load, check and compile a guest, and start `size` workers, growing to `maxSize` while requests wait.
   * Refuses modules that ask for more than the sandbox grants.
   */
  static async create(opts: {
    wasmFile: string;
    limits: WasmLimits;
    size?: number;
    maxSize?: number;
    kv?: KvCapability;
    name?: string;
  }): Promise<WasmPool> {
    const bytes = new Uint8Array(readFileSync(opts.wasmFile));
    let module: WebAssembly.Module;
    try {
      module = await WebAssembly.compile(bytes);
    } catch (e) {
      throw new WasmLoadError(opts.wasmFile, `not a valid WebAssembly module: ${(e as Error).message}`);
    }
    const imports = WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}`);
    const denied = imports.filter((i) => !ALLOWED_IMPORTS.includes(i));
    if (denied.length) {
      throw new WasmLoadError(
        opts.wasmFile,
        `imports ${denied.join(", ")}, which the sandbox does not grant (allowed: ${ALLOWED_IMPORTS.join(", ")})`,
      );
    }
    if (!imports.includes("env.memory")) {
      throw new WasmLoadError(
        opts.wasmFile,
        "defines its own memory; a guest must import env.memory so the host can cap it (AssemblyScript: --importMemory)",
      );
    }
    const exports = WebAssembly.Module.exports(module);
    for (const name of ["alloc", "handle"]) {
      if (!exports.some((e) => e.name === name && e.kind === "function"))
        throw new WasmLoadError(opts.wasmFile, `does not export the function ${name} (the latticeform guest ABI)`);
    }
    const maxPages = Math.floor((opts.limits.memoryMiB * 1024 * 1024) / PAGE);
    const minPages = importedMemoryMin(bytes) ?? 1;
    if (minPages > maxPages) {
      throw new WasmLoadError(
        opts.wasmFile,
        `needs ${minPages} memory pages at start, more than its limit of ${opts.limits.memoryMiB} MiB (${maxPages} pages)`,
      );
    }
    const size = Math.max(1, opts.size ?? 2);
    const pool = new WasmPool(module, minPages, maxPages, opts.limits, opts.kv, opts.name ?? path.basename(opts.wasmFile, ".wasm"));
    pool.maxSize = Math.max(size, opts.maxSize ?? size);
    for (let i = 0; i < size; i++) pool.slots.push(pool.spawn());
    await Promise.all(pool.slots.map((s) => s.ready));
    return pool;
  }

  private spawn(): Slot {
    // [signal, status, length, -] int32, [revision] float64, then the value bytes (see worker.cjs).
    const sab = new SharedArrayBuffer(24 + KV_BUFFER);
    // execArgv []: the worker is plain JavaScript and must not inherit a TypeScript loader.
    const worker = new Worker(WORKER, {
      execArgv: [],
      workerData: { wasmModule: this.module, minPages: this.minPages, maxPages: this.maxPages, sab },
    });
    const slot: Slot = {
      worker,
      ctrl: new Int32Array(sab, 0, 4),
      rev: new Float64Array(sab, 16, 1),
      data: new Uint8Array(sab, 24),
      batch: [],
      live: false,
      ready: Promise.resolve(),
    };
    let started = false;
    slot.ready = new Promise((resolve, reject) => {
      const onReady = (m: { type?: string }) => {
        if (m?.type === "ready") {
          started = true;
          slot.live = true;
          worker.off("message", onReady);
          resolve();
        }
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

  /**
   * Keys a running request has touched stay locked to it until it ends, so requests of this pool never race
   * on a key (a hot account would otherwise rerun in a storm); conditional writes still guard against
   * writers elsewhere. A request that waits too long hits its own time limit, which releases what it holds.
   */
  private readonly locks = new Map<string, { owner: number; waiters: (() => void)[] }>();

  private async lockKey(key: string, rid: number): Promise<void> {
    for (;;) {
      const l = this.locks.get(key);
      if (!l) {
        this.locks.set(key, { owner: rid, waiters: [] });
        return;
      }
      if (l.owner === rid) return;
      await new Promise<void>((resolve) => l.waiters.push(resolve));
    }
  }

  private unlockRequest(rid: number): void {
    for (const [key, l] of this.locks) {
      if (l.owner !== rid) continue;
      this.locks.delete(key);
      for (const wake of l.waiters) wake();
    }
  }

  private async onMessage(slot: Slot, m: Record<string, unknown>): Promise<void> {
    if (m.kv === "get" || m.kv === "put") {
      let status = -1;
      let value: Uint8Array | undefined;
      let revision = 0;
      const rid = Number(m.rid);
      try {
        if (!this.kv) throw new Error("no key-value grant");
        await this.lockKey(String(m.key), rid);
        // The request may have ended (time limit) while it waited: answer nothing it could misread.
        if (slot.batch[0]?.id !== rid) return this.unlockRequest(rid);
        if (m.kv === "get") {
          const v = await this.kv.get(String(m.key));
          if (v === undefined) status = 0;
          else if (v.value.length <= slot.data.length) {
            value = v.value;
            revision = v.revision;
            status = 1;
          }
        } else {
          revision = await this.kv.put(String(m.key), m.value as Uint8Array, m.expected as number | undefined);
          status = 1;
        }
      } catch (e) {
        status = e instanceof KvConflict ? -2 : -1;
      }
      // The request ended while the call ran: the buffers belong to the next one now.
      if (slot.batch[0]?.id !== rid) return;
      if (value) slot.data.set(value);
      slot.rev[0] = revision;
      Atomics.store(slot.ctrl, 1, status);
      Atomics.store(slot.ctrl, 2, value?.length ?? 0);
      // Which call this answers: a late answer to an abandoned call must not pass for the next one's.
      Atomics.store(slot.ctrl, 3, Number(m.seq));
      Atomics.store(slot.ctrl, 0, 1);
      Atomics.notify(slot.ctrl, 0);
      return;
    }
    if (m.type === "done" && slot.batch[0]?.id === m.id) {
      const p = slot.batch.shift()!;
      this.unlockRequest(p.id);
      clearTimeout(slot.timer);
      const now = performance.now();
      const durationMs = now - p.started;
      // The worker runs its batch in order: the next request starts now, with its own time limit.
      if (slot.batch.length) this.arm(slot, now);
      if (this.retryConflict(p, m, durationMs)) {
        // requeued (or given up), see retryConflict
      } else if (m.ok) {
        this.counters.served++;
        p.resolve({ ok: true, output: m.output as Uint8Array, durationMs });
      } else {
        this.counters.errors++;
        p.resolve({ ok: false, error: String(m.error), kind: m.kind as "trap" | "memory" | "abi", durationMs });
      }
      if (slot.batch.length === 0) this.pump();
    }
  }

  /**
   * A request that lost a key-value race runs again from the start, in a fresh instance, after a random
   * back-off that grows with its attempts (racing again at once on a hot key mostly loses again).
   */
  private retryConflict(p: Pending, m: Record<string, unknown>, durationMs: number): boolean {
    if (m.ok || m.kind !== "conflict") return false;
    if (++p.conflicts >= CONFLICT_ATTEMPTS) {
      this.counters.errors++;
      p.resolve({ ok: false, kind: "conflict", error: `${String(m.error)} (${p.conflicts} attempts)`, durationMs });
      return true;
    }
    setTimeout(
      () => {
        if (this.closed) return p.resolve({ ok: false, kind: "abi", error: "the pool is closed", durationMs: 0 });
        this.queue.unshift(p);
        this.pump();
      },
      Math.random() * 2 ** Math.min(p.conflicts, 6),
    );
    return true;
  }

  private arm(slot: Slot, now: number): void {
    slot.batch[0]!.started = now;
    slot.timer = setTimeout(
      () => this.replace(slot, "timeout", `the guest ran longer than its ${this.limits.timeoutMs} ms limit`),
      this.limits.timeoutMs,
    );
  }

  /** Terminate a worker (a guest that overran its time, or crashed it) and start a fresh one in its place. */
  private replace(slot: Slot, kind: "timeout" | "trap", error: string): void {
    const [p, ...notStarted] = slot.batch;
    slot.batch = [];
    if (p) this.unlockRequest(p.id);
    clearTimeout(slot.timer);
    void slot.worker.terminate();
    this.counters.restarts++;
    // Requests queued behind the culprit never ran: they go back to the front of the queue.
    this.queue.unshift(...notStarted);
    if (p) {
      this.counters.errors++;
      p.resolve({ ok: false, kind, error, durationMs: performance.now() - p.started });
    }
    if (this.closed) return;
    const fresh = this.spawn();
    this.slots[this.slots.indexOf(slot)] = fresh;
    void fresh.ready.then(() => this.pump());
  }

  /** Hand queued requests to idle workers, shared out evenly, at most MAX_BATCH per worker and message. */
  private pump(): void {
    const idle = this.slots.filter((s) => s.batch.length === 0 && s.live);
    for (let i = 0; i < idle.length && this.queue.length > 0; i++) {
      const slot = idle[i]!;
      // Guests with key-value wait on I/O inside a request: one at a time per worker, and the pool grows instead.
      const n = this.kv ? 1 : Math.min(MAX_BATCH, Math.ceil(this.queue.length / (idle.length - i)));
      slot.batch = this.queue.splice(0, n);
      this.arm(slot, performance.now());
      slot.worker.postMessage({
        type: "run",
        items: slot.batch.map((p) => ({ id: p.id, payload: p.payload })),
        timeoutMs: this.limits.timeoutMs,
      });
    }
    // Every worker busy and requests waiting (a guest blocked on key-value holds its worker): add one.
    if (this.queue.length > 0 && !this.growing && !this.closed && this.slots.length < this.maxSize) {
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
  }

  /** Run one request in a fresh instance. Never throws for guest faults; never waits past the time limit (plus a worker restart). */
  handle(payload: Uint8Array): Promise<WasmResult> {
    if (this.closed) return Promise.resolve({ ok: false, kind: "abi", error: "the pool is closed", durationMs: 0 });
    return new Promise((resolve) => {
      this.queue.push({ id: this.nextId++, conflicts: 0, payload: new Uint8Array(payload), resolve, started: performance.now() });
      this.pump();
    });
  }

  stats(): { workers: number; restarts: number; served: number; errors: number } {
    return { workers: this.slots.length, ...this.counters };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.resolve({ ok: false, kind: "abi", error: "the pool is closed", durationMs: 0 });
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
