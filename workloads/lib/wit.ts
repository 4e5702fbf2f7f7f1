// A small canonical-ABI guest library for AssemblyScript: the latticeform worlds (wit/world.wit) lowered by
// hand. Core imports are named as wit-component expects (`<interface>` / `<function>`, resources as
// `[method]bucket.get`), strings are UTF-8, and results wider than one value come back through a return
// area the guest allocates. jco then embeds the WIT and wraps the module into a component (workloads/build.mjs).
// AssemblyScript has no exceptions to catch: every capability reports failure through `lastError`.

// wasmcloud:messaging/consumer@0.2.0
@external("wasmcloud:messaging/consumer@0.2.0", "publish")
declare function publish_raw(sp: usize, sl: usize, bp: usize, bl: usize, hasReply: i32, rp: usize, rl: usize, ret: usize): void;
@external("wasmcloud:messaging/consumer@0.2.0", "request")
declare function request_raw(sp: usize, sl: usize, bp: usize, bl: usize, timeoutMs: u32, ret: usize): void;

// wasi:keyvalue/store@0.2.0-draft and atomics
@external("wasi:keyvalue/store@0.2.0-draft", "open")
declare function open_raw(np: usize, nl: usize, ret: usize): void;
@external("wasi:keyvalue/store@0.2.0-draft", "[method]bucket.get")
declare function get_raw(b: i32, kp: usize, kl: usize, ret: usize): void;
@external("wasi:keyvalue/store@0.2.0-draft", "[method]bucket.set")
declare function set_raw(b: i32, kp: usize, kl: usize, vp: usize, vl: usize, ret: usize): void;
@external("wasi:keyvalue/atomics@0.2.0-draft", "increment")
declare function increment_raw(b: i32, kp: usize, kl: usize, delta: u64, ret: usize): void;

/** The last capability error, or null when the last call succeeded. */
export let lastError: string | null = null;

/** The canonical ABI's allocator: the host places strings and lists it passes in with it. */
export function cabi_realloc(oldPtr: usize, oldSize: usize, align: usize, newSize: usize): usize {
  if (newSize == 0) return align;
  if (oldPtr == 0) return heap.alloc(newSize);
  return heap.realloc(oldPtr, newSize);
}

function str(ptr: usize, len: usize): string {
  return String.UTF8.decodeUnsafe(ptr, len);
}

function bytesOf(ptr: usize, len: usize): Uint8Array {
  const out = new Uint8Array(<i32>len);
  memory.copy(out.dataStart, ptr, len);
  return out;
}

/** A message as `handle-message` receives it. */
export class Message {
  constructor(
    public subject: string,
    public body: Uint8Array,
    public replyTo: string | null,
  ) {}

  text(): string {
    return String.UTF8.decodeUnsafe(this.body.dataStart, <usize>this.body.length);
  }

  /** Lift the flattened `broker-message` record of `handle-message`'s parameters. */
  static lift(sp: usize, sl: usize, bp: usize, bl: usize, hasReply: i32, rp: usize, rl: usize): Message {
    return new Message(str(sp, sl), bytesOf(bp, bl), hasReply != 0 ? str(rp, rl) : null);
  }
}

/** The `store.error` variant at `at`: no-such-store, access-denied, other(string). */
function liftStoreError(at: usize): string {
  const tag = load<u8>(at);
  if (tag == 0) return "no-such-store";
  if (tag == 1) return "access-denied";
  return str(load<u32>(at + 4), load<u32>(at + 8));
}

/** `consumer.publish`; false (and `lastError`) when the host refused it. */
export function publish(subject: string, body: string): bool {
  const b = String.UTF8.encode(body);
  return publishRaw(subject, changetype<usize>(b), b.byteLength);
}

function publishRaw(subject: string, bp: usize, bl: usize): bool {
  const s = String.UTF8.encode(subject);
  const ret = heap.alloc(12);
  publish_raw(changetype<usize>(s), s.byteLength, bp, bl, 0, 0, 0, ret);
  if (load<u8>(ret) == 0) {
    lastError = null;
    return true;
  }
  lastError = str(load<u32>(ret + 4), load<u32>(ret + 8));
  return false;
}

