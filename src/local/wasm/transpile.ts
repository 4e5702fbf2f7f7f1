/**
 * The general path's code: `jco transpile` of a component (instantiation "sync": the host supplies the
 * imports and instantiates per message), cached by the component's SHA-256 so a host transpiles once.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { REPO_ROOT } from "../../paths";

const CACHE = path.join(REPO_ROOT, "node_modules", ".cache", "latticeform", "transpiled");

/** The glue module's URL and the component's core modules by the file name the glue asks for. */
export async function transpiled(component: Uint8Array): Promise<{ glueUrl: string; cores: Record<string, Uint8Array<ArrayBuffer>> }> {
  const hash = createHash("sha256").update(component).digest("hex").slice(0, 32);
  const dir = path.join(CACHE, hash);
  if (!existsSync(path.join(dir, "component.js"))) {
    const jco = await import("@bytecodealliance/jco");
    const out = await jco.transpile(component, {
      name: "component",
      instantiation: "sync",
      noTypescript: true,
      nodejsCompat: false,
      base64Cutoff: 0,
      quiet: true,
    });
    const tmp = `${dir}.${process.pid}.tmp`;
    mkdirSync(tmp, { recursive: true });
    for (const [name, bytes] of Object.entries(out.files)) {
      if (name.endsWith(".d.ts")) continue;
      // The glue is an ES module; the cache folder has no package.json, so it is named .mjs.
      writeFileSync(path.join(tmp, name === "component.js" ? "component.mjs" : name), bytes);
    }
    writeFileSync(path.join(tmp, "component.js"), "// marker: transpile complete\n");
    mkdirSync(CACHE, { recursive: true });
    try {
      renameSync(tmp, dir);
    } catch {
      // another host finished it first
    }
  }
  const cores: Record<string, Uint8Array<ArrayBuffer>> = {};
  for (const f of readdirSync(dir)) if (f.endsWith(".wasm")) cores[f] = new Uint8Array(readFileSync(path.join(dir, f)));
  return { glueUrl: pathToFileURL(path.join(dir, "component.mjs")).href, cores };
}
