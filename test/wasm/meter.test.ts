/**
 * Fuel metering (src/local/wasm/meter.ts) on modules written for the purpose (WAT, assembled by binaryen): results
 * are unchanged, loops and loop-free recursion both reach the host's tick, no index moves (imported globals,
 * tables and call_indirect keep working), a start function waits for the host, and what the walker cannot read
 * is refused rather than run unmetered.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as path from "node:path";
import { memoryToImport } from "../../src/local/wasm/binary";
import { meter, METER_EXPORTS, meterModule, tickFunction, Unmeterable } from "../../src/local/wasm/meter";
import { REPO_ROOT } from "../../src/paths";

// binaryen is an ES module with top-level await: imported, not required, once the suite starts.
let binaryen: typeof import("binaryen").default;

function wasm(text: string): Uint8Array<ArrayBuffer> {
  const m = binaryen.parseText(text);
  m.setFeatures(binaryen.Features.MVP | binaryen.Features.SIMD128 | binaryen.Features.ReferenceTypes);
  try {
    assert.ok(m.validate(), "test module does not validate");
    return new Uint8Array(m.emitBinary());
  } finally {
    m.dispose();
  }
}

const MODULE_TEXT = `(module
  (import "env" "g" (global $g i32))
  (global $s (mut i32) (i32.const 0))
  (table 2 funcref)
  (elem (i32.const 0) $count $fib)
  (type $t (func (param i32) (result i32)))
  (func $count (export "count") (param $n i32) (result i32) (local $i i32)
    (block $out (loop $l
      (br_if $out (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (local.get $i))
  (func $fib (export "fib") (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else (i32.add
        (call $fib (i32.sub (local.get $n) (i32.const 1)))
        (call_indirect (type $t) (i32.sub (local.get $n) (i32.const 2)) (i32.const 1))))))
  (func $init (global.set $s (i32.add (global.get $g) (i32.const 1))))
  (func (export "s") (result i32) (global.get $s))
  (start $init))`;
let MODULE: Uint8Array<ArrayBuffer>;

/** Instantiate the metered module with a tick that counts and refuels `fuel`, or throws after `maxTicks`. */
function metered(fuel: number, maxTicks = Infinity) {
  const g = new WebAssembly.Global({ value: "i32", mutable: false }, 41);
  const inst = new WebAssembly.Instance(new WebAssembly.Module(meter(MODULE)), { env: { g } });
  const ex = inst.exports as Record<string, unknown>;
  const state = { ticks: 0 };
  const tick = tickFunction(() => {
    if (++state.ticks > maxTicks) throw new Error("deadline");
    (ex[METER_EXPORTS.fuel] as WebAssembly.Global).value = fuel;
  });
  (ex[METER_EXPORTS.tick] as WebAssembly.Table).set(0, tick);
  return { ex: ex as Record<string, (...a: number[]) => number>, state };
}

