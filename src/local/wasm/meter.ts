/**
 * Fuel metering for guests that run on the host's main thread (engine.ts, "inline"): Node cannot interrupt
 * Wasm running on the main thread, so the core module is rewritten to check in with the host. At every function
 * entry and every loop header it decrements a fuel global; at zero it calls the host's tick (through a table
 * of its own, since a new imported function would renumber every call), which refuels or, past the message's
 * deadline, throws and so ends the guest. Between two checks a guest runs straight-line code of one function
 * body (or one bulk memory operation within its capped memory), so the deadline is enforced to well under
 * a millisecond per unit of fuel granted.
 *
 * Everything added goes at the end of its index space (a type, a table, a global, exports), so no existing
 * index moves. A start function becomes the export `lf_start`, called by the host once the table is filled.
 * A module this walker cannot read fully (SIMD, exception handling, GC types) is reported as unmeterable and
 * runs in workers instead.
 */

import { assemble, concat, importKinds, sections, type Section } from "./binary";
import { Reader, uleb } from "./leb";

export class Unmeterable extends Error {
  constructor(why: string) {
    super(`cannot be metered: ${why}`);
    this.name = "Unmeterable";
  }
}

/** Export names of the fuel global and the tick table of a metered module. */
export const METER_EXPORTS = { fuel: "lf_fuel", tick: "lf_tick", start: "lf_start" } as const;

/** A cursor whose reads past the end make the module unmeterable. */
const reader = (b: Uint8Array, at = 0): Reader => new Reader(b, at, () => new Unmeterable("truncated"));

// Section order of the binary format (custom sections, id 0, may sit anywhere).
const ORDER = [1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11];

const VALTYPES = new Set([0x7f, 0x7e, 0x7d, 0x7c, 0x70, 0x6f]);

function blockType(r: Reader): void {
  const b = r.b[r.at]!;
  if (b === 0x40 || VALTYPES.has(b)) r.skip(1);
  else if (b === 0x7b) throw new Unmeterable("uses SIMD");
  else r.skipLeb(); // a type index (signed LEB33)
}

function memarg(r: Reader): void {
  const align = r.u32();
  if (align & 0x40) r.u32(); // multi-memory: a memory index follows
  r.skipLeb();
}

/**
 * Instructions that change instance state outside memory and globals (table.set, table.init/copy/grow/fill,
 * elem.drop, data.drop): a module without them can be reset to a snapshot instead of instantiated again.
 */
let changesTablesOrSegments = false;

/** 0xFC-prefixed instructions: saturating truncation, bulk memory, tables. */
function prefixedFC(r: Reader): void {
  const op = r.u32();
  if (op <= 7) return;
  if (op === 9 || (op >= 12 && op <= 15) || op === 17) changesTablesOrSegments = true;
  const indices: Record<number, number> = { 8: 2, 9: 1, 10: 2, 11: 1, 12: 2, 13: 1, 14: 2, 15: 1, 16: 1, 17: 1 };
  const n = indices[op];
  if (n === undefined) throw new Unmeterable(`unknown instruction 0xfc ${op}`);
  for (let i = 0; i < n; i++) r.u32();
}

