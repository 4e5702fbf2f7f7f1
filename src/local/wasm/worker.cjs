// Runs workload components for one WasmPool worker. Plain JavaScript on purpose: a worker that is terminated
// on timeout is respawned at once, without loading a TypeScript loader. See engine.ts for the protocol.
//
// Two paths: "fast" instantiates the component's single core module with the canonical-ABI glue (fastGlue.cjs) on a
// pooled, zeroed memory; "general" runs `jco transpile` output (any component of the world). Both call the
// same capabilities (`caps`), so they give the same replies.
"use strict";
const { parentPort, workerData } = require("node:worker_threads");
const { createFastRunner } = require("./fastGlue.cjs");

const { mode, sab, minPages, maxPages } = workerData;
const ctrl = new Int32Array(sab, 0, 4);
const data = new Uint8Array(sab, 16);
const enc = new TextEncoder();
const dec = new TextDecoder();

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
const fast = mode === "fast" ? createFastRunner({ wasmModule: workerData.wasmModule, minPages, maxPages, caps }) : undefined;

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
    const handlerError = mode === "fast" ? fast.run(msg, Infinity) : runGeneral(msg);
    return { ok: true, handlerError, published };
  } catch (e) {
    // A trap with the memory within 16 pages (1 MiB) of its cap: a memory.grow was refused, so the guest
    // ran out of its allowance (allocators grow in steps, so exactly-at-cap is rare). The general path's
    // memories are jco's: a refused grow shows as a trap there.
    const atCap = mode === "fast" && fast.atCap();
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
