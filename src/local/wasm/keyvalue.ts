/**
 * `wasi:keyvalue@0.2.0-draft` with the semantics of wash 2.7's NATS plugin (wasmCloud/wasmCloud v2.7.0,
 * crates/wash-runtime/src/plugin/wasi_keyvalue/nats.rs), over any store with revisions, so a component that
 * works here works on wash unchanged:
 * - the bucket is the string the guest passes to `open`; keys verbatim; `set` unconditional;
 * - `increment` reads the entry, adds with saturation, stores a u64 big-endian: an update conditional on the
 *   revision read when the key exists (a concurrent update makes it fail, it is not retried), a plain put
 *   when it does not; a value shorter than 8 bytes counts as 0;
 * - `list-keys` pages of 1000 keys, the cursor being the number of keys to skip;
 * - errors are `other("JetStream error: ...")`.
 * One difference, on purpose: `open` grants only the bucket the workload declares (`kv` in the spec), so the
 * bucket the spec declares (and the clouds configure) is the one the component really uses.
 */

export type StoreErrorTag = "no-such-store" | "access-denied" | "other";

/** A `store.error` for the guest. */
export class KvError extends Error {
  constructor(
    readonly tag: StoreErrorTag,
    message: string,
  ) {
    super(message);
    this.name = "KvError";
  }
}

/** A conditional update lost to a concurrent one (the backend's signal; the guest sees wash's message). */
export class KvConflict extends Error {
  constructor(key: string) {
    super(`wrong last revision (key ${key} changed)`);
    this.name = "KvConflict";
  }
}

/** The store under the plugin: JetStream KV on the lattice, a Map in tests. */
export interface KvBackend {
  /** Bind `bucket` (it must exist with the spec's settings). */
  open(bucket: string): Promise<void>;
  /** The latest entry of `key`, deleted ones included (as async-nats's `entry`). */
  entry(bucket: string, key: string): Promise<{ value: Uint8Array; revision: number; deleted: boolean } | undefined>;
  put(bucket: string, key: string, value: Uint8Array): Promise<number>;
  /** Write only if `key` is still at `revision`; KvConflict otherwise. */
  update(bucket: string, key: string, value: Uint8Array, revision: number): Promise<number>;
  delete(bucket: string, key: string): Promise<void>;
  keys(bucket: string): Promise<string[]>;
}

const PAGE = 1000;
const U64_MAX = (1n << 64n) - 1n;
const enc = new TextEncoder();

function jsError(e: unknown): KvError {
  if (e instanceof KvError) return e;
  if (e instanceof KvConflict) return new KvError("other", "JetStream error: wrong last revision");
  return new KvError("other", `JetStream error: ${String((e as Error)?.message ?? e)}`);
}

/** The plugin for one workload: `call` runs a worker's request (op, bucket, key, ...) and returns its answer bytes. */
export function washKv(declared: string, backend: KvBackend) {
  const bucket = (name: unknown): string => {
    if (name !== declared) throw new KvError("other", `bucket ${String(name)} is not the workload's declared kv bucket (${declared})`);
    return declared;
  };
  const ops: Record<string, (m: Record<string, unknown>) => Promise<Uint8Array | undefined>> = {
    async open(m) {
      await backend.open(bucket(m.bucket));
      return new Uint8Array(0);
    },
    async get(m) {
      const e = await backend.entry(bucket(m.bucket), String(m.key));
      return e && !e.deleted ? e.value : undefined;
    },
    async set(m) {
      await backend.put(bucket(m.bucket), String(m.key), m.value as Uint8Array);
      return new Uint8Array(0);
    },
    async delete(m) {
      await backend.delete(bucket(m.bucket), String(m.key));
      return new Uint8Array(0);
    },
    async keys(m) {
      const all = await backend.keys(bucket(m.bucket));
      const skip = Number(m.cursor ?? 0);
      const keys = all.slice(skip, skip + PAGE);
      const more = all.length > skip + PAGE;
      return enc.encode(JSON.stringify({ keys, ...(more ? { cursor: skip + PAGE } : {}) }));
    },
    async increment(m) {
      const b = bucket(m.bucket);
      const key = String(m.key);
      const e = await backend.entry(b, key);
      const current = e && e.value.length >= 8 ? Buffer.from(e.value).readBigUInt64BE(0) : 0n;
      const sum = current + BigInt(String(m.delta));
      const next = sum > U64_MAX ? U64_MAX : sum;
      const bytes = new Uint8Array(8);
      Buffer.from(bytes.buffer).writeBigUInt64BE(next, 0);
      if (e) await backend.update(b, key, bytes, e.revision);
      else await backend.put(b, key, bytes);
      return enc.encode(next.toString());
    },
  };
  return {
    async call(m: Record<string, unknown>): Promise<Uint8Array | undefined> {
      const op = ops[String(m.op)];
      if (!op) throw new KvError("other", `unknown key-value operation ${String(m.op)}`);
      try {
        return await op(m);
      } catch (e) {
        throw jsError(e);
      }
    },
  };
}

/** An in-memory backend with revisions (tests, benches): a JetStream KV bucket's behaviour, in a Map. */
export function memoryBackend(opts: { delayMs?: number; conditional?: boolean } = {}): KvBackend & { store: Map<string, Uint8Array> } {
  const store = new Map<string, Uint8Array>();
  const revs = new Map<string, number>();
  const deleted = new Set<string>();
  let seq = 0;
  const pause = () => (opts.delayMs ? new Promise((r) => setTimeout(r, opts.delayMs)) : Promise.resolve());
  const write = (k: string, v: Uint8Array) => {
    store.set(k, new Uint8Array(v));
    deleted.delete(k);
    revs.set(k, ++seq);
    return seq;
  };
  return {
    store,
    async open() {},
    async entry(_b, k) {
      await pause();
      if (!revs.has(k)) return undefined;
      return { value: store.get(k) ?? new Uint8Array(0), revision: revs.get(k)!, deleted: deleted.has(k) };
    },
    async put(_b, k, v) {
      await pause();
      return write(k, v);
    },
    async update(_b, k, v, revision) {
      await pause();
      if (opts.conditional !== false && revs.get(k) !== revision) throw new KvConflict(k);
      return write(k, v);
    },
    async delete(_b, k) {
      await pause();
      store.delete(k);
      deleted.add(k);
      revs.set(k, ++seq);
    },
    async keys() {
      return [...store.keys()].filter((k) => !deleted.has(k));
    },
  };
}
