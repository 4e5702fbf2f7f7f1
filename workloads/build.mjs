#!/usr/bin/env node
// Builds the sample workloads from source into components of the latticeform worlds (wit/world.wit), with
// npm packages only: AssemblyScript compiles a core module against our canonical-ABI guest library
// (lib/wit.ts); binaryen (shipped with AssemblyScript) gives `handle_message` its component-model export
// name; jco's API embeds the world and makes the component. jco's CLI embed/new cannot read files here (its
// WASI shim starts without preopened directories), so the API is called after preopening the file system.
// Skips a component whose output is newer than its sources.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, "..");
const out = path.join(here, "build");
const witDir = path.join(root, "wit");
/** name -> [source, world] */
export const WORKLOADS = {
  validator: ["validator/index.ts", "stateless"],
  ledger: ["ledger/index.ts", "stateful"],
  trap: ["faulty/trap.ts", "stateless"],
  loop: ["faulty/loop.ts", "stateless"],
  hog: ["faulty/hog.ts", "stateless"],
  snoop: ["faulty/snoop.ts", "stateless"],
  asker: ["faulty/asker.ts", "stateless"],
};
const HANDLER = "wasmcloud:messaging/handler@0.2.0#handle-message";
/** Workloads in JavaScript, built with ComponentizeJS (StarlingMonkey): ~12 MB each, minutes to build, so cached. */
export const JS_WORKLOADS = { "echo-js": ["js/echo.js", "stateless"] };

function newestMtime(dir) {
  let t = 0;
  for (const f of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, f.name);
    t = Math.max(t, f.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** jco's API, with its WASI shim's file system preopened (the shim it resolves, not a copy of ours). */
async function loadJco() {
  const req = createRequire(path.join(root, "node_modules", "@bytecodealliance", "jco-transpile", "package.json"));
  const shim = await import(pathToFileURL(req.resolve("@bytecodealliance/preview2-shim/filesystem")).href);
  shim._setPreopens({ "/": "/" });
  return import(pathToFileURL(path.join(root, "node_modules", "@bytecodealliance", "jco", "dist", "api.js")).href);
}

async function main() {
  const asc = path.join(root, "node_modules", "assemblyscript", "bin", "asc.js");
  mkdirSync(out, { recursive: true });
  const shared = Math.max(newestMtime(path.join(here, "lib")), newestMtime(witDir), statSync(fileURLToPath(import.meta.url)).mtimeMs);
  let jco;
  let binaryen;
  let built = 0;
  for (const [name, [src, world]] of Object.entries(WORKLOADS)) {
    const target = path.join(out, `${name}.wasm`);
    const srcPath = path.join(here, src);
    if (existsSync(target) && statSync(target).mtimeMs > Math.max(statSync(srcPath).mtimeMs, shared)) continue;
    jco ??= await loadJco();
    binaryen ??= (await import("binaryen")).default;
    const core = path.join(tmpdir(), `latticeform-${process.pid}-${name}.core.wasm`);
    // stub runtime: no GC (a fresh instance serves each message); abort= turns aborts into traps. The module
    // keeps its own memory (a component's must be exported); hosts set the cap.
    execFileSync(
      process.execPath,
      [asc, srcPath, "-o", core, "--runtime", "stub", "--initialMemory", "1", "-O3", "--noAssert", "--use", "abort="],
      {
        stdio: "inherit",
      },
    );
    const m = binaryen.readBinary(readFileSync(core));
    const fn = binaryen.getExportInfo(m.getExport("handle_message")).value;
    m.removeExport("handle_message");
    m.addFunctionExport(fn, HANDLER);
    const embedded = await jco.componentEmbed({ binary: m.emitBinary(), witPath: witDir, world: `latticeform:workload/${world}` });
    m.dispose();
    writeFileSync(target, await jco.componentNew(embedded, []));
    rmSync(core, { force: true });
    built++;
  }
  for (const [name, [src, world]] of Object.entries(JS_WORKLOADS)) {
    const target = path.join(out, `${name}.wasm`);
    const srcPath = path.join(here, src);
    if (existsSync(target) && statSync(target).mtimeMs > Math.max(statSync(srcPath).mtimeMs, newestMtime(witDir))) continue;
    // ComponentizeJS reads the WIT through the same WASI shim as jco: preopen the file system first.
    const shim = await import("@bytecodealliance/preview2-shim/filesystem");
    shim._setPreopens({ "/": "/" });
    const { componentize } = await import("@bytecodealliance/componentize-js");
    const { component } = await componentize({
      sourcePath: srcPath,
      witPath: witDir,
      worldName: `latticeform:workload/${world}`,
      // The world grants no WASI: every optional StarlingMonkey feature off.
      disableFeatures: ["stdio", "random", "clocks", "http", "fetch-event"],
    });
    writeFileSync(target, component);
    built++;
  }
  const total = Object.keys(WORKLOADS).length + Object.keys(JS_WORKLOADS).length;
  process.stderr.write(`[setup] workloads: ${built} built, ${total - built} up to date (${out})\n`);
}

await main();