describe("fuel metering of core modules", () => {
  before(async () => {
    binaryen = (await import("binaryen")).default;
    MODULE = wasm(MODULE_TEXT);
  });

  it("leaves results unchanged and keeps every index (imported global, table, call_indirect)", () => {
    const plain = new WebAssembly.Instance(new WebAssembly.Module(MODULE), {
      env: { g: new WebAssembly.Global({ value: "i32", mutable: false }, 41) },
    }).exports as Record<string, (...a: number[]) => number>;
    const { ex } = metered(1000);
    ex[METER_EXPORTS.start]!();
    assert.equal(ex.s!(), plain.s!());
    assert.equal(ex.count!(12345), plain.count!(12345));
    assert.equal(ex.fib!(20), plain.fib!(20));
    assert.equal(ex.fib!(20), 6765);
  });

  it("a loop checks in with the host once per `fuel` iterations", () => {
    const { ex, state } = metered(1000);
    ex[METER_EXPORTS.start]!();
    const before = state.ticks;
    ex.count!(1_000_000);
    // One iteration, one unit (plus the function entry): about a million units in ticks of 1000.
    assert.ok(Math.abs(state.ticks - before - 1000) <= 2, `ticks ${state.ticks - before}`);
  });

  it("a tick that throws ends a loop that would never end, and loop-free recursion too (checks at function entry)", () => {
    const a = metered(100, 50);
    a.ex[METER_EXPORTS.start]!();
    assert.throws(() => a.ex.count!(0xffffffff), /deadline/);
    const b = metered(100, 50);
    b.ex[METER_EXPORTS.start]!();
    assert.throws(() => b.ex.fib!(40), /deadline/);
  });

  it("the start function waits until the host filled the tick table, and then runs once", () => {
    const { ex } = metered(1000);
    assert.equal(ex.s!(), 0);
    ex[METER_EXPORTS.start]!();
    assert.equal(ex.s!(), 42);
  });

  it("a resettable guest is reset to its state after start for each message: no global or memory byte leaks", () => {
    // A handler with a counter global, a bump allocator global, and a byte it leaves in memory for the next one.
    const guest = wasm(`(module
      (import "wasmcloud:messaging/consumer@0.2.0" "publish" (func $pub (param i32 i32 i32 i32 i32 i32 i32 i32)))
      (memory (export "memory") 1)
      (global $bump (mut i32) (i32.const 1024))
      (global $count (mut i32) (i32.const 0))
      (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
        (local.set $p (global.get $bump))
        (global.set $bump (i32.add (global.get $bump) (local.get 3)))
        (local.get $p))
      (func (export "wasmcloud:messaging/handler@0.2.0#handle-message")
        (param $sp i32) (param $sl i32) (param $bp i32) (param $bl i32) (param $hr i32) (param $rp i32) (param $rl i32) (result i32)
        (global.set $count (i32.add (global.get $count) (i32.const 1)))
        (i32.store8 (i32.const 100) (i32.add (i32.const 48) (global.get $count)))
        (i32.store8 (i32.const 101) (i32.add (i32.const 48) (i32.load8_u (i32.const 500))))
        (i32.store8 (i32.const 102) (i32.add (i32.const 48) (i32.eq (global.get $bump) (i32.add (i32.const 1024) (i32.add (local.get $sl) (local.get $rl))))))
        (i32.store8 (i32.const 500) (i32.const 7))
        (call $pub (local.get $rp) (local.get $rl) (i32.const 100) (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 200))
        (i32.const 300)))`);
    const imported = memoryToImport(guest);
    const m = meterModule(imported.bytes);
    assert.equal(m.resettable, true);
    assert.equal(m.globals.length, 2);
    const { createFastRunner } = require(path.join(REPO_ROOT, "src", "local", "wasm", "fastGlue.cjs")) as {
      createFastRunner(o: Record<string, unknown>): { run(msg: unknown, deadline: number): string | undefined };
    };
    const published: string[] = [];
    const runner = createFastRunner({
      wasmModule: new WebAssembly.Module(m.bytes),
      minPages: imported.minPages,
      maxPages: 16,
      metered: true,
      tickFunction,
      reset: { globals: m.globals },
      caps: { publish: (_s: string, body: Uint8Array) => void published.push(new TextDecoder().decode(body)) },
    });
    const msg = { subject: "s", body: new Uint8Array(0), replyTo: "r" };
    for (let i = 0; i < 5; i++) assert.equal(runner.run(msg, performance.now() + 1000), undefined);
    // Each message: counter 1, nothing left at 500, the allocator back at its start.
    assert.deepEqual(published, Array(5).fill("101"));
    // A module that changes a table cannot be reset that way.
    const tables = wasm(
      `(module (table 1 funcref) (func $f) (func (export "g") (table.set 0 (i32.const 0) (ref.func $f))) (elem declare func $f))`,
    );
    assert.equal(meterModule(tables).resettable, false);
  });

  it("a module it cannot read fully is refused, not run unmetered", () => {
    const simd = wasm(`(module (func (export "f") (result i32) (i32x4.extract_lane 0 (v128.const i32x4 1 2 3 4))))`);
    assert.throws(
      () => meter(simd),
      (e: unknown) => e instanceof Unmeterable && /SIMD/.test((e as Error).message),
    );
  });
});
