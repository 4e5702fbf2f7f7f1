/**
 * The Wasm host as one CommonJS bundle (esbuild), so a host process starts without compiling TypeScript:
 * loading through tsx cost ~0.9 s of CPU per host, and a lattice starts many hosts on few cores.
 * Rebuilt when any source under src/ is newer than the bundle; written to a temporary file and renamed, so
 * two lattices starting at once never load a half-written bundle. Falls back to tsx when it cannot build.
 */
import { mkdirSync, readdirSync, renameSync, statSync } from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "../../paths";

export const HOST_MAIN = path.join(REPO_ROOT, "src", "local", "host", "main.ts");
// The conventional place for build caches: ignored by git, removed with node_modules.
const BUNDLE = path.join(REPO_ROOT, "node_modules", ".cache", "latticeform", "host.cjs");

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (/\.(ts|cjs|js|json)$/.test(e.name)) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function isFresh(): boolean {
  try {
    const built = statSync(BUNDLE).mtimeMs;
    return built > newestSource(path.join(REPO_ROOT, "src")) && built > statSync(path.join(REPO_ROOT, "package-lock.json")).mtimeMs;
  } catch {
    return false;
  }
}

/** Node arguments that start a host: the bundle when it is (or can be made) current, else tsx on the sources. */
export function hostCommand(log: (line: string) => void = () => {}): string[] {
  if (process.env.LATTICEFORM_HOST_TSX === "1") return ["--import", "tsx", HOST_MAIN];
  if (isFresh()) return [BUNDLE];
  try {
    const esbuild = require("esbuild") as typeof import("esbuild");
    mkdirSync(path.dirname(BUNDLE), { recursive: true });
    const tmp = `${BUNDLE}.${process.pid}.tmp`;
    esbuild.buildSync({
      entryPoints: [HOST_MAIN],
      bundle: true,
      platform: "node",
      format: "cjs",
      target: "node20",
      // jco (the general path's transpiler) loads its own wasm files: it stays a package, imported on demand.
      external: ["@bytecodealliance/*"],
      outfile: tmp,
      logLevel: "silent",
    });
    renameSync(tmp, BUNDLE);
    return [BUNDLE];
  } catch (e) {
    log(`host bundle not built (${(e as Error).message.split("\n")[0]}); starting hosts through tsx`);
    return ["--import", "tsx", HOST_MAIN];
  }
}
