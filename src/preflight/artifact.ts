/** What kind of Wasm the runtime takes. One small function, so changing the runtime changes one place. */
import { readFileSync } from "node:fs";
import { componentProblem } from "../local/wasm/component";

/**
 * Why the file at `file` cannot run as a workload, or undefined when it can. Both runtimes (the local host and
 * wash 2.7 hosts) take a WebAssembly component of the latticeform world (`wit/`): a core module is refused.
 */
export function artifactProblem(file: string, opts: { kv: boolean }): string | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? "no such file" : `cannot read it (${code ?? (e as Error).message})`;
  }
  const view = new Uint8Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  return componentProblem(view, opts);
}
