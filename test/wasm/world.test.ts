/**
 * World conformance: our WIT (wit/) is upstream's (wash 2.7's packages, kept as test data), and every built
 * workload is a component of it: its WIT printed by jco and compared.
 */
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { after, before, describe, it } from "node:test";
import { componentProblem } from "../../src/local/wasm/component";

type Jco = typeof import("@bytecodealliance/jco");
let jco: Jco;
const tmp = mkdtempSync(path.join(tmpdir(), "lf-wit-"));

/** jco's file-reading functions need its WASI shim's file system preopened (as workloads/build.mjs does). */
async function loadJco(): Promise<Jco> {
  const req = createRequire(path.resolve("node_modules/@bytecodealliance/jco-transpile/package.json"));
  const shim = (await import(pathToFileURL(req.resolve("@bytecodealliance/preview2-shim/filesystem")).href)) as {
    _setPreopens(p: Record<string, string>): void;
  };
  shim._setPreopens({ "/": "/" });
  return import("@bytecodealliance/jco");
}

/** The component type of a world built from a WIT folder (a dummy component: types only). */
async function worldType(dir: string, world: string): Promise<string> {
  const embedded = await jco.componentEmbed({ dummy: true, witPath: dir, world: `latticeform:workload/${world}` });
  const wat = await jco.print(await jco.componentNew(embedded, []));
  // The type, import and export declarations: everything before the first core module.
  return wat.slice(0, wat.indexOf("(core module"));
}

const expectedWit = (imports: string[]) =>
  [
    "package root:component;",
    "",
    "world root {",
    ...imports.map((i) => `  import ${i};`),
    "",
    "  export wasmcloud:messaging/handler@0.2.0;",
    "}",
    "",
  ].join("\n");

describe("the latticeform world", () => {
  before(async () => {
    jco = await loadJco();
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it("our WIT packages give the same component types as wash 2.7's (names, fields and case order)", async () => {
    const upstream = path.join(tmp, "upstream");
    mkdirSync(path.join(upstream, "deps"), { recursive: true });
    cpSync("wit/world.wit", path.join(upstream, "world.wit"));
    for (const f of ["wasmcloud-messaging-0.2.0", "wasi-keyvalue-0.2.0-draft"]) {
      mkdirSync(path.join(upstream, "deps", f));
      cpSync(`test/fixtures/wit/wasmcloud-v2.7.0/${f}.wit`, path.join(upstream, "deps", f, "package.wit"));
    }
    for (const world of ["stateless", "stateful"]) {
      const ours = await worldType(path.resolve("wit"), world);
      assert.match(ours, /broker-message/);
      assert.equal(ours, await worldType(upstream, world), `world ${world} differs from upstream`);
    }
    // The comparison can fail: a swapped field order is a different type.
    const swapped = path.join(tmp, "swapped");
    cpSync(upstream, swapped, { recursive: true });
    const msgWit = path.join(swapped, "deps", "wasmcloud-messaging-0.2.0", "package.wit");
    writeFileSync(
      msgWit,
      readFileSync(msgWit, "utf8").replace(/subject: string,\s*body: list<u8>,/, "body: list<u8>,\n    subject: string,"),
    );
    assert.notEqual(await worldType(swapped, "stateless"), await worldType(path.resolve("wit"), "stateless"));
  });

  const messaging = ["wasmcloud:messaging/types@0.2.0", "wasmcloud:messaging/consumer@0.2.0"];
  const built: [string, string[], boolean][] = [
    ["validator", messaging, false],
    ["ledger", ["wasi:keyvalue/store@0.2.0-draft", "wasi:keyvalue/atomics@0.2.0-draft", ...messaging], true],
    ["snoop", messaging, false],
    ["asker", messaging, false],
    ["trap", ["wasmcloud:messaging/types@0.2.0"], false],
    ["loop", ["wasmcloud:messaging/types@0.2.0"], false],
    ["hog", ["wasmcloud:messaging/types@0.2.0"], false],
  ];
  for (const [name, imports, kv] of built) {
    it(`${name}.wasm is a component of the world: its WIT imports only what the world grants`, async () => {
      const bytes = new Uint8Array(readFileSync(`workloads/build/${name}.wasm`));
      assert.equal(await jco.componentWit(bytes), expectedWit(imports));
      assert.equal(componentProblem(bytes, { kv }), undefined);
    });
  }
});
