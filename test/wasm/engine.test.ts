import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { KvConflict, WasmPool, type KvCapability } from "../../src/local/wasm/engine";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const build = (n: string) => path.join("workloads", "build", `${n}.wasm`);
const limits = { memoryMiB: 16, timeoutMs: 1000 };
const pools: WasmPool[] = [];
const tmp = mkdtempSync(path.join(tmpdir(), "lf-wasm-"));

async function pool(name: string, opts: { memoryMiB?: number; timeoutMs?: number; kv?: KvCapability } = {}): Promise<WasmPool> {
  const p = await WasmPool.create({ wasmFile: build(name), limits: { ...limits, ...opts }, kv: opts.kv, size: 2 });
  pools.push(p);
  return p;
}

/** An in-memory bucket with revisions and conditional writes, like JetStream KV's. */
function memoryKv(opts: { delayMs?: number; conditional?: boolean } = {}): KvCapability & { store: Map<string, string> } {
  const store = new Map<string, string>();
  const revs = new Map<string, number>();
  let seq = 0;
  const pause = () => new Promise((r) => setTimeout(r, opts.delayMs ?? 0));
  return {
    store,
    async get(k) {
      await pause();
      return store.has(k) ? { value: enc(store.get(k)!), revision: revs.get(k)! } : undefined;
    },
    async put(k, v, expected) {
      await pause();
      if (opts.conditional !== false && expected !== undefined && expected !== (revs.get(k) ?? 0)) throw new KvConflict(k);
      store.set(k, dec(v));
      revs.set(k, ++seq);
      return seq;
    },
  };
}

async function json(p: WasmPool, body: unknown): Promise<Record<string, unknown>> {
  const r = await p.handle(enc(JSON.stringify(body)));
  assert.ok(r.ok, r.ok ? "" : `${r.kind}: ${r.error}`);
  return JSON.parse(dec(r.output)) as Record<string, unknown>;
}

