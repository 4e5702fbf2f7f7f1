// Runs workload components for one WasmPool worker. Plain JavaScript on purpose: a worker that is terminated
// on timeout is respawned at once, without loading a TypeScript loader. See engine.ts for the protocol.
//
// Two paths: "fast" instantiates the component's single core module with the canonical-ABI glue below on a
// pooled, zeroed memory; "general" runs `jco transpile` output (any component of the world). Both call the
// same capabilities (`caps`), so they give the same replies.
"use strict";
const { parentPort, workerData } = require("node:worker_threads");

const { mode, sab, minPages, maxPages } = workerData;
const ctrl = new Int32Array(sab, 0, 4);
const data = new Uint8Array(sab, 16);
const enc = new TextEncoder();
const dec = new TextDecoder();
const HANDLER = "wasmcloud:messaging/handler@0.2.0#handle-message";
const PAGE = 65536;

let deadline = 0;
/** The request running now and a counter of host calls (a late answer must not pass for the next call's). */
let currentId = 0;
let callSeq = 0;
/** Messages the running request published: the host sends them when it returns. */
let published = [];

/** Ask the main thread for a capability call and block (bounded by the request's deadline). */
function hostCall(msg) {
  const seq = ++callSeq;
  Atomics.store(ctrl, 0, 0);
  parentPort.postMessage({ ...msg, rid: currentId, seq });
  for (;;) {
    const wait = deadline - Date.now();
    if (wait <= 0 || Atomics.wait(ctrl, 0, 0, wait) === "timed-out") return { status: -1, bytes: enc.encode("host call timed out") };
    if (Atomics.load(ctrl, 3) === seq) break;
    Atomics.store(ctrl, 0, 0);
    if (Atomics.load(ctrl, 3) === seq) break;
  }
  const status = Atomics.load(ctrl, 1);
  return { status, bytes: data.slice(0, Atomics.load(ctrl, 2)) };
}

/** A failed capability call, thrown with the payload jco's glue turns into `err(payload)`. */
function fail(payload) {
  const e = new Error(typeof payload === "string" ? payload : String(payload.val || payload.tag));
  return Object.assign(Object.create(null), { payload, message: e.message });
}

/** wasi:keyvalue store.error from a host answer. */
function storeError(r) {
  if (r.status === -2) return { tag: "no-such-store" };
  if (r.status === -3) return { tag: "access-denied" };
  return { tag: "other", val: dec.decode(r.bytes) };
}

function kv(op, args) {
  const r = hostCall({ op, ...args });
  if (r.status < 0) throw fail(storeError(r));
  return r;
}

/** The world's capabilities as JavaScript values; errors are thrown as `{ payload }`. */
const caps = {
  publish(subject, body, replyTo) {
    published.push({ subject, body: new Uint8Array(body), replyTo });
  },
  request(subject, body, timeoutMs) {
    const r = hostCall({ op: "request", subject, body: new Uint8Array(body), timeoutMs });
    if (r.status < 0) throw fail(dec.decode(r.bytes));
    const m = JSON.parse(dec.decode(r.bytes));
    return { subject: m.subject, body: Buffer.from(m.body, "base64"), replyTo: m.replyTo ?? undefined };
  },
  open: (bucket) => void kv("open", { bucket }),
  get(bucket, key) {
    const r = kv("get", { bucket, key });
    return r.status === 1 ? r.bytes : undefined;
  },
  set: (bucket, key, value) => void kv("set", { bucket, key, value: new Uint8Array(value) }),
  delete: (bucket, key) => void kv("delete", { bucket, key }),
  exists: (bucket, key) => kv("get", { bucket, key }).status === 1,
  listKeys(bucket, cursor) {
    const r = kv("keys", { bucket, cursor: cursor === undefined ? undefined : Number(cursor) });
    const page = JSON.parse(dec.decode(r.bytes));
    return { keys: page.keys, cursor: page.cursor === undefined ? undefined : BigInt(page.cursor) };
  },
  increment: (bucket, key, delta) =>
    BigInt(dec.decode(kv("increment", { bucket, key, delta: BigInt.asUintN(64, delta).toString() }).bytes)),
};

// ---------------------------------------------------------------- fast path: our canonical-ABI glue
let memory;

/**
 * A zeroed memory at its starting size for the next instance. Reusing the worker's memory, scrubbed, is what
 * a fresh one would be (instantiation re-applies the data segments; globals and tables are per instance),
 * at a tenth of the cost. A memory the last guest grew is replaced, since a memory cannot shrink.
 */
function scrubbedMemory() {
  if (memory && memory.buffer.byteLength === minPages * PAGE) new Uint8Array(memory.buffer).fill(0);
  else memory = new WebAssembly.Memory({ initial: minPages, maximum: maxPages });
  return memory;
}

// The running instance's memory, exports and bucket handles: the glue is built once per worker.
let mem;
let ex;
let handles = [undefined];
let importObject;
let importMemory;

