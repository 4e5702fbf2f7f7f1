/**
 * Wasm engine benchmark: the validator component through WasmPool (a fresh instance's state per message) inline
 * (the fast path's glue on this thread, metered, one instance reset to its state after start), on the fast path in 2 workers (its core module with our
 * canonical-ABI glue on a pooled, zeroed memory) and on the general path in 2 workers (jco transpile output),
 * beside the same rules in plain JavaScript in the same run; RSS of the pools.
 */
import * as path from "node:path";
import { WasmPool, type WasmPath } from "../src/local/wasm/engine";
import { validatePaymentJs } from "./plain-validator";
import { percentile } from "../src/lib/stats";
import { samplePayment } from "../src/lib/samples";

const pct = (v: number[], p: number): number => percentile(v, p) ?? NaN;

const payload = samplePayment("p1");
const msg = { subject: "payments.validate", body: new TextEncoder().encode(payload), replyTo: "_INBOX.bench" };

async function measure(p: WasmPath, n: number, inline = false): Promise<{ p50: number; p99: number; rps: number; rssMiB: number }> {
  const rssBefore = process.memoryUsage().rss;
  const pool = await WasmPool.create({
    wasmFile: path.join(__dirname, "..", "workloads", "build", "validator.wasm"),
    limits: { memoryMiB: 16, timeoutMs: 1000 },
    size: 2,
    path: p,
    inline,
  });
  if (pool.runsInline !== inline) throw new Error(`the pool ${inline ? "does not run" : "runs"} inline`);
  for (let i = 0; i < 300; i++) await pool.handle(msg);
  const rssMiB = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
  const lat: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const t = performance.now();
    const r = await pool.handle(msg);
    if (!r.ok || r.published.length !== 1) throw new Error(r.ok ? "no reply" : r.error);
    lat.push(performance.now() - t);
  }
  const t0 = performance.now();
  await Promise.all(Array.from({ length: n }, () => pool.handle(msg)));
  const rps = n / ((performance.now() - t0) / 1000);
  await pool.close();
  return { p50: pct(lat, 50), p99: pct(lat, 99), rps, rssMiB };
}

async function main(): Promise<void> {
  const inline = await measure("fast", 20000, true);
  const fast = await measure("fast", 20000);
  const general = await measure("general", 5000);
  const jsLat: number[] = [];
  for (let i = 0; i < 3000; i++) {
    const t = performance.now();
    validatePaymentJs(JSON.parse(payload));
    jsLat.push(performance.now() - t);
  }
  const t0 = performance.now();
  for (let i = 0; i < 20000; i++) validatePaymentJs(JSON.parse(payload));
  const jsRps = 20000 / ((performance.now() - t0) / 1000);
  console.log("validator component, the state of a fresh instance for each message (same run):");
  for (const [name, r] of [
    ["inline (this thread, metered)", inline],
    ["fast path, 2 workers         ", fast],
    ["general path, 2 workers      ", general],
  ] as const) {
    console.log(
      `  ${name}: p50 ${r.p50.toFixed(3)} ms, p99 ${r.p99.toFixed(3)} ms (sequential); ${r.rps.toFixed(0)} req/s (many in flight); RSS added ${r.rssMiB.toFixed(1)} MiB`,
    );
  }
  console.log(`  general/fast: p50 ${(general.p50 / fast.p50).toFixed(2)}x, throughput ${(general.rps / fast.rps).toFixed(3)}x`);
  console.log(`  inline/fast: p50 ${(inline.p50 / fast.p50).toFixed(2)}x, throughput ${(inline.rps / fast.rps).toFixed(3)}x`);
  console.log(
    `  plain JS in-process: p50 ${pct(jsLat, 50).toFixed(4)} ms; ${jsRps.toFixed(0)} req/s; fast path / JS throughput ${(fast.rps / jsRps).toFixed(3)}`,
  );
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
