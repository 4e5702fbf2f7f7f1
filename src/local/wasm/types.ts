/** What a host and the Wasm engine exchange: messages, results, limits and a pool's options. */
import type { KvBackend } from "./keyvalue";

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