describe("Wasm engine and sample workloads", () => {
  after(async () => {
    for (const p of pools) await p.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it("the validator accepts a valid payment and rejects a bad IBAN, amount and currency", async () => {
    const v = await pool("validator");
    assert.deepEqual(await json(v, { id: "p1", amount: 1250, currency: "EUR", iban: "DE89370400440532013000" }), {
      id: "p1",
      valid: true,
      reasons: [],
    });
    assert.deepEqual(await json(v, { id: "p2", amount: 10, currency: "EUR", iban: "DE89370400440532013001" }), {
      id: "p2",
      valid: false,
      reasons: ["invalid IBAN"],
    });
    assert.deepEqual((await json(v, { id: "p3", amount: -1, currency: "XXX", iban: "GB82WEST12345698765432" })).reasons, [
      "amount must be positive",
      "currency not allowed",
    ]);
  });

  it("the ledger applies deltas through the key-value capability, refuses overdraft and is idempotent per id", async () => {
    const kv = memoryKv();
    const l = await pool("ledger", { kv });
    assert.deepEqual(await json(l, { id: "t1", account: "a", delta: 100 }), { account: "a", balance: 100, applied: true });
    assert.deepEqual(await json(l, { id: "t2", account: "a", delta: -30 }), { account: "a", balance: 70, applied: true });
    assert.deepEqual(await json(l, { id: "t2", account: "a", delta: -30 }), { account: "a", balance: 70, applied: false, duplicate: true });
    assert.deepEqual(await json(l, { id: "t3", account: "a", delta: -71 }), {
      account: "a",
      balance: 70,
      applied: false,
      error: "insufficient funds",
    });
    assert.equal(kv.store.get("account.a"), "70|,t1,t2,");
    assert.equal(kv.store.get("applied.t2"), "1");
    assert.equal(kv.store.has("applied.t3"), false);
  });

  it("a workload without a key-value grant cannot use it", async () => {
    const l = await pool("ledger");
    const r = await l.handle(enc(JSON.stringify({ id: "t1", account: "a", delta: 1 })));
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.kind, "trap");
  });

  it("a trap is an error reply and the pool keeps serving", async () => {
    const t = await pool("trap");
    const r = await t.handle(enc("{}"));
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.kind, "trap");
    assert.equal((await t.handle(enc("{}"))).ok, false);
    assert.equal(t.stats().restarts, 0);
  });

  it("a guest that loops forever is stopped at its time limit and the pool serves again", async () => {
    const lp = await pool("loop", { timeoutMs: 150 });
    const t0 = performance.now();
    const r = await lp.handle(enc("{}"));
    const took = performance.now() - t0;
    assert.equal(!r.ok && r.kind, "timeout");
    assert.ok(took < 5000, `took ${took} ms`);
    assert.equal(lp.stats().restarts, 1);
    // Both workers loop: both are replaced, and the queue behind them is still answered.
    const rs = await Promise.all([lp.handle(enc("{}")), lp.handle(enc("{}")), lp.handle(enc("{}"))]);
    assert.deepEqual(
      rs.map((x) => !x.ok && x.kind),
      ["timeout", "timeout", "timeout"],
    );
    assert.equal(lp.stats().restarts, 4);
  });

  it("a guest that grows memory past its limit is stopped with a memory error", async () => {
    const h = await pool("hog", { memoryMiB: 4 });
    const r = await h.handle(enc("{}"));
    assert.equal(!r.ok && r.kind, "memory");
  });

  it("refuses modules that import what the sandbox does not grant, or bring their own memory", async () => {
    // (module (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32))) (import "env" "memory" (memory 1)))
    const wasi = Uint8Array.from([
      0, 97, 115, 109, 1, 0, 0, 0, 1, 9, 1, 96, 4, 127, 127, 127, 127, 1, 127, 2, 49, 2, 22, 119, 97, 115, 105, 95, 115, 110, 97, 112, 115,
      104, 111, 116, 95, 112, 114, 101, 118, 105, 101, 119, 49, 8, 102, 100, 95, 119, 114, 105, 116, 101, 0, 0, 3, 101, 110, 118, 6, 109,
      101, 109, 111, 114, 121, 2, 0, 1,
    ]);
    const f = path.join(tmp, "wasi.wasm");
    writeFileSync(f, wasi);
    await assert.rejects(
      WasmPool.create({ wasmFile: f, limits }),
      /imports wasi_snapshot_preview1\.fd_write, which the sandbox does not grant \(allowed: env\.memory, env\.kv_get, env\.kv_put\)/,
    );
    // (module (memory 1)) : defines its own memory, which the host could not cap.
    const own = path.join(tmp, "own.wasm");
    writeFileSync(own, Uint8Array.from([0, 97, 115, 109, 1, 0, 0, 0, 5, 3, 1, 0, 1]));
    await assert.rejects(WasmPool.create({ wasmFile: own, limits }), /must import env\.memory/);
    const junk = path.join(tmp, "junk.wasm");
    writeFileSync(junk, "not wasm");
    await assert.rejects(WasmPool.create({ wasmFile: junk, limits }), /not a valid WebAssembly module/);
  });

  it("concurrent updates of one account from two hosts: none is lost, each applied once (key locks, conditional writes, reruns)", async () => {
    // Two pools on one bucket stand for two hosts. Unconditional writes lose updates here: the test can fail.
    for (const conditional of [true, false]) {
      const kv = memoryKv({ delayMs: 5, conditional });
      const hosts = await Promise.all([0, 1].map(() => WasmPool.create({ wasmFile: build("ledger"), limits, kv, size: 4, maxSize: 4 })));
      pools.push(...hosts);
      const n = 40;
      const send = (i: number) => hosts[i % 2]!.handle(enc(JSON.stringify({ id: `c${i}`, account: "hot", delta: 1 })));
      const out = await Promise.all(Array.from({ length: n }, (_, i) => send(i)));
      const balance = () => Number(kv.store.get("account.hot")!.split("|")[0]);
      if (!conditional) {
        assert.ok(balance() < n, `without conditional writes no update was lost (${balance()}): the test cannot fail`);
        continue;
      }
      assert.ok(
        out.every((r) => r.ok),
        `a request failed: ${JSON.stringify(out.filter((r) => !r.ok).slice(0, 2))}`,
      );
      assert.equal(balance(), n, "an acknowledged update was lost");
      for (let i = 0; i < n; i++) assert.equal(kv.store.get(`applied.c${i}`), "1");
      // Replaying every id applies nothing more.
      await Promise.all(Array.from({ length: n }, (_, i) => send(i)));
      assert.equal(balance(), n);
    }
  });

  it("one host never races itself on a key: a hot account needs no reruns", async () => {
    const kv = memoryKv({ delayMs: 2 });
    let puts = 0;
    const counting: KvCapability = { get: (k) => kv.get(k), put: (k, v, e) => (puts++, kv.put(k, v, e)) };
    const l = await WasmPool.create({ wasmFile: build("ledger"), limits, kv: counting, size: 4, maxSize: 4 });
    pools.push(l);
    await Promise.all(Array.from({ length: 30 }, (_, i) => json(l, { id: `s${i}`, account: "solo", delta: 1 })));
    assert.equal(Number(kv.store.get("account.solo")!.split("|")[0]), 30);
    assert.equal(puts, 60, "a write was repeated: requests of one pool raced on the key");
  });

  it("grows from one worker while guests wait on slow key-value, up to its maximum", async () => {
    const slow = memoryKv({ delayMs: 40 });
    const l = await WasmPool.create({ wasmFile: build("ledger"), limits, kv: slow, size: 1, maxSize: 3 });
    pools.push(l);
    assert.equal(l.stats().workers, 1);
    const out = await Promise.all(Array.from({ length: 12 }, (_, i) => json(l, { id: `g${i}`, account: `g${i}`, delta: 1 })));
    out.forEach((o, i) => assert.deepEqual(o, { account: `g${i}`, balance: 1, applied: true }));
    assert.equal(l.stats().workers, 3);
  });

  it("gives every request a fresh instance: nothing leaks between requests", async () => {
    const kv = memoryKv();
    const l = await pool("ledger", { kv });
    // Same account, many requests in parallel on two workers: each sees only the KV state, never another request's memory.
    const out = await Promise.all(Array.from({ length: 20 }, (_, i) => json(l, { id: `x${i}`, account: `acc${i}`, delta: i + 1 })));
    out.forEach((o, i) => assert.deepEqual(o, { account: `acc${i}`, balance: i + 1, applied: true }));
    // A guest that reads what the previous request left in memory sees only zeros, on every worker.
    const snoop = await pool("snoop");
    for (let i = 0; i < 10; i++) {
      const r = await snoop.handle(enc(`secret-${i}-0123456789`));
      assert.ok(r.ok, r.ok ? "" : r.error);
      assert.deepEqual([...r.output], new Array(16).fill(0), `request ${i} saw ${JSON.stringify(dec(r.output))}`);
    }
  });
});
