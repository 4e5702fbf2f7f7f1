/** Checks before anything starts: artifacts, ports, state dir; and a host that exits while starting. Run in a network namespace. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { hostsReady } from "../../src/local/lattice";
import type { LocalRender } from "../../src/local/state";
import { Supervisor, waitFor } from "../../src/local/supervisor";
import { readStackConfig } from "../../src/model/load";
import { parseLattice } from "../../src/model/validate";
import { artifactProblem } from "../../src/preflight/artifact";
import { artifactProblems, localProblems, stateDirProblem, upTarget } from "../../src/preflight/preflight";

const tmp = mkdtempSync(path.join(tmpdir(), "lf-preflight-"));
const small = () => structuredClone(readStackConfig("stacks/Pulumi.small.yaml")) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe("preflight", () => {
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it("takes a component of the world and refuses a missing file, a non-Wasm file, a core module and ungranted imports", () => {
    assert.equal(artifactProblem("workloads/build/validator.wasm", { kv: false }), undefined);
    assert.equal(artifactProblem("workloads/build/ledger.wasm", { kv: true }), undefined);
    assert.equal(artifactProblem(path.join(tmp, "nope.wasm"), { kv: false }), "no such file");
    const text = path.join(tmp, "text.wasm");
    writeFileSync(text, "hello, not wasm");
    assert.match(artifactProblem(text, { kv: false })!, /not a WebAssembly component/);
    const core = path.join(tmp, "core.wasm");
    writeFileSync(core, Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]));
    assert.equal(artifactProblem(core, { kv: false }), "is a core WebAssembly module, not a component");
    // The ledger imports wasi:keyvalue, which the world grants only to a workload that declares a bucket.
    assert.match(
      artifactProblem("workloads/build/ledger.wasm", { kv: false })!,
      /imports wasi:keyvalue\/store@0.2.0-draft.*key-value needs `kv`/,
    );
  });

  it("names a missing artifact by its property path", () => {
    const raw = small();
    raw.workloads[1].artifact = { path: "workloads/build/missing-ledger.wasm" };
    const problems = artifactProblems(parseLattice(raw));
    assert.deepEqual(
      problems.map((p) => [p.path, p.message, p.got]),
      [["workloads[1].artifact.path", "no such file", "workloads/build/missing-ledger.wasm"]],
    );
  });

  it("finds a busy port of the range and an unusable state dir", async () => {
    const basePort = 25000 + (process.pid % 9) * 100;
    const spec = parseLattice({ ...small(), local: { basePort } });
    assert.deepEqual(await localProblems(spec, [upTarget("preflight-test")]).then((ps) => ps.filter((p) => p.path !== "nats-server")), []);
    const srv = net.createServer();
    await new Promise<void>((res) => srv.listen({ host: "127.0.0.1", port: basePort + 7 }, res));
    try {
      const file = path.join(tmp, "a-file");
      writeFileSync(file, "");
      const problems = await localProblems(spec, [{ command: "up", stack: "preflight-test", stateDir: path.join(file, "state") }]);
      const ports = problems.find((p) => p.path.startsWith("local.basePort"));
      assert.match(ports?.message ?? "", new RegExp(`port ${basePort + 7} already in use`));
      assert.match(problems.find((p) => p.path === "state dir (up)")?.message ?? "", /is not a folder/);
    } finally {
      srv.close();
    }
    assert.equal(stateDirProblem(path.join(tmp, "new", "deeper")), undefined);
  });

  it("a host that exits while starting is named with its last log lines", async () => {
    const stateDir = path.join(tmp, "host-exit");
    const sup = new Supervisor(stateDir);
    const p = sup.spawnProcess("host-aws-hosts-1", process.execPath, [
      "-e",
      "console.log('loading guest'); console.error('boom: no guest'); process.exit(3)",
    ]);
    await p.exited;
    assert.ok(await waitFor(() => !sup.processes.has("host-aws-hosts-1"), 2000));
    const r = { layout: { stateDir } } as unknown as LocalRender;
    await assert.rejects(hostsReady(r, sup, ["aws-hosts-1"], 2000), (e: Error) => {
      assert.doesNotMatch(e.message, /TypeError|undefined/);
      assert.match(e.message, /aws-hosts-1: exited: .*boom: no guest/);
      return true;
    });
    await sup.stopAll();
  });
});