/**
 * `consumer.request`: the answer's body, or null (and `lastError`) on failure. Return area: result tag at 0,
 * then the broker-message (subject, body, option<reply-to>) from offset 4, or the error string there.
 */
export function request(subject: string, body: string, timeoutMs: u32): Uint8Array | null {
  const s = String.UTF8.encode(subject);
  const b = String.UTF8.encode(body);
  const ret = heap.alloc(32);
  request_raw(changetype<usize>(s), s.byteLength, changetype<usize>(b), b.byteLength, timeoutMs, ret);
  if (load<u8>(ret) != 0) {
    lastError = str(load<u32>(ret + 4), load<u32>(ret + 8));
    return null;
  }
  lastError = null;
  return bytesOf(load<u32>(ret + 12), load<u32>(ret + 16));
}

/** Publish `body` to the message's `reply-to` (wash only logs handle-message's result: the reply is ours to send). */
export function reply(msg: Message, body: string): bool {
  const to = msg.replyTo;
  if (to === null) return true;
  return publish(to, body);
}

/** Publish raw bytes to the message's `reply-to`. */
export function replyBytes(msg: Message, body: Uint8Array): bool {
  const to = msg.replyTo;
  if (to === null) return true;
  return publishRaw(to, body.dataStart, <usize>body.length);
}

/** The return area of `handle-message`: result<_, string>. */
export function done(error: string | null): usize {
  const ret = heap.alloc(12);
  if (error === null) {
    store<u8>(ret, 0);
    return ret;
  }
  const e = String.UTF8.encode(error);
  store<u8>(ret, 1);
  store<u32>(ret + 4, changetype<usize>(e));
  store<u32>(ret + 8, e.byteLength);
  return ret;
}

/** A `wasi:keyvalue/store.bucket` handle (own; dropped with the instance). */
export class Bucket {
  constructor(public handle: i32) {}

  /** `open(identifier)`: null (and `lastError`) on failure. */
  static open(name: string): Bucket | null {
    const n = String.UTF8.encode(name);
    const ret = heap.alloc(16);
    open_raw(changetype<usize>(n), n.byteLength, ret);
    if (load<u8>(ret) != 0) {
      lastError = liftStoreError(ret + 4);
      return null;
    }
    lastError = null;
    return new Bucket(load<i32>(ret + 4));
  }

  /** The value of `key`; null when missing or on failure (then `lastError` is set). */
  get(key: string): Uint8Array | null {
    const k = String.UTF8.encode(key);
    const ret = heap.alloc(16);
    get_raw(this.handle, changetype<usize>(k), k.byteLength, ret);
    if (load<u8>(ret) != 0) {
      lastError = liftStoreError(ret + 4);
      return null;
    }
    lastError = null;
    if (load<u8>(ret + 4) == 0) return null;
    return bytesOf(load<u32>(ret + 8), load<u32>(ret + 12));
  }

  set(key: string, value: string): bool {
    const k = String.UTF8.encode(key);
    const v = String.UTF8.encode(value);
    const ret = heap.alloc(16);
    set_raw(this.handle, changetype<usize>(k), k.byteLength, changetype<usize>(v), v.byteLength, ret);
    if (load<u8>(ret) != 0) {
      lastError = liftStoreError(ret + 4);
      return false;
    }
    lastError = null;
    return true;
  }

  /** `atomics.increment`: the new value; 0 with `lastError` set on failure (a concurrent update included). */
  increment(key: string, delta: u64): u64 {
    const k = String.UTF8.encode(key);
    const ret = heap.alloc(24);
    increment_raw(this.handle, changetype<usize>(k), k.byteLength, delta, ret);
    if (load<u8>(ret) != 0) {
      lastError = liftStoreError(ret + 8);
      return 0;
    }
    lastError = null;
    return load<u64>(ret + 8);
  }
}

/** A counter as `atomics.increment` stores it: u64 big-endian (0 when absent or shorter, as wash reads it). */
export function counterValue(v: Uint8Array | null): u64 {
  if (v === null || v.length < 8) return 0;
  let n: u64 = 0;
  for (let i = 0; i < 8; i++) n = (n << 8) | <u64>v[i];
  return n;
}
