/**
 * Inline runs: a metered fast-path guest (meter.ts) on the caller's thread, through the same glue as the
 * workers (fastGlue.cjs). No thread hand-off, which is what brings a request's cost near a plain NATS
 * responder's. The guest may only publish: any other capability would block, so the run stops there and the
 * message goes to a worker ("needs-worker"; nothing it published was sent). A guest that needed a worker or
 * overran its time once is not run inline again (`demoted`), so it cannot hold up the caller's thread twice.
 */
import * as path from "node:path";
import { REPO_ROOT } from "../../paths";
import { tickFunction } from "./meter";
import type { meteredModule } from "./prepare";
import type { BrokerMessage, Published, WasmResult } from "./types";

// From the checkout, not __dirname: the host may run from a bundle elsewhere.
export const GLUE = path.join(REPO_ROOT, "src", "local", "wasm", "fastGlue.cjs");

interface FastRunner {
  run(msg: BrokerMessage, deadline: number): string | undefined;
  atCap(): boolean;
}

/** fastGlue.cjs, loaded at run time like the worker. */
const glue = (): {
  createFastRunner(o: Record<string, unknown>): FastRunner;
  GuestTimeout: new () => Error;
} => require(GLUE);

/** What an inline guest's blocking capability throws. */
class NeedsWorker extends Error {}

export class InlineRunner {
  private readonly runner: FastRunner;
  private published: Published[] = [];
  /** Set for good once the guest needed a worker or overran its time. */
  demoted = false;

  constructor(
    metered: NonNullable<Awaited<ReturnType<typeof meteredModule>>>,
    pages: { minPages: number; maxPages: number },
    private readonly timeoutMs: number,
  ) {
    const fail = () => {
      throw new NeedsWorker();
    };
    this.runner = glue().createFastRunner({
      wasmModule: metered.module,
      reset: metered.reset,
      ...pages,
      metered: true,
      tickFunction,
      // What the guest may do without waiting; anything else needs a worker that can block on it.
      caps: new Proxy(
        { publish: (subject: string, body: Uint8Array, replyTo?: string) => void this.published.push({ subject, body, replyTo }) },
        { get: (t, k) => (k === "publish" ? t.publish : fail) },
      ),
    });
  }

  /** One message, synchronously; "needs-worker" when it must run in a worker instead. Never throws for guest faults. */
  run(msg: BrokerMessage): WasmResult | "needs-worker" {
    this.published = [];
    const started = performance.now();
    try {
      const handlerError = this.runner.run(msg, started + this.timeoutMs);
      const durationMs = performance.now() - started;
      return { ok: true, published: this.published, durationMs, ...(handlerError !== undefined ? { handlerError } : {}) };
    } catch (e) {
      if (e instanceof NeedsWorker) {
        this.demoted = true;
        return "needs-worker";
      }
      const durationMs = performance.now() - started;
      if (e instanceof glue().GuestTimeout) {
        this.demoted = true;
        const error = `the guest ran longer than its ${this.timeoutMs} ms limit`;
        return { ok: false, kind: "timeout", error, published: [], durationMs };
      }
      const error = String((e as Error)?.message ?? e);
      return { ok: false, kind: this.runner.atCap() ? "memory" : "trap", error, published: this.published, durationMs };
    }
  }
}
