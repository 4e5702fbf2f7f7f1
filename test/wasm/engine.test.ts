import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { WasmPool, type RequestCapability, type WasmPath, type WasmResult } from "../../src/local/wasm/engine";
import { memoryBackend, type KvBackend } from "../../src/local/wasm/keyvalue";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const build = (n: string) => path.join("workloads", "build", `${n}.wasm`);
const limits = { memoryMiB: 16, timeoutMs: 1000 };
const pools: WasmPool[] = [];
const tmp = mkdtempSync(path.join(tmpdir(), "lf-wasm-"));
/**
 * How a guest runs: inline (the fast path's glue on the caller's thread, metered), the fast path in workers,
 * the general path (jco transpile) in workers. Guests with key-value never run inline.
 */
type Mode = "inline" | "fast" | "general";
const MODES: Mode[] = ["inline", "fast", "general"];
const PATHS: WasmPath[] = ["fast", "general"];
const pathOf = (m: Mode): WasmPath => (m === "general" ? "general" : "fast");

async function pool(
  name: string,
  m: Mode,
  opts: { memoryMiB?: number; timeoutMs?: number; kv?: KvBackend; size?: number; request?: RequestCapability } = {},
): Promise<WasmPool> {
  const pl = await WasmPool.create({
    wasmFile: build(name),
    limits: { memoryMiB: opts.memoryMiB ?? limits.memoryMiB, timeoutMs: opts.timeoutMs ?? limits.timeoutMs },
    kv: opts.kv ? { bucket: "balances", backend: opts.kv } : undefined,
    size: opts.size ?? 2,
    path: pathOf(m),
    inline: m === "inline",
    request: opts.request,
  });
  pools.push(pl);
  return pl;
}

const send = (p: WasmPool, body: string | Uint8Array): Promise<WasmResult> =>
  p.handle({ subject: "t.in", body: typeof body === "string" ? enc(body) : body, replyTo: "_INBOX.t" });

/** The guest's reply: what it published to reply-to. */
function replyOf(r: WasmResult): Uint8Array {
  const m = r.published.find((x) => x.subject === "_INBOX.t");
  assert.ok(m, `no reply published (${r.ok ? `handler error ${r.handlerError}` : `${r.kind}: ${r.error}`})`);
  return m.body;
}

async function json(p: WasmPool, body: unknown): Promise<Record<string, unknown>> {
  return JSON.parse(dec(replyOf(await send(p, JSON.stringify(body))))) as Record<string, unknown>;
}

const u64 = (b: Uint8Array | undefined) => (b ? Buffer.from(b).readBigUInt64BE(0) : undefined);

