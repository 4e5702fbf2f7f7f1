/**
 * Core module rewrites for the sandbox's memory cap: a module's own memory becomes an import the host
 * creates (the fast path pools and zeroes it), or gets the workload's limit as its maximum (general path).
 */

import { uleb as leb } from "./leb";

const PAGE = 65536;

function readLeb(b: Uint8Array, at: number): [number, number] {
  let result = 0;
  let shift = 0;
  for (;;) {
    const x = b[at++]!;
    result += (x & 0x7f) * 2 ** shift;
    if ((x & 0x80) === 0) return [result, at];
    shift += 7;
  }
}

export interface Section {
  id: number;
  body: Uint8Array;
}

/** The sections of a core module (after its 8-byte preamble). */
export function sections(bytes: Uint8Array): Section[] {
  const out: Section[] = [];
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at]!;
    const [size, start] = readLeb(bytes, at + 1);
    out.push({ id, body: bytes.subarray(start, start + size) });
    at = start + size;
  }
  return out;
}

/** Byte arrays (or byte lists) end to end. */
export function concat(parts: readonly (Uint8Array | number[])[]): Uint8Array<ArrayBuffer> {
  const arrays = parts.map((p) => (p instanceof Uint8Array ? p : Uint8Array.from(p)));
  const out = new Uint8Array(arrays.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of arrays) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Sections back into a module (no spreading: a module can be megabytes). */
export function assemble(head: Uint8Array, secs: Section[]): Uint8Array<ArrayBuffer> {
  const parts: Uint8Array[] = [head.subarray(0, 8)];
  for (const s of secs) parts.push(Uint8Array.from([s.id, ...leb(s.body.length)]), s.body);
  return concat(parts);
}

/** The one memory a module defines: its limits, or an error for none, several, shared or 64-bit ones. */
function ownMemory(secs: Section[]): { min: number; max?: number } {
  const mem = secs.find((s) => s.id === 5);
  if (!mem) throw new Error("defines no memory");
  const [count, at] = readLeb(mem.body, 0);
  if (count !== 1) throw new Error(`defines ${count} memories`);
  const flags = mem.body[at]!;
  if (flags & ~1) throw new Error("has a shared or 64-bit memory");
  const [min, next] = readLeb(mem.body, at + 1);
  return flags & 1 ? { min, max: readLeb(mem.body, next)[0] } : { min };
}

/** Pages in `memoryMiB`. */
export function pagesOf(memoryMiB: number): number {
  return Math.floor((memoryMiB * 1024 * 1024) / PAGE);
}

/**
 * The module with its memory imported as `lf.memory` (no maximum of its own: the host's memory carries the
 * cap) and the memory's initial pages. Its export of `memory` keeps index 0, now the import.
 */
export function memoryToImport(bytes: Uint8Array): { bytes: Uint8Array<ArrayBuffer>; minPages: number } {
  const secs = sections(bytes);
  if (secs.some((s) => s.id === 2 && importsMemory(s.body))) throw new Error("imports a memory");
  const { min } = ownMemory(secs);
  const entry = [
    ...leb(2),
    ..."lf".split("").map((c) => c.charCodeAt(0)),
    ...leb(6),
    ..."memory".split("").map((c) => c.charCodeAt(0)),
    0x02,
    0x00,
    ...leb(min),
  ];
  const out: Section[] = [];
  let added = false;
  for (const s of secs) {
    if (s.id === 5) continue;
    if (s.id === 2) {
      const [count, at] = readLeb(s.body, 0);
      out.push({ id: 2, body: concat([Uint8Array.from(leb(count + 1)), s.body.subarray(at), Uint8Array.from(entry)]) });
      added = true;
      continue;
    }
    if (!added && s.id !== 0 && s.id !== 1) {
      out.push({ id: 2, body: Uint8Array.from([1, ...entry]) });
      added = true;
    }
    out.push(s);
  }
  return { bytes: assemble(bytes, out), minPages: min };
}

/**
 * The kind of each import in an import section body (0 function, 1 table, 2 memory, 3 global, 4 tag) and, for
 * a global, whether it is mutable. An unknown kind ends the list (its entry cannot be skipped).
 */
export function importKinds(body: Uint8Array): { kind: number; mutable?: boolean }[] {
  const out: { kind: number; mutable?: boolean }[] = [];
  let [count, at] = readLeb(body, 0);
  for (; count > 0; count--) {
    for (let k = 0; k < 2; k++) {
      const [n, p] = readLeb(body, at);
      at = p + n;
    }
    const kind = body[at++]!;
    out.push({ kind });
    if (kind === 0) at = readLeb(body, at)[1];
    else if (kind === 1 || kind === 2) {
      if (kind === 1) at++;
      const flags = body[at++]!;
      at = readLeb(body, at)[1];
      if (flags & 1) at = readLeb(body, at)[1];
    } else if (kind === 3) {
      out[out.length - 1]!.mutable = (body[at + 1]! & 1) === 1;
      at += 2;
    } else if (kind === 4) at = readLeb(body, at + 1)[1];
    else break;
  }
  return out;
}

function importsMemory(body: Uint8Array): boolean {
  return importKinds(body).some((i) => i.kind === 2);
}

/** The module with `maxPages` as its memory's maximum (a module without its own memory is returned as is). */
export function capMemory(bytes: Uint8Array<ArrayBuffer>, maxPages: number): Uint8Array<ArrayBuffer> {
  const secs = sections(bytes);
  if (!secs.some((s) => s.id === 5)) return bytes;
  const { min, max } = ownMemory(secs);
  if (min > maxPages) throw new Error(`needs ${min} memory pages at start, more than its limit of ${maxPages} pages`);
  const cap = max === undefined ? maxPages : Math.min(max, maxPages);
  return assemble(
    bytes,
    secs.map((s) => (s.id === 5 ? { id: 5, body: Uint8Array.from([1, 0x01, ...leb(min), ...leb(cap)]) } : s)),
  );
}
