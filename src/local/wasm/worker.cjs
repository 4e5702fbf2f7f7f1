// Runs Wasm guests for one WasmPool worker. Plain JavaScript on purpose: a worker that is terminated on
// timeout is respawned at once, without loading a TypeScript loader. See engine.ts for the protocol.
"use strict";
const { parentPort, workerData } = require("node:worker_threads");

const { wasmModule, minPages, maxPages, sab } = workerData;
const ctrl = new Int32Array(sab, 0, 4);
const rev = new Float64Array(sab, 16, 1);
const data = new Uint8Array(sab, 24);
const enc = new TextEncoder();
const dec = new TextDecoder();

let deadline = 0;
/** The request running now (the host locks the keys it touches to it) and a counter of host calls. */
let currentId = 0;
let callSeq = 0;
const PAGE = 65536;
let memory;

/**
 * A zeroed memory at its starting size for the next instance. Reusing the worker's memory, scrubbed, is what
 * a fresh one would be (instantiation re-applies the data segments; globals and tables are per instance),
 * at a tenth of the cost: creating and collecting a WebAssembly.Memory per request dominated the request.
 * A memory the last guest grew is replaced, since a memory cannot shrink.
 */
function scrubbedMemory() {
  if (memory && memory.buffer.byteLength === minPages * PAGE) new Uint8Array(memory.buffer).fill(0);
  else memory = new WebAssembly.Memory({ initial: minPages, maximum: maxPages });
  return memory;
}

/** Ask the main thread for a KV operation and block (bounded by the request's deadline). */
function hostCall(msg) {
  const seq = ++callSeq;
  Atomics.store(ctrl, 0, 0);
  parentPort.postMessage({ ...msg, rid: currentId, seq });
  for (;;) {
    const wait = deadline - Date.now();
    if (wait <= 0 || Atomics.wait(ctrl, 0, 0, wait) === "timed-out") return { status: -1 };
    if (Atomics.load(ctrl, 3) === seq) break;
    // A late answer to an earlier call: wait on for ours (which may have landed while we looked).
    Atomics.store(ctrl, 0, 0);
    if (Atomics.load(ctrl, 3) === seq) break;
  }
  const status = Atomics.load(ctrl, 1);
  const len = Atomics.load(ctrl, 2);
  return { status, revision: rev[0], bytes: status === 1 ? data.slice(0, len) : undefined };
}

/**
 * Optimistic concurrency for guests: a write to a key this request read is conditional on the revision it
 * read (0: the key was absent), so two requests that read the same balance cannot both write it. The loser
 * gets an error from kv_put and the host runs the whole request again in a fresh instance.
 */
function run(payload) {
  const memory = scrubbedMemory();
  const revisions = new Map();
  let conflict = false;
  let exportsRef;
  const mem = () => new Uint8Array(memory.buffer);
  const env = {
    memory,
    kv_get(keyPtr, keyLen) {
      const key = dec.decode(mem().slice(keyPtr, keyPtr + keyLen));
      const r = hostCall({ kv: "get", key });
      if (r.status === 0) {
        revisions.set(key, 0);
        return 0;
      }
      if (r.status !== 1) return -1;
      revisions.set(key, r.revision);
      const p = exportsRef.alloc(4 + r.bytes.length);
      new DataView(memory.buffer).setInt32(p, r.bytes.length, true);
      mem().set(r.bytes, p + 4);
      return p;
    },
    kv_put(keyPtr, keyLen, valPtr, valLen) {
      const m = mem();
      const key = dec.decode(m.slice(keyPtr, keyPtr + keyLen));
      const value = m.slice(valPtr, valPtr + valLen);
      const r = hostCall({ kv: "put", key, value, expected: revisions.get(key) });
      if (r.status === -2) conflict = true;
      if (r.status !== 1) return -1;
      revisions.set(key, r.revision);
      return 0;
    },
  };
  const instance = new WebAssembly.Instance(wasmModule, { env });
  exportsRef = instance.exports;
  try {
    const ptr = exportsRef.alloc(payload.length);
    mem().set(payload, ptr);
    const res = exportsRef.handle(ptr, payload.length) >>> 0;
    // Whatever the guest made of the failed write, the request runs again (guests keep reruns safe).
    if (conflict) return { ok: false, kind: "conflict", error: "a key-value write lost a race" };
    const view = new DataView(memory.buffer);
    const len = view.getInt32(res, true);
    if (len < 0 || res + 4 + len > memory.buffer.byteLength)
      return { ok: false, kind: "abi", error: `guest returned an invalid result (ptr ${res}, len ${len})` };
    return { ok: true, output: mem().slice(res + 4, res + 4 + len) };
  } catch (e) {
    if (conflict) return { ok: false, kind: "conflict", error: "a key-value write lost a race" };
    // A trap with the memory within 16 pages (1 MiB) of its cap: a memory.grow was refused, so the guest
    // ran out of its allowance (allocators grow in steps, so exactly-at-cap is rare).
    const atCap = memory.buffer.byteLength > (maxPages - 16) * 65536;
    return { ok: false, kind: atCap ? "memory" : "trap", error: String((e && e.message) || e) };
  }
}

// A batch runs in order; each request gets its own deadline and its own reply, so the host can time out the
// one that overruns and requeue those behind it.
parentPort.on("message", (m) => {
  if (!m || m.type !== "run") return;
  for (const item of m.items) {
    deadline = Date.now() + m.timeoutMs;
    currentId = item.id;
    let result;
    try {
      result = run(item.payload);
    } catch (e) {
      result = { ok: false, kind: "trap", error: String((e && e.message) || e) };
    }
    parentPort.postMessage({ type: "done", id: item.id, ...result }, result.output ? [result.output.buffer] : []);
  }
});
parentPort.postMessage({ type: "ready", enc: enc.encode("ok").length });
