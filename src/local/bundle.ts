/**
 * Processes of the local lattice (Wasm hosts, the leader keeper) as CommonJS bundles (esbuild), so they start
 * without compiling TypeScript: loading through tsx cost ~0.9 s of CPU per process, and a lattice starts many on
 * few cores. A bundle is rebuilt when any source under src/ (or the lockfile) is newer; it is written to a
 * temporary file and renamed, so two lattices starting at once never load a half-written one. Falls back to tsx
 * when it cannot build.
 */
import { mkdirSync, readdirSync, renameSync, statSync } from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "../paths";

export interface BundleTarget {
  /** The entry point (TypeScript). */
  readonly entry: string;
  /** File name of the bundle in the build cache. */
  readonly name: string;
  /** Packages left out of the bundle (loaded from node_modules at run time). */
  readonly external?: readonly string[];
}

// The conventional place for build caches: ignored by git, removed with node_modules.
const CACHE = path.join(REPO_ROOT, "node_modules", ".cache", "latticeform");

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (/\.(ts|cjs|js|json)$/.test(e.name)) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function isFresh(bundle: string): boolean {
  try {
    const built = statSync(bundle).mtimeMs;
    return built > newestSource(path.join(REPO_ROOT, "src")) && built > statSync(path.join(REPO_ROOT, "package-lock.json")).mtimeMs;
  } catch {
    return false;
  }
}

/** Node arguments that start `t`: its bundle when it is (or can be made) current, else tsx on the sources. */
export function bundledCommand(t: BundleTarget, log: (line: string) => void = () => {}): string[] {
  const bundle = path.join(CACHE, t.name);
  if (isFresh(bundle)) return [bundle];
  try {
    const esbuild = require("esbuild") as typeof import("esbuild");
    mkdirSync(CACHE, { recursive: true });
    const tmp = `${bundle}.${process.pid}.tmp`;
    esbuild.buildSync({
      entryPoints: [t.entry],
      bundle: true,
      platform: "node",
      format: "cjs",
      target: "node20",
      external: [...(t.external ?? [])],
      outfile: tmp,
      logLevel: "silent",
    });
    renameSync(tmp, bundle);
    return [bundle];
  } catch (e) {
    log(`${t.name} not built (${(e as Error).message.split("\n")[0]}); starting it through tsx`);
    return ["--import", "tsx", t.entry];
  }
}
