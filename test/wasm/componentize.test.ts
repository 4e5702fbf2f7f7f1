/**
 * Another toolchain's component runs unchanged: a workload written in JavaScript and built with ComponentizeJS
 * (StarlingMonkey, ~12 MB) for the stateless world, on the general path (jco transpile) and, since it is one
 * core module, on the fast path too. Built once by workloads/build.mjs; kept short (each instance costs ms).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, describe, it } from "node:test";
import { componentProblem } from "../../src/local/wasm/component";
import { WasmPool, type WasmPath } from "../../src/local/wasm/engine";

const FILE = "workloads/build/echo-js.wasm";
const pools: WasmPool[] = [];

describe("a ComponentizeJS workload", () => {
  after(async () => {
    for (const p of pools) await p.close();
  });

  it("is a component of the world", () => {
    assert.equal(componentProblem(new Uint8Array(readFileSync(FILE)), { kv: false }), undefined);
  });

  for (const p of ["general", "fast"] as WasmPath[]) {
    it(`runs on the ${p} path and publishes its reply`, async () => {
      const pool = await WasmPool.create({ wasmFile: FILE, limits: { memoryMiB: 64, timeoutMs: 10000 }, size: 1, path: p });
      pools.push(pool);
      assert.equal(pool.path, p);
      for (const id of ["j1", "j2"]) {
        const r = await pool.handle({
          subject: "js.echo",
          body: new TextEncoder().encode(JSON.stringify({ id, n: 1 })),
          replyTo: "_INBOX.js",
        });
        assert.ok(r.ok, r.ok ? "" : r.error);
        assert.equal(r.published.length, 1);
        assert.equal(r.published[0]!.subject, "_INBOX.js");
        assert.deepEqual(JSON.parse(new TextDecoder().decode(r.published[0]!.body)), {
          id,
          echoed: { id, n: 1 },
          subject: "js.echo",
          runtime: "componentize-js",
        });
      }
    });
  }
});
