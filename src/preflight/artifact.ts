/** What kind of Wasm the runtime takes. One small function, so changing the runtime changes one place. */
import { readFileSync } from "node:fs";

const MAGIC = [0x00, 0x61, 0x73, 0x6d];

/**
 * Why the file at `file` cannot run as a workload, or undefined when it can. Today the Wasm host runs core
 * WebAssembly modules (binary version 1, the latticeform guest ABI); a component (layer 1) is refused.
 */
export function artifactProblem(file: string): string | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? "no such file" : `cannot read it (${code ?? (e as Error).message})`;
  }
  if (bytes.length < 8 || MAGIC.some((b, i) => bytes[i] !== b)) return "not a WebAssembly binary";
  const version = bytes.readUInt16LE(4);
  const layer = bytes.readUInt16LE(6);
  if (layer === 1) return "a WebAssembly component; the local Wasm host runs core modules";
  if (layer !== 0 || version !== 1) return `WebAssembly binary version ${version} (layer ${layer}); the Wasm host runs version 1 modules`;
  if (!WebAssembly.validate(new Uint8Array(bytes))) return "not a valid WebAssembly module";
  return undefined;
}
