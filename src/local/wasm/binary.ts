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

interface Section {
  id: number;
  body: Uint8Array;
}

function sections(bytes: Uint8Array): Section[] {
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

function concat(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Sections back into a module (no spreading: a module can be megabytes). */
function assemble(head: Uint8Array, secs: Section[]): Uint8Array<ArrayBuffer> {
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

function importsMemory(body: Uint8Array): boolean {
  let [count, at] = readLeb(body, 0);
  for (; count > 0; count--) {
    for (let k = 0; k < 2; k++) {
      const [n, p] = readLeb(body, at);
      at = p + n;
    }
    const kind = body[at++]!;
    if (kind === 2) return true;
    if (kind === 0) at = readLeb(body, at)[1];
    else if (kind === 1) {
      at++;
      const flags = body[at++]!;
      at = readLeb(body, at)[1];
      if (flags & 1) at = readLeb(body, at)[1];
    } else if (kind === 3) at += 2;
    else if (kind === 4) at = readLeb(body, at + 1)[1];
  }
  return false;
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
