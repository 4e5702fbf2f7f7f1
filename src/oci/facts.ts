/**
 * The facts about path artifacts that deployments need: each component's manifest digest (the reference,
 * known before the push since the artifact is deterministic) and its imports (its hostInterfaces). Reads files.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { ComponentFacts } from "../compile/workloadDeployment";
import { parseComponent } from "../local/wasm/component";
import type { LatticeSpec } from "../model/schema";
import { REPO_ROOT } from "../paths";
import { wasmArtifact, type WasmArtifact } from "./artifact";

/** A component file as an artifact, with its imports and exports. Throws, naming the file, when it is not a component. */
export function componentArtifact(file: string): { artifact: WasmArtifact; imports: string[]; exports: string[] } {
  const bytes = new Uint8Array(readFileSync(file));
  let info;
  try {
    info = parseComponent(bytes);
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
  return { artifact: wasmArtifact(bytes, info), imports: info.imports, exports: info.exports };
}

/** Facts of every path artifact of the spec, by workload name (paths relative to the repository). */
export function pathArtifactFacts(spec: LatticeSpec, root: string = REPO_ROOT): Record<string, ComponentFacts> {
  const out: Record<string, ComponentFacts> = {};
  for (const w of spec.workloads) {
    if (!("path" in w.artifact)) continue;
    const c = componentArtifact(path.resolve(root, w.artifact.path));
    out[w.name] = { digest: c.artifact.manifest.digest, imports: c.imports, exports: c.exports };
  }
  return out;
}
