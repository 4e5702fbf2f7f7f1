#!/usr/bin/env node
// Builds the sample workloads from source with AssemblyScript (an npm devDependency: no toolchain download).
// Skips a module whose output is newer than its sources. Guests import their memory (env.memory), so the
// host sets its maximum: the sandbox's memory limit.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, "build");
const modules = {
  validator: "validator/index.ts",
  ledger: "ledger/index.ts",
  trap: "faulty/trap.ts",
  loop: "faulty/loop.ts",
  hog: "faulty/hog.ts",
  snoop: "faulty/snoop.ts",
};
const asc = path.join(here, "..", "node_modules", "assemblyscript", "bin", "asc.js");
mkdirSync(out, { recursive: true });
const libMtime = Math.max(...readdirSync(path.join(here, "lib")).map((f) => statSync(path.join(here, "lib", f)).mtimeMs));
let built = 0;
for (const [name, src] of Object.entries(modules)) {
  const target = path.join(out, `${name}.wasm`);
  const srcPath = path.join(here, src);
  if (
    existsSync(target) &&
    statSync(target).mtimeMs > Math.max(statSync(srcPath).mtimeMs, libMtime, statSync(fileURLToPath(import.meta.url)).mtimeMs)
  )
    continue;
  // stub runtime: no GC (a fresh instance serves each request); abort= turns aborts into traps.
  execFileSync(
    process.execPath,
    [asc, srcPath, "-o", target, "--runtime", "stub", "--importMemory", "--initialMemory", "1", "-O3", "--noAssert", "--use", "abort="],
    { stdio: "inherit" },
  );
  built++;
}
process.stderr.write(`[setup] workloads: ${built} built, ${Object.keys(modules).length - built} up to date (${out})\n`);