// Views of the running instance's memory, and a copy of bytes into the guest (its own allocator).
const u8 = () => new Uint8Array(mem.buffer);
const dv = () => new DataView(mem.buffer);
const str = (p, l) => dec.decode(u8().subarray(p, p + l));
const put = (b) => {
  const p = ex.cabi_realloc(0, 0, 1, b.length);
  u8().set(b, p);
  return [p, b.length];
};

function fastGlue() {
  // result<T, E> into a return area: tag byte at `ret`, payload at `ret + off`.
  const ok = (ret) => (u8()[ret] = 0);
  const errString = (ret, off, s) => {
    const [p, l] = put(enc.encode(s));
    const v = dv();
    v.setUint8(ret, 1);
    v.setUint32(ret + off, p, true);
    v.setUint32(ret + off + 4, l, true);
  };
  const errStore = (ret, off, e) => {
    const tag = e.tag === "no-such-store" ? 0 : e.tag === "access-denied" ? 1 : 2;
    const [p, l] = tag === 2 ? put(enc.encode(e.val)) : [0, 0];
    const v = dv();
    v.setUint8(ret, 1);
    v.setUint8(ret + off, tag);
    v.setUint32(ret + off + 4, p, true);
    v.setUint32(ret + off + 8, l, true);
  };
  const guard = (ret, off, f) => {
    try {
      f();
    } catch (e) {
      if (!e || !e.payload) throw e;
      errStore(ret, off, e.payload);
    }
  };
  const bucket = (h) => {
    const b = handles[h];
    if (b === undefined) throw new WebAssembly.RuntimeError(`unknown bucket handle ${h}`);
    return b;
  };
  return {
    "wasmcloud:messaging/consumer@0.2.0": {
      publish(sp, sl, bp, bl, hasReply, rp, rl, ret) {
        caps.publish(str(sp, sl), u8().slice(bp, bp + bl), hasReply ? str(rp, rl) : undefined);
        ok(ret);
      },
      request(sp, sl, bp, bl, timeoutMs, ret) {
        let m;
        try {
          m = caps.request(str(sp, sl), u8().slice(bp, bp + bl), timeoutMs);
        } catch (e) {
          if (!e || !e.payload) throw e;
          return errString(ret, 4, e.payload);
        }
        const [s, sl2] = put(enc.encode(m.subject));
        const [b, bl2] = put(m.body);
        const [r, rl2] = m.replyTo === undefined ? [0, 0] : put(enc.encode(m.replyTo));
        const v = dv();
        v.setUint8(ret, 0);
        [s, sl2, b, bl2].forEach((x, i) => v.setUint32(ret + 4 + 4 * i, x, true));
        v.setUint8(ret + 20, m.replyTo === undefined ? 0 : 1);
        v.setUint32(ret + 24, r, true);
        v.setUint32(ret + 28, rl2, true);
      },
    },
    "wasi:keyvalue/store@0.2.0-draft": {
      open(np, nl, ret) {
        const name = str(np, nl);
        guard(ret, 4, () => {
          caps.open(name);
          handles.push(name);
          const v = dv();
          v.setUint8(ret, 0);
          v.setUint32(ret + 4, handles.length - 1, true);
        });
      },
      "[method]bucket.get"(h, kp, kl, ret) {
        guard(ret, 4, () => {
          const value = caps.get(bucket(h), str(kp, kl));
          if (value === undefined) {
            const v = dv();
            v.setUint8(ret, 0);
            v.setUint8(ret + 4, 0);
            return;
          }
          const [p, l] = put(value);
          const v = dv();
          v.setUint8(ret, 0);
          v.setUint8(ret + 4, 1);
          v.setUint32(ret + 8, p, true);
          v.setUint32(ret + 12, l, true);
        });
      },
      "[method]bucket.set"(h, kp, kl, vp, vl, ret) {
        guard(ret, 4, () => {
          caps.set(bucket(h), str(kp, kl), u8().slice(vp, vp + vl));
          ok(ret);
        });
      },
      "[method]bucket.delete"(h, kp, kl, ret) {
        guard(ret, 4, () => {
          caps.delete(bucket(h), str(kp, kl));
          ok(ret);
        });
      },
      "[method]bucket.exists"(h, kp, kl, ret) {
        guard(ret, 4, () => {
          const e = caps.exists(bucket(h), str(kp, kl));
          const v = dv();
          v.setUint8(ret, 0);
          v.setUint8(ret + 4, e ? 1 : 0);
        });
      },
      "[method]bucket.list-keys"(h, hasCursor, cursor, ret) {
        guard(ret, 8, () => {
          const page = caps.listKeys(bucket(h), hasCursor ? cursor : undefined);
          const strs = page.keys.map((k) => put(enc.encode(k)));
          const list = ex.cabi_realloc(0, 0, 4, 8 * strs.length);
          const v = dv();
          strs.forEach(([p, l], i) => {
            v.setUint32(list + 8 * i, p, true);
            v.setUint32(list + 8 * i + 4, l, true);
          });
          v.setUint8(ret, 0);
          v.setUint32(ret + 8, list, true);
          v.setUint32(ret + 12, strs.length, true);
          v.setUint8(ret + 16, page.cursor === undefined ? 0 : 1);
          if (page.cursor !== undefined) v.setBigUint64(ret + 24, page.cursor, true);
        });
      },
      "[resource-drop]bucket"(h) {
        bucket(h);
        handles[h] = undefined;
      },
    },
    "wasi:keyvalue/atomics@0.2.0-draft": {
      increment(h, kp, kl, delta, ret) {
        guard(ret, 8, () => {
          const n = caps.increment(bucket(h), str(kp, kl), delta);
          const v = dv();
          v.setUint8(ret, 0);
          v.setBigUint64(ret + 8, n, true);
        });
      },
    },
  };
}

