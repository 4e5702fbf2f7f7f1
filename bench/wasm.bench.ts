/**
 * Wasm engine benchmark: the validator through WasmPool (a fresh instance per request, 2 workers) beside the
 * same rules in plain JavaScript in the same run; RSS per worker.
 */
import * as path from "node:path";
import { WasmPool } from "../src/local/wasm/engine";
import { validatePaymentJs } from "./plain-validator";
import { percentile } from "../src/lib/stats";
import { samplePayment } from "../src/lib/samples";

const pct = (v: number[], p: number): number => percentile(v, p) ?? NaN;

async function main(): Promise<void> {
  const payload = samplePayment("p1");
  const bytes = new TextEncoder().encode(payload);
  const rssBefore = process.memoryUsage().rss;
  const pool = await WasmPool.create({
    wasmFile: path.join(__dirname, "..", "workloads", "build", "validator.wasm"),
    limits: { memoryMiB: 16, timeoutMs: 1000 },
    size: 2,
  });
  const rssAfter = process.memoryUsage().rss;
  for (let i = 0; i < 500; i++) await pool.handle(bytes);
  const lat: number[] = [];
  for (let i = 0; i < 3000; i++) {
    const t = performance.now();
    const r = await pool.handle(bytes);
    if (!r.ok) throw new Error(r.error);
    lat.push(performance.now() - t);
  }
  const n = 20000;
  let t0 = performance.now();
  await Promise.all(Array.from({ length: n }, () => pool.handle(bytes)));
  const wasmRps = n / ((performance.now() - t0) / 1000);
  const jsLat: number[] = [];
  for (let i = 0; i < 3000; i++) {
    const t = performance.now();
    validatePaymentJs(JSON.parse(payload));
    jsLat.push(performance.now() - t);
  }
  t0 = performance.now();
  for (let i = 0; i < n; i++) validatePaymentJs(JSON.parse(payload));
  const jsRps = n / ((performance.now() - t0) / 1000);
  console.log(`validator, fresh instance per request, 2 worker threads:`);
  console.log(
    `  latency p50 ${pct(lat, 50).toFixed(3)} ms, p99 ${pct(lat, 99).toFixed(3)} ms (sequential); throughput ${wasmRps.toFixed(0)} req/s (${n} in flight)`,
  );
  console.log(
    `  plain JS in-process: p50 ${pct(jsLat, 50).toFixed(4)} ms; ${jsRps.toFixed(0)} req/s — ratio Wasm/JS throughput ${(wasmRps / jsRps).toFixed(3)}`,
  );
  console.log(
    `  RSS added by the pool (2 workers + compiled module): ${((rssAfter - rssBefore) / 2 ** 20).toFixed(1)} MiB (${((rssAfter - rssBefore) / 2 ** 21).toFixed(1)} MiB per worker)`,
  );
  await pool.close();
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
