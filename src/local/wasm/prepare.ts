/**
 * Loading a workload component for the engine: checked against the world, then compiled for the fast path (its
 * core module with its memory as an import, and a metered copy for inline runs) or the general path (jco
 * transpile output, each core memory capped).
 */
import { readFileSync } from "node:fs";
import { capMemory, memoryToImport } from "./binary";
import { parseComponent, singleCoreModule, worldProblems } from "./component";
import { meterModule, Unmeterable } from "./meter";
import { transpiled } from "./transpile";
import type { WasmPath, WasmPoolOptions } from "./types";

/** Core imports the fast path's glue implements (worker.cjs). */
export const FAST_IMPORTS: Record<string, string[]> = {
  "wasmcloud:messaging/consumer@0.2.0": ["publish", "request"],
  "wasi:keyvalue/store@0.2.0-draft": [
    "open",
    "[method]bucket.get",
    "[method]bucket.set",
    "[method]bucket.delete",
    "[method]bucket.exists",
    "[method]bucket.list-keys",
    "[resource-drop]bucket",
  ],
  "wasi:keyvalue/atomics@0.2.0-draft": ["increment"],
};

export class WasmLoadError extends Error {
  constructor(file: string, why: string) {
    super(`${file}: ${why}`);
    this.name = "WasmLoadError";
  }
}

export type WorkerData = Record<string, unknown>;

/** The metered module for inline runs, or undefined when the walker cannot read it (it then runs in workers). */
export async function meteredModule(
  bytes: Uint8Array,
): Promise<{ module: WebAssembly.Module; reset?: { globals: readonly string[] } } | undefined> {
  try {
    const m = meterModule(bytes);
    return { module: await WebAssembly.compile(m.bytes), ...(m.resettable ? { reset: { globals: m.globals } } : {}) };
  } catch (e) {
    if (e instanceof Unmeterable) return undefined;
    throw e;
  }
}

/** Check the component against the world and prepare what its workers need. */
export async function prepare(opts: WasmPoolOptions, maxPages: number): Promise<{ path: WasmPath; data: WorkerData }> {
  const file = opts.wasmFile;
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch (e) {
    throw new WasmLoadError(file, `cannot be read: ${(e as Error).message}`);
  }
  let info;
  try {
    info = parseComponent(bytes);
  } catch (e) {
    throw new WasmLoadError(file, `${(e as Error).message}; a workload is a component of the latticeform world (wit/world.wit)`);
  }
  const problems = worldProblems(info, { kv: !!opts.kv });
  if (problems.length) throw new WasmLoadError(file, problems.join("; "));
  const single = opts.path === "general" ? undefined : singleCoreModule(info);
  const fastOk = single && WebAssembly.Module.imports(single.module).every((i) => FAST_IMPORTS[i.module]?.includes(i.name));
  if (fastOk) {
    let rewritten;
    try {
      rewritten = memoryToImport(single.bytes);
    } catch (e) {
      throw new WasmLoadError(file, `its core module ${(e as Error).message}`);
    }
    if (rewritten.minPages > maxPages)
      throw new WasmLoadError(
        file,
        `needs ${rewritten.minPages} memory pages at start, more than its limit of ${opts.limits.memoryMiB} MiB (${maxPages} pages)`,
      );
    const data: WorkerData = { mode: "fast", wasmModule: await WebAssembly.compile(rewritten.bytes), minPages: rewritten.minPages };
    if (opts.inline !== false && !opts.kv) data.inline = await meteredModule(rewritten.bytes);
    return { path: "fast", data };
  }
  if (opts.path === "fast")
    throw new WasmLoadError(file, "does not fit the fast path (one core module of its own, imports the glue implements)");
  const t = await transpiled(bytes);
  const coreModules: Record<string, WebAssembly.Module> = {};
  for (const [name, core] of Object.entries(t.cores)) {
    try {
      coreModules[name] = await WebAssembly.compile(capMemory(core, maxPages));
    } catch (e) {
      throw new WasmLoadError(file, `core module ${name} ${(e as Error).message} (${opts.limits.memoryMiB} MiB)`);
    }
  }
  return { path: "general", data: { mode: "general", glueUrl: t.glueUrl, coreModules, minPages: 0 } };
}