function runFast(msg) {
  mem = scrubbedMemory();
  handles = [undefined];
  // A new import object only when the memory was replaced (a guest grew the last one).
  if (importMemory !== mem) {
    importObject = { ...glue, lf: { memory: mem } };
    importMemory = mem;
  }
  ex = new WebAssembly.Instance(workerData.wasmModule, importObject).exports;
  const [sp, sl] = put(enc.encode(msg.subject));
  const [bp, bl] = put(msg.body);
  const [rp, rl] = msg.replyTo === undefined ? [0, 0] : put(enc.encode(msg.replyTo));
  const ret = ex[HANDLER](sp, sl, bp, bl, msg.replyTo === undefined ? 0 : 1, rp, rl) >>> 0;
  const v = dv();
  if (ret + 12 > mem.buffer.byteLength) throw new WebAssembly.RuntimeError(`handle-message returned an invalid pointer ${ret}`);
  const handlerError = v.getUint8(ret) === 0 ? undefined : str(v.getUint32(ret + 4, true), v.getUint32(ret + 8, true));
  if (ex[`cabi_post_${HANDLER}`]) ex[`cabi_post_${HANDLER}`](ret);
  return handlerError;
}

const glue = mode === "fast" ? fastGlue() : undefined;

// ---------------------------------------------------------------- general path: jco transpile output
let general;

async function loadGeneral() {
  // jco's glue wraps cabi_realloc with WebAssembly.promising (JSPI), absent in Node 20; a synchronous
  // component does not need it, and the exception it throws costs more than the request.
  if (typeof WebAssembly.promising !== "function") WebAssembly.promising = (f) => f;
  const { instantiate } = await import(workerData.glueUrl);
  class Bucket {
    constructor(name) {
      this.name = name;
    }
    get(key) {
      return caps.get(this.name, key);
    }
    set(key, value) {
      caps.set(this.name, key, value);
    }
    delete(key) {
      caps.delete(this.name, key);
    }
    exists(key) {
      return caps.exists(this.name, key);
    }
    listKeys(cursor) {
      return caps.listKeys(this.name, cursor);
    }
  }
  const imports = {
    "wasmcloud:messaging/types": {},
    "wasmcloud:messaging/consumer": {
      publish: (m) => caps.publish(m.subject, m.body, m.replyTo ?? undefined),
      request: (subject, body, timeoutMs) => caps.request(subject, body, timeoutMs),
    },
    "wasi:keyvalue/store": {
      Bucket,
      open(name) {
        caps.open(name);
        return new Bucket(name);
      },
    },
    "wasi:keyvalue/atomics": { increment: (b, key, delta) => caps.increment(b.name, key, delta) },
  };
  const modules = workerData.coreModules;
  general = { instantiate, imports, getCoreModule: (name) => modules[name] };
}

function runGeneral(msg) {
  const inst = general.instantiate(general.getCoreModule, general.imports);
  try {
    inst.handler.handleMessage({ subject: msg.subject, body: msg.body, replyTo: msg.replyTo });
    return undefined;
  } catch (e) {
    if (e && "payload" in e && !(e instanceof WebAssembly.RuntimeError)) return String(e.payload);
    throw e;
  }
}

// ---------------------------------------------------------------- requests
function run(msg) {
  published = [];
  try {
    const handlerError = mode === "fast" ? runFast(msg) : runGeneral(msg);
    return { ok: true, handlerError, published };
  } catch (e) {
    // A trap with the memory within 16 pages (1 MiB) of its cap: a memory.grow was refused, so the guest
    // ran out of its allowance (allocators grow in steps, so exactly-at-cap is rare). The general path's
    // memories are jco's: a refused grow shows as a trap there.
    const atCap = mode === "fast" && memory && memory.buffer.byteLength > (maxPages - 16) * PAGE;
    return { ok: false, kind: atCap ? "memory" : "trap", error: String((e && e.message) || e), published };
  }
}

// A batch runs in order; each request gets its own deadline and its own answer, so the host can time out the
// one that overruns and requeue those behind it.
parentPort.on("message", (m) => {
  if (!m || m.type !== "run") return;
  for (const item of m.items) {
    deadline = Date.now() + m.timeoutMs;
    currentId = item.id;
    const result = run(item.msg);
    parentPort.postMessage({ type: "done", id: item.id, ...result });
  }
});

(mode === "general" ? loadGeneral() : Promise.resolve()).then(
  () => parentPort.postMessage({ type: "ready" }),
  (e) => {
    throw e;
  },
);
