/**
 * Reading a workload component: its top-level imports and exports, its core modules, and whether it is a
 * component of the latticeform world (wit/world.wit). Parses only the component binary's outer sections
 * (component model binary format, `Binary.md`): enough to check the contract without a toolchain at load.
 */

/** What a workload may import: the world's interfaces (key-value only for workloads that declare `kv`). */
export const MESSAGING_IMPORTS = ["wasmcloud:messaging/types@0.2.0", "wasmcloud:messaging/consumer@0.2.0"] as const;
export const KEYVALUE_IMPORTS = ["wasi:keyvalue/store@0.2.0-draft", "wasi:keyvalue/atomics@0.2.0-draft"] as const;
/** What a workload must export. */
export const HANDLER_EXPORT = "wasmcloud:messaging/handler@0.2.0";
/** The core export wit-component gives the handler's function. */
export const HANDLER_CORE_EXPORT = `${HANDLER_EXPORT}#handle-message`;

export interface ComponentInfo {
  readonly imports: string[];
  readonly exports: string[];
  /** The core modules embedded at the top level, in order. */
  readonly modules: Uint8Array<ArrayBuffer>[];
}

import { Reader } from "./leb";

const PREAMBLE_COMPONENT = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];
const PREAMBLE_MODULE = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

function startsWith(b: Uint8Array, p: readonly number[]): boolean {
  return p.every((x, i) => b[i] === x);
}

/** `importname'` / `exportname'`: a kind byte, the name, and (kind 0x01) a version suffix. */
function externName(r: Reader): string {
  const kind = r.byte();
  const name = r.name();
  if (kind === 0x01) r.name();
  return name;
}

function externDesc(r: Reader): void {
  const k = r.byte();
  if (k === 0x00) r.byte(); // 0x11 core module
  if (k === 0x02 || k === 0x03) {
    const sub = r.byte();
    if (k === 0x03 && sub === 0x01) return; // sub resource
  }
  r.u32();
}

/** Throws when `bytes` is not a component (a core module is named as such). */
export function parseComponent(bytes: Uint8Array<ArrayBuffer>): ComponentInfo {
  if (startsWith(bytes, PREAMBLE_MODULE)) throw new Error("is a core WebAssembly module, not a component");
  if (!startsWith(bytes, PREAMBLE_COMPONENT)) throw new Error("is not a WebAssembly component (bad preamble)");
  const r = new Reader(bytes, 8);
  const info: ComponentInfo = { imports: [], exports: [], modules: [] };
  while (r.at < bytes.length) {
    const id = r.byte();
    const size = r.u32();
    const end = r.at + size;
    if (end > bytes.length) throw new Error("truncated section");
    if (id === 1) info.modules.push(bytes.subarray(r.at, end));
    else if (id === 10 || id === 11) {
      const s = new Reader(bytes.subarray(r.at, end));
      for (let n = s.u32(); n > 0; n--) {
        const name = externName(s);
        if (id === 10) {
          info.imports.push(name);
          externDesc(s);
        } else {
          info.exports.push(name);
          if (s.byte() === 0x00) s.byte(); // core sort
          s.u32();
          if (s.byte() === 0x01) externDesc(s);
        }
      }
    }
    r.at = end;
  }
  return info;
}

/** Problems that keep `bytes` from being a workload of the world (empty: it is one). */
export function worldProblems(info: ComponentInfo, opts: { kv: boolean }): string[] {
  const allowed: readonly string[] = opts.kv ? [...MESSAGING_IMPORTS, ...KEYVALUE_IMPORTS] : MESSAGING_IMPORTS;
  const problems: string[] = [];
  const denied = info.imports.filter((i) => !allowed.includes(i));
  if (denied.length) {
    const kvHint =
      !opts.kv && denied.some((d) => (KEYVALUE_IMPORTS as readonly string[]).includes(d)) ? " (key-value needs `kv` on the workload)" : "";
    problems.push(`imports ${denied.join(", ")}, which the world does not grant${kvHint} (allowed: ${allowed.join(", ")})`);
  }
  if (!info.exports.includes(HANDLER_EXPORT))
    problems.push(`does not export ${HANDLER_EXPORT} (exports: ${info.exports.join(", ") || "nothing"})`);
  return problems;
}

/** Why `bytes` (a file's content) is not a component of the world, or undefined when it is. */
export function componentProblem(bytes: Uint8Array<ArrayBuffer>, opts: { kv: boolean }): string | undefined {
  let info: ComponentInfo;
  try {
    info = parseComponent(bytes);
  } catch (e) {
    return (e as Error).message;
  }
  const p = worldProblems(info, opts);
  return p.length ? p.join("; ") : undefined;
}

/**
 * The fast path's module: the component's one core module with code, when every other core module is one of
 * wit-component's indirection modules (a shim exporting a `$imports` table and numbered functions, a fixup
 * importing only from `shim` and `actual`). Undefined when the component needs the general path.
 */
export function singleCoreModule(info: ComponentInfo): { module: WebAssembly.Module; bytes: Uint8Array<ArrayBuffer> } | undefined {
  let main: { module: WebAssembly.Module; bytes: Uint8Array<ArrayBuffer> } | undefined;
  for (const bytes of info.modules) {
    const m = new WebAssembly.Module(bytes);
    const imports = WebAssembly.Module.imports(m);
    const exports = WebAssembly.Module.exports(m);
    const shim =
      imports.length === 0 &&
      exports.every((e) => (e.name === "$imports" && e.kind === "table") || (/^\d+$/.test(e.name) && e.kind === "function"));
    const fixup = exports.length === 0 && imports.every((i) => i.module === "shim" || i.module === "actual");
    if (shim || fixup) continue;
    if (main) return undefined;
    main = { module: m, bytes };
  }
  if (!main) return undefined;
  const exports = WebAssembly.Module.exports(main.module);
  const has = (name: string, kind: string) => exports.some((e) => e.name === name && e.kind === kind);
  if (!has(HANDLER_CORE_EXPORT, "function") || !has("memory", "memory") || !has("cabi_realloc", "function")) return undefined;
  if (WebAssembly.Module.imports(main.module).some((i) => i.kind !== "function")) return undefined;
  return main;
}
