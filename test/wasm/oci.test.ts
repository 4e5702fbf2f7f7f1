/**
 * The registry round trip of a workload artifact against a real OCI registry on loopback (Debian's
 * docker-registry, the CNCF distribution server): push, pull by digest, bytes equal. Run it in a network
 * namespace (see COMMON.md); it uses only 127.0.0.1.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { MANIFEST_MEDIA_TYPE, WASM_CONFIG_MEDIA_TYPE, WASM_LAYER_MEDIA_TYPE, wasmArtifact } from "../../src/oci/artifact";
import { pullArtifact, pushArtifact, type RegistryTarget } from "../../src/oci/registry";
import { parseComponent } from "../../src/local/wasm/component";
import { pushFile } from "../../components/ociArtifact";

const BIN = "/usr/bin/docker-registry";
const tmp = mkdtempSync(path.join(tmpdir(), "lf-oci-"));
let proc: ChildProcess | undefined;
let target: RegistryTarget;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

describe("OCI artifacts on a real registry", { skip: !existsSync(BIN) && `${BIN} is not installed` }, () => {
  before(async () => {
    const port = await freePort();
    const config = path.join(tmp, "config.yml");
    writeFileSync(
      config,
      [
        "version: 0.1",
        "log: { level: error }",
        `storage: { filesystem: { rootdirectory: ${path.join(tmp, "data")} } }`,
        `http: { addr: "127.0.0.1:${port}" }`,
        "",
      ].join("\n"),
    );
    proc = spawn(BIN, ["serve", config], { stdio: "ignore" });
    target = { registry: `127.0.0.1:${port}`, repository: "small/validator", insecure: true };
    for (let i = 0; i < 100; i++) {
      const up = await fetch(`http://127.0.0.1:${port}/v2/`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error("docker-registry did not start");
  });

  after(() => {
    if (proc?.pid) process.kill(proc.pid, "SIGTERM");
    rmSync(tmp, { recursive: true, force: true });
  });

  it("push, pull by digest: the same component bytes, in wash's layout", async () => {
    const bytes = new Uint8Array(readFileSync("workloads/build/validator.wasm"));
    const info = parseComponent(bytes);
    const a = wasmArtifact(bytes, info);
    const digest = await pushArtifact(target, a);
    assert.equal(digest, a.manifest.digest);
    // A second push of the same artifact is a no-op with the same digest.
    assert.equal(await pushArtifact(target, a), digest);
    const pulled = await pullArtifact(target, digest);
    assert.deepEqual(pulled.component, bytes);
    assert.equal(pulled.manifest.mediaType, MANIFEST_MEDIA_TYPE);
    assert.deepEqual(
      (pulled.manifest.layers as { mediaType: string }[]).map((l) => l.mediaType),
      [WASM_LAYER_MEDIA_TYPE],
    );
    assert.equal((pulled.manifest.config as { mediaType: string }).mediaType, WASM_CONFIG_MEDIA_TYPE);
    // The digest names this content only: another component is another digest, and a wrong one is not found.
    const other = wasmArtifact(new Uint8Array(readFileSync("workloads/build/snoop.wasm")), info);
    assert.notEqual(other.manifest.digest, digest);
    await assert.rejects(pullArtifact(target, other.manifest.digest), /404/);
  });

  it("the Pulumi push (OciArtifact's provider) stores the file under the digest deployments reference, path prefix included", async () => {
    const file = path.resolve("workloads/build/ledger.wasm");
    const a = wasmArtifact(new Uint8Array(readFileSync(file)), parseComponent(new Uint8Array(readFileSync(file))));
    const inputs = { file, registry: `${target.registry}/lf`, repository: "small/ledger", digest: a.manifest.digest, insecure: true };
    assert.equal(await pushFile(inputs), a.manifest.digest);
    const pulled = await pullArtifact({ ...target, repository: "lf/small/ledger" }, a.manifest.digest);
    assert.deepEqual(pulled.component, new Uint8Array(readFileSync(file)));
    // A file that no longer matches the digest the deployments were rendered with is refused, not pushed.
    await assert.rejects(pushFile({ ...inputs, digest: `sha256:${"0".repeat(64)}` }), /ledger\.wasm changed/);
  });
});
