// The fast path's canonical-ABI glue: the component's single core module on a pooled, zeroed memory, with the
// world's capabilities from `caps`. Plain JavaScript, shared by the Wasm workers (worker.cjs) and by the host's
// own thread for metered guests (engine.ts, inline), so both run a guest through the very same code.
"use strict";

const enc = new TextEncoder();
const dec = new TextDecoder();
const HANDLER = "wasmcloud:messaging/handler@0.2.0#handle-message";
const PAGE = 65536;
/** Loop iterations and calls a metered guest runs between two looks at the clock (meter.ts). */
const FUEL = 10000;

/** What a metered guest's tick throws past its deadline; ends the guest (nothing catches it inside Wasm). */
class GuestTimeout extends Error {
  constructor() {
    super("the guest ran past its deadline");
    this.name = "GuestTimeout";
  }
}

/**
 * A runner for one core module: `run(msg, deadline)` instantiates it on a fresh (scrubbed) memory and calls
 * handle-message, returning its error string or undefined; traps and GuestTimeout are thrown. `caps` are the
 * world's capabilities as JavaScript values (see worker.cjs). A `metered` module (meter.ts) gets a tick that
 * refuels it until `deadline` and then throws GuestTimeout; `tickFunction` is meter.ts's, passed in. `reset`
 * ({ globals }, from meter.ts for a resettable module) lets one instance serve every message, restored to its
 * state after start each time instead of instantiated again.
 */
function createFastRunner({ wasmModule, minPages, maxPages, caps, metered, tickFunction, reset }) {
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

  // The running instance's memory, exports and bucket handles: the glue is built once per runner.
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

  // A resettable module's state right after start (memory bytes, its own mutable globals), and the instance
  // that can be put back into it.
  let snapshot;
  let live;

  /**
   * The state of a fresh instance for the next message. A resettable module (meter.ts) gets its last instance
   * put back to the snapshot, which is that state exactly (its memory and globals are all it has); otherwise,
   * or when the last guest grew its memory, a new instance on a scrubbed memory.
   */
  function freshInstance() {
    if (live && memory === live.memory && memory.buffer.byteLength === snapshot.bytes.length) {
      new Uint8Array(memory.buffer).set(snapshot.bytes);
      live.globals.forEach((g, i) => (g.value = snapshot.values[i]));
      mem = memory;
      ex = live.ex;
      return;
    }
    live = undefined;
    mem = scrubbedMemory();
    // A new import object only when the memory was replaced (a guest grew the last one).
    if (importMemory !== mem) {
      importObject = { ...glue, lf: { memory: mem } };
      importMemory = mem;
    }
    ex = new WebAssembly.Instance(wasmModule, importObject).exports;
    if (tick) {
      ex.lf_tick.set(0, tick);
      if (ex.lf_start) ex.lf_start();
    }
    if (reset) {
      const globals = reset.globals.map((n) => ex[n]);
      if (!snapshot || snapshot.bytes.length !== mem.buffer.byteLength)
        snapshot = { bytes: new Uint8Array(mem.buffer).slice(), values: globals.map((g) => g.value) };
      live = { ex, memory: mem, globals };
    }
  }

  function runFast(msg) {
    handles = [undefined];
    freshInstance();
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

  let deadline = 0;
  const tick = metered
    ? tickFunction(() => {
        if (performance.now() > deadline) throw new GuestTimeout();
        ex.lf_fuel.value = FUEL;
      })
    : undefined;
  const glue = fastGlue();
  return {
    run(msg, deadlineMs) {
      deadline = deadlineMs;
      return runFast(msg);
    },
    /** The memory is within 16 pages (1 MiB) of its cap: a refused memory.grow is why the guest trapped. */
    atCap: () => !!memory && memory.buffer.byteLength > (maxPages - 16) * PAGE,
  };
}

module.exports = { createFastRunner, GuestTimeout };