/** Skip one instruction's immediates (the opcode is read); returns true for `loop`. */
function immediates(op: number, r: Reader): boolean {
  if (op === 0x02 || op === 0x04) blockType(r);
  else if (op === 0x03) {
    blockType(r);
    return true;
  } else if (op === 0x0c || op === 0x0d || op === 0x10 || op === 0x12 || (op >= 0x20 && op <= 0x26) || op === 0xd2) {
    if (op === 0x26) changesTablesOrSegments = true;
    r.u32();
  } else if (op === 0x0e) {
    for (let n = r.u32() + 1; n > 0; n--) r.u32();
  } else if (op === 0x11 || op === 0x13) {
    r.u32();
    r.u32();
  } else if (op === 0x1c) {
    const n = r.u32();
    for (let i = 0; i < n; i++) if (!VALTYPES.has(r.byte())) throw new Unmeterable("a select of an unknown type");
  } else if (op >= 0x28 && op <= 0x3e) memarg(r);
  else if (op === 0x3f || op === 0x40) r.u32();
  else if (op === 0x41 || op === 0x42) r.skipLeb();
  else if (op === 0x43) r.skip(4);
  else if (op === 0x44) r.skip(8);
  else if (op === 0xd0) {
    if (!VALTYPES.has(r.b[r.at]!)) throw new Unmeterable("a typed reference");
    r.skip(1);
  } else if (op === 0xfc) prefixedFC(r);
  else if (!(
    op <= 0x01 ||
    op === 0x05 ||
    op === 0x0b ||
    op === 0x0f ||
    op === 0x1a ||
    op === 0x1b ||
    (op >= 0x45 && op <= 0xc4) ||
    op === 0xd1
  ))
    throw new Unmeterable(op === 0xfd ? "uses SIMD" : `unknown instruction 0x${op.toString(16)}`);
  return false;
}

/** One function body with the fuel check at its entry and after every loop header. */
function meterBody(body: Uint8Array, check: Uint8Array): Uint8Array {
  const r = reader(body);
  for (let groups = r.u32(); groups > 0; groups--) {
    r.u32();
    if (!VALTYPES.has(r.byte())) throw new Unmeterable("a local of a type it does not know (SIMD, GC)");
  }
  const parts: Uint8Array[] = [body.subarray(0, r.at), check];
  let from = r.at;
  while (r.at < body.length) {
    if (immediates(r.byte(), r)) {
      parts.push(body.subarray(from, r.at), check);
      from = r.at;
    }
  }
  parts.push(body.subarray(from));
  return concat(parts);
}

/** A vector section with `n` entries (encoded in `extra`) appended, created when the module has none; the old count. */
function appendVec(secs: Section[], id: number, extra: number[], n = 1): number {
  const i = secs.findIndex((s) => s.id === id);
  if (i < 0) {
    const at = secs.findIndex((s) => s.id !== 0 && ORDER.indexOf(s.id) > ORDER.indexOf(id));
    secs.splice(at < 0 ? secs.length : at, 0, { id, body: Uint8Array.from([n, ...extra]) });
    return 0;
  }
  const r = reader(secs[i]!.body);
  const count = r.u32();
  secs[i] = { id, body: concat([uleb(count + n), secs[i]!.body.subarray(r.at), extra]) };
  return count;
}

/** Imported functions, tables and globals (they come first in their index spaces). */
function importCounts(secs: Section[]): { tables: number; globals: number; mutableGlobals: number } {
  const s = secs.find((x) => x.id === 2);
  const n = { tables: 0, globals: 0, mutableGlobals: 0 };
  for (const { kind, mutable } of s ? importKinds(s.body) : []) {
    if (kind > 3) throw new Unmeterable(`an import of kind ${kind}`);
    if (kind === 1) n.tables++;
    if (kind === 3) n.globals++;
    if (mutable) n.mutableGlobals++;
  }
  return n;
}

/** Indices of the module's own mutable globals (the state a reset restores besides memory). */
function mutableGlobals(secs: Section[], firstIndex: number): number[] {
  const s = secs.find((x) => x.id === 6);
  if (!s) return [];
  const r = reader(s.body);
  const out: number[] = [];
  const count = r.u32();
  for (let i = 0; i < count; i++) {
    if (!VALTYPES.has(r.byte())) throw new Unmeterable("a global of a type it does not know");
    if (r.byte() & 1) out.push(firstIndex + i);
    for (let op = r.byte(); op !== 0x0b; op = r.byte()) immediates(op, r);
  }
  return out;
}

const vecCount = (secs: Section[], id: number): number => {
  const s = secs.find((x) => x.id === id);
  return s ? reader(s.body).u32() : 0;
};

const name = (s: string): number[] => [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))];

/** The module with fuel checks; see the file comment. Throws Unmeterable for what it cannot read. */
export function meter(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return meterModule(bytes).bytes;
}