describe("Wasm engine: workload components on both paths", () => {
  after(async () => {
    for (const p of pools) await p.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  for (const p of MODES) {
    it(`${p}: the validator publishes its verdict to reply-to`, async () => {
      const v = await pool("validator", p);
      assert.equal(v.path, pathOf(p));
      // Inline runs start no worker at all.
      assert.deepEqual([v.runsInline, v.stats().workers === 0], [p === "inline", p === "inline"]);
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
      // No reply-to: nothing is published (wash only logs handle-message's result).
      const r = await v.handle({ subject: "t.in", body: enc("{}") });
      assert.ok(r.ok);
      assert.deepEqual(r.published, []);
    });

    it(`${p}: the ledger keeps u64 counters and markers, refuses overdraft, answers a known id as a duplicate`, async () => {
      const kv = memoryBackend();
      const l = await pool("ledger", p, { kv });
      // A guest that waits on key-value needs a worker that can block: never inline.
      assert.equal(l.runsInline, false);
      assert.deepEqual(await json(l, { id: "t1", account: "a", delta: 100 }), { account: "a", balance: 100, applied: true });
      assert.deepEqual(await json(l, { id: "t2", account: "a", delta: -30 }), { account: "a", balance: 70, applied: true });
      assert.deepEqual(await json(l, { id: "t2", account: "a", delta: -30 }), {
        account: "a",
        balance: 70,
        applied: false,
        duplicate: true,
      });
      assert.deepEqual(await json(l, { id: "t3", account: "a", delta: -71 }), {
        account: "a",
        balance: 70,
        applied: false,
        error: "insufficient funds",
      });
      assert.equal(u64(kv.store.get("credit.a")), 100n);
      assert.equal(u64(kv.store.get("debit.a")), 30n);
      assert.equal(kv.store.get("credit.a")!.length, 8);
      assert.deepEqual(JSON.parse(dec(kv.store.get("applied.t2")!)), { account: "a", delta: -30 });
      assert.equal(kv.store.has("applied.t3"), false);
    });

    it(`${p}: a failing capability is an error reply the guest publishes, and handle-message returns err`, async () => {
      const broken: KvBackend = { ...memoryBackend(), entry: () => Promise.reject(new Error("no responders")) };
      const l = await pool("ledger", p, { kv: broken });
      const r = await send(l, JSON.stringify({ id: "e1", account: "a", delta: 1 }));
      assert.ok(r.ok);
      assert.match(r.handlerError ?? "", /JetStream error: no responders/);
      assert.deepEqual(JSON.parse(dec(replyOf(r))), { applied: false, error: "key-value: JetStream error: no responders" });
    });

    it(`${p}: a guest that calls request gets the answer (inline: run again in a worker, and in workers from then on)`, async () => {
      const asked: string[] = [];
      const request: RequestCapability = async (subject, body) => {
        asked.push(`${subject} ${dec(body)}`);
        return { subject: "_INBOX.answer", body: enc(`pong-${dec(body)}`) };
      };
      const a = await pool("asker", p, { request });
      assert.equal(a.runsInline, p === "inline");
      for (const q of ["one", "two"]) assert.equal(dec(replyOf(await send(a, q))), `asked:pong-${q}`);
      // Each message asked once: the inline attempt stopped at the call, before anything was sent.
      assert.deepEqual(asked, ["t.ask one", "t.ask two"]);
      assert.equal(a.runsInline, false);
      assert.ok(a.stats().workers > 0);
      const failing = await pool("asker", p, { request: () => Promise.reject(new Error("no responders")) });
      // wash 2.7's wording (wasmcloud_messaging/nats.rs), around the client's error.
      assert.equal(dec(replyOf(await send(failing, "x"))), "error:failed to send request: no responders");
    });

    it(`${p}: a trap is an error result without a reply and the pool keeps serving`, async () => {
      const t = await pool("trap", p);
      const r = await send(t, "{}");
      assert.equal(!r.ok && r.kind, "trap");
      assert.deepEqual(r.published, []);
      assert.equal((await send(t, "{}")).ok, false);
      assert.equal(t.stats().restarts, 0);
    });

    it(`${p}: a guest that loops forever is stopped at its time limit and the pool serves again`, async () => {
      const lp = await pool("loop", p, { timeoutMs: 150 });
      const t0 = performance.now();
      const r = await send(lp, "{}");
      assert.equal(!r.ok && r.kind, "timeout");
      assert.ok(performance.now() - t0 < 5000);
      // Inline, the fuel checks see the deadline within a fraction of it.
      if (p === "inline") assert.ok(r.durationMs >= 150 && r.durationMs < 300, `stopped after ${r.durationMs} ms`);
      const rs = await Promise.all([send(lp, "{}"), send(lp, "{}"), send(lp, "{}")]);
      assert.deepEqual(
        rs.map((x) => !x.ok && x.kind),
        ["timeout", "timeout", "timeout"],
      );
      // Inline, the first overrun is stopped by its fuel checks on the caller's thread, and the guest runs in
      // workers from then on (it can no longer hold up the host); in workers each overrun costs a worker.
      assert.equal(lp.stats().restarts, p === "inline" ? 3 : 4);
      assert.equal(lp.runsInline, false);
    });

    it(`${p}: a guest cannot grow its memory past the workload's limit`, async () => {
      const h = await pool("hog", p, { memoryMiB: 4 });
      const r = await send(h, "{}");
      assert.equal(r.ok, false);
      // The fast path owns the memory and tells a refused grow from another trap.
      if (p !== "general") assert.equal(!r.ok && r.kind, "memory");
    });

    it(`${p}: every message gets a fresh instance: nothing leaks between messages`, async () => {
      const snoop = await pool("snoop", p);
      for (let i = 0; i < 10; i++) {
        const body = replyOf(await send(snoop, `secret-${i}-0123456789`));
        assert.deepEqual([...body], new Array(16).fill(0), `message ${i} saw ${JSON.stringify(dec(body))}`);
      }
    });
  }

  it("inline, fast and general paths give identical replies (jco transpile cross-checks our ABI glue)", async () => {
    const bodies = [
      { id: "p1", amount: 1250, currency: "EUR", iban: "DE89370400440532013000" },
      { id: "x", amount: 0, currency: "JPY", iban: "" },
      { nonsense: true },
    ].map((b) => JSON.stringify(b));
    bodies.push("not json", "");
    const [i, f, g] = await Promise.all(MODES.map((p) => pool("validator", p)));
    for (const b of bodies) {
      const general = dec(replyOf(await send(g!, b)));
      assert.deepEqual(dec(replyOf(await send(f!, b))), general, b);
      assert.deepEqual(dec(replyOf(await send(i!, b))), general, b);
    }
    const kvs = [memoryBackend(), memoryBackend()];
    const [lf, lg] = await Promise.all(PATHS.map((p, k) => pool("ledger", p, { kv: kvs[k] })));
    const updates = [
      { id: "a1", account: "ü-acc", delta: 5 },
      { id: "a2", account: "ü-acc", delta: -2 },
      { id: "a2", account: "ü-acc", delta: -2 },
      { id: "a3", account: "ü-acc", delta: -9 },
      { id: "a4", account: "b", delta: 1.5 },
    ].map((u) => JSON.stringify(u));
    for (const u of updates) assert.equal(dec(replyOf(await send(lf!, u))), dec(replyOf(await send(lg!, u))), u);
    assert.deepEqual(
      [...kvs[0]!.store.entries()].map(([k, v]) => [k, dec(v)]),
      [...kvs[1]!.store.entries()].map(([k, v]) => [k, dec(v)]),
    );
  });

  it("refuses what is not a component of the world, naming the file and what is wrong", async () => {
    // A core module (the old ABI) is not a component.
    const core = path.join(tmp, "core.wasm");
    writeFileSync(core, Uint8Array.from([0, 97, 115, 109, 1, 0, 0, 0]));
    await assert.rejects(WasmPool.create({ wasmFile: core, limits }), /core\.wasm: is a core WebAssembly module, not a component/);
    const junk = path.join(tmp, "junk.wasm");
    writeFileSync(junk, "not wasm");
    await assert.rejects(WasmPool.create({ wasmFile: junk, limits }), /junk\.wasm: is not a WebAssembly component/);
    // The ledger without a kv grant: its key-value imports are outside the allow-list.
    await assert.rejects(
      WasmPool.create({ wasmFile: build("ledger"), limits }),
      /ledger\.wasm: imports wasi:keyvalue\/store@0\.2\.0-draft, wasi:keyvalue\/atomics@0\.2\.0-draft, which the world does not grant \(key-value needs `kv` on the workload\) \(allowed: wasmcloud:messaging\/types@0\.2\.0, wasmcloud:messaging\/consumer@0\.2\.0\)/,
    );
  });

  it("the ledger opens only the workload's declared bucket", async () => {
    const l = await WasmPool.create({ wasmFile: build("ledger"), limits, kv: { bucket: "other", backend: memoryBackend() } });
    pools.push(l);
    const r = await send(l, JSON.stringify({ id: "o1", account: "a", delta: 1 }));
    assert.match(JSON.parse(dec(replyOf(r))).error as string, /bucket balances is not the workload's declared kv bucket \(other\)/);
  });

  it("concurrent updates of one account from two hosts: none acknowledged is lost, each applied once (increment retried on conflict)", async () => {
    // Two pools on one store stand for two hosts. Without compare-and-set, updates are lost: the test can fail.
    for (const conditional of [true, false]) {
      const kv = memoryBackend({ delayMs: 3, conditional });
      const hosts = await Promise.all(
        [0, 1].map(() =>
          WasmPool.create({ wasmFile: build("ledger"), limits, kv: { bucket: "balances", backend: kv }, size: 4, maxSize: 4 }),
        ),
      );
      pools.push(...hosts);
      // The account exists before the storm (its first increment is a plain put on wash too: see ARCHITECTURE.md).
      assert.equal((await json(hosts[0]!, { id: "seed", account: "hot", delta: 1 })).applied, true);
      const n = 40;
      const go = (i: number) => send(hosts[i % 2]!, JSON.stringify({ id: `c${i}`, account: "hot", delta: 1 }));
      const out = await Promise.all(Array.from({ length: n }, (_, i) => go(i)));
      const acked = out.filter((r) => r.ok && JSON.parse(dec(replyOf(r))).applied === true).length;
      const credit = Number(u64(kv.store.get("credit.hot")));
      if (!conditional) {
        assert.ok(credit < n + 1, `without compare-and-set no update was lost (${credit}): the test cannot fail`);
        continue;
      }
      assert.equal(acked, n, `not every update was acknowledged: ${JSON.stringify(out.find((r) => !r.ok || r.handlerError))}`);
      assert.equal(credit, n + 1, "an acknowledged update was lost or counted twice");
      for (let i = 0; i < n; i++) assert.ok(kv.store.has(`applied.c${i}`));
      await Promise.all(Array.from({ length: n }, (_, i) => go(i)));
      assert.equal(Number(u64(kv.store.get("credit.hot"))), n + 1, "a replayed id was applied again");
    }
  });

  it("grows from one worker while guests wait on slow key-value, up to its maximum", async () => {
    const slow = memoryBackend({ delayMs: 20 });
    const l = await WasmPool.create({ wasmFile: build("ledger"), limits, kv: { bucket: "balances", backend: slow }, size: 1, maxSize: 3 });
    pools.push(l);
    const out = await Promise.all(Array.from({ length: 12 }, (_, i) => json(l, { id: `g${i}`, account: `g${i}`, delta: 1 })));
    out.forEach((o, i) => assert.deepEqual(o, { account: `g${i}`, balance: 1, applied: true }));
    assert.equal(l.stats().workers, 3);
  });
});
