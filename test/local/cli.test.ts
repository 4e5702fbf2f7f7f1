/** The local lattice from the command line: `up --local` in the foreground, `call`, `status`, then `down` from another process. */
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { stringify } from "yaml";
import { localLayout } from "../../src/local/env";
import { busyPorts, pidAlive, waitFor } from "../../src/local/supervisor";
import { readStackConfig } from "../../src/model/load";
import { topologyOf } from "../../src/model/topology";
import { parseLattice } from "../../src/model/validate";

const tmp = mkdtempSync(path.join(tmpdir(), "lf-cli-"));
const stateRoot = path.join(tmp, "state");
const env = { ...process.env, LATTICEFORM_STATE_DIR: stateRoot };
const bin = path.join("bin", "latticeform.js");
let up: ChildProcess | undefined;

describe("local lattice commands", () => {
  after(() => {
    if (up?.pid && pidAlive(up.pid)) process.kill(up.pid, "SIGKILL");
    rmSync(tmp, { recursive: true, force: true });
  });

  it("up runs in the foreground; call and status reach it; down leaves no process, no port and no state", async () => {
    const raw = readStackConfig("stacks/Pulumi.small.yaml") as Record<string, unknown>;
    const basePort = 24000 + (process.pid % 9) * 100;
    const file = path.join(tmp, "Pulumi.clitest.yaml");
    mkdirSync(tmp, { recursive: true });
    writeFileSync(file, stringify({ config: { "latticeform:lattice": { ...raw, local: { basePort } } } }));
    let out = "";
    up = spawn(process.execPath, [bin, "up", "--local", "--stack", file], { env, stdio: ["ignore", "pipe", "pipe"] });
    up.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    up.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    assert.ok(await waitFor(() => out.includes("Ctrl-C stops everything"), 90000, 200), `up did not get ready:\n${out}`);
    assert.match(out, /host\s+aws-hosts-1\s+aws\s+ok/);

    const call = spawnSync(
      process.execPath,
      [
        bin,
        "call",
        "--stack",
        file,
        "--cloud",
        "gcp",
        "validator",
        '{"id":"c1","amount":5,"currency":"EUR","iban":"DE89370400440532013000"}',
      ],
      { env, encoding: "utf8" },
    );
    assert.equal(call.status, 0, call.stderr);
    assert.equal(JSON.parse(call.stdout).valid, true);
    assert.match(call.stderr, /served by gcp-hosts-1 in gcp/);

    const status = spawnSync(process.execPath, [bin, "status", "--stack", file, "--json", "--wait", "10"], { env, encoding: "utf8" });
    assert.equal(status.status, 0, status.stderr);
    const st = JSON.parse(status.stdout) as { healthy: boolean; running: boolean; rows: { kind: string; health: string }[] };
    assert.ok(st.healthy && st.running && st.rows.length >= 13 && st.rows.every((x) => x.health === "ok"), status.stdout);

    // One hub down: status says so and exits 1 (a script waiting on it keeps waiting).
    const hub = readFileSync(path.join(stateRoot, "clitest", "pids"), "utf8")
      .split("\n")
      .find((l) => / aws-1$/.test(l));
    process.kill(Number(hub!.split(" ")[0]), "SIGKILL");
    const degraded = spawnSync(process.execPath, [bin, "status", "--stack", file], { env, encoding: "utf8" });
    assert.equal(degraded.status, 1, degraded.stdout);
    assert.match(degraded.stdout, /hub\s+aws-1\s+aws\s+down/);

    // A second lattice on the same ports is refused with a clear error, before anything starts.
    const clash = spawnSync(process.execPath, [bin, "up", "--local", "--once", "--stack", file], {
      env: { ...env, LATTICEFORM_STATE_DIR: path.join(tmp, "other") },
      encoding: "utf8",
      timeout: 60000,
    });
    assert.equal(clash.status, 2);
    assert.match(clash.stderr, /already in use on 127\.0\.0\.1/);

    const stateDir = path.join(stateRoot, "clitest");
    const pids = readFileSync(path.join(stateDir, "pids"), "utf8")
      .split("\n")
      .map((l) => Number(l.split(" ")[0]))
      .filter(Boolean);
    assert.ok(pids.length >= 13);
    const down = spawnSync(process.execPath, [bin, "down", "--stack", file], { env, encoding: "utf8" });
    assert.equal(down.status, 0, down.stderr);
    assert.ok(await waitFor(() => pids.every((p) => !pidAlive(p)), 10000, 100), "processes survived down");
    const spec = parseLattice({ ...raw, local: { basePort } });
    assert.deepEqual(await busyPorts(localLayout(spec, topologyOf(spec), "clitest", stateDir).allPorts), []);
    assert.equal(existsSync(stateDir), false);
    const after = spawnSync(process.execPath, [bin, "status", "--stack", file, "--json"], { env, encoding: "utf8" });
    assert.equal(after.status, 1);
    assert.equal((JSON.parse(after.stdout) as { running: boolean }).running, false);
    up.kill("SIGTERM");
  });
});