export interface Metered {
  readonly bytes: Uint8Array<ArrayBuffer>;
  /** Export names of the module's own mutable globals, `lf_g<index>`. */
  readonly globals: readonly string[];
  /**
   * Its whole state is its memory and those globals (no mutable imported global, nothing that changes tables
   * or drops segments): restoring them to what they were after start is the state of a fresh instance.
   */
  readonly resettable: boolean;
}

/** `meter`, with what a host needs to reset an instance instead of creating another. */
export function meterModule(bytes: Uint8Array): Metered {
  changesTablesOrSegments = false;
  const secs = sections(bytes);
  // The start function would run (and tick) before the host can fill the tick table: it becomes an export the
  // host calls right after filling it, which is what instantiation would have done.
  const startAt = secs.findIndex((s) => s.id === 8);
  const start = startAt < 0 ? undefined : reader(secs[startAt]!.body).u32();
  if (startAt >= 0) secs.splice(startAt, 1);
  if (secs.some((s) => s.id === 13)) throw new Unmeterable("uses exception handling");
  const imported = importCounts(secs);
  const table = imported.tables + vecCount(secs, 4);
  const global = imported.globals + vecCount(secs, 6);
  const own = mutableGlobals(secs, imported.globals);
  const globals = own.map((g) => `lf_g${g}`);
  const type = appendVec(secs, 1, [0x60, 0x00, 0x00]);
  appendVec(secs, 4, [0x70, 0x01, 0x01, 0x01]);
  appendVec(secs, 6, [0x7f, 0x01, 0x41, 0x00, 0x0b]);
  appendVec(secs, 7, [...name(METER_EXPORTS.fuel), 0x03, ...uleb(global), ...name(METER_EXPORTS.tick), 0x01, ...uleb(table)], 2);
  if (start !== undefined) appendVec(secs, 7, [...name(METER_EXPORTS.start), 0x00, ...uleb(start)]);
  if (own.length)
    appendVec(
      secs,
      7,
      own.flatMap((g, i) => [...name(globals[i]!), 0x03, ...uleb(g)]),
      own.length,
    );
  // fuel -= 1; if (fuel <= 0) call_indirect (type []->[]) table[0] of our table
  const g = uleb(global);
  const check = Uint8Array.from([
    ...[0x23, ...g, 0x41, 0x01, 0x6b, 0x24, ...g],
    ...[0x23, ...g, 0x41, 0x00, 0x4c, 0x04, 0x40],
    ...[0x41, 0x00, 0x11, ...uleb(type), ...uleb(table), 0x0b],
  ]);
  const code = secs.findIndex((s) => s.id === 10);
  if (code >= 0) {
    const r = reader(secs[code]!.body);
    const bodies: (Uint8Array | number[])[] = [];
    let n = r.u32();
    bodies.push(uleb(n));
    for (; n > 0; n--) {
      const size = r.u32();
      const metered = meterBody(r.b.subarray(r.at, r.at + size), check);
      r.skip(size);
      bodies.push(uleb(metered.length), metered);
    }
    secs[code] = { id: 10, body: concat(bodies) };
  }
  return { bytes: assemble(bytes, secs), globals, resettable: !changesTablesOrSegments && imported.mutableGlobals === 0 };
}

/** A wasm function `[] -> []` calling `tick`, to be put into a metered instance's tick table. */
export function tickFunction(tick: () => void): WebAssembly.ExportValue {
  // (module (import "m" "t" (func)) (export "t" (func 0)))
  const mod = Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...[0x01, 0x04, 0x01, 0x60, 0x00, 0x00],
    ...[0x02, 0x07, 0x01, 0x01, 0x6d, 0x01, 0x74, 0x00, 0x00],
    ...[0x07, 0x05, 0x01, 0x01, 0x74, 0x00, 0x00],
  ]);
  return new WebAssembly.Instance(new WebAssembly.Module(mod), { m: { t: tick } }).exports.t!;
}
