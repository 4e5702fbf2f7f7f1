/**
 * The command line as a new user meets it: exit codes, one-line user errors (a stack only with --debug), checks
 * that refuse before any process starts, and --json outputs that parse. Run in a network namespace (ports).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { stringify } from "yaml";
import { readStackConfig } from "../../src/model/load";

const tmp = mkdtempSync(path.join(tmpdir(), "lf-cli-"));
const stateRoot = path.join(tmp, "state");
const env = { ...process.env, LATTICEFORM_STATE_DIR: stateRoot, LATTICEFORM_PROGRESS: "0" };
const bin = path.join("bin", "latticeform.js");
const cli = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { env, encoding: "utf8", timeout: 60000 });
const basePort = 26000 + (process.pid % 9) * 100;

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function stackFile(name: string, mutate: (raw: Raw) => void = () => {}): string {
  const raw = structuredClone(readStackConfig("stacks/Pulumi.small.yaml")) as Raw;
  raw.local = { basePort };
  mutate(raw);
  const file = path.join(tmp, `Pulumi.${name}.yaml`);
  mkdirSync(tmp, { recursive: true });
  writeFileSync(file, stringify({ config: { "latticeform:lattice": raw } }));
  return file;
}

const oneLine = (stderr: string) => {
  assert.equal(stderr.trim().split("\n").length, 1, `more than one line:\n${stderr}`);
  assert.doesNotMatch(stderr, /\n\s+at |node_modules/, "a stack trace without --debug");
};

describe("latticeform command line", () => {
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it("documents the exit codes in --help", () => {
    const r = cli("--help");
    assert.equal(r.status, 0);
    assert.match(r.stdout, /Exit codes:\n\s+0 .*\n\s+1 .*\n\s+2 .*\n\s+3 .*inconclusive/);
  });

  it("runs through a symlink named latticeform, as npx and npm link call it", () => {
    const link = path.join(tmp, "latticeform");
    symlinkSync(path.resolve(bin), link);
    const r = spawnSync(process.execPath, [link, "--help"], { env, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Usage: latticeform/);
  });

  it("a user error is one line and exit 2; --debug adds the stack", () => {
    const file = stackFile("usererror");
    const up = cli("up", "--stack", file);
    assert.equal(up.status, 2);
    oneLine(up.stderr);
    assert.match(up.stderr, /add --local/);
    const nostack = cli("validate", "--stack", "no-such-stack");
    assert.equal(nostack.status, 2);
    oneLine(nostack.stderr);
    assert.match(nostack.stderr, /--stack: no such stack/);
    const flag = cli("drill", "--stack", file, "--target", "cloud");
    assert.equal(flag.status, 2);
    oneLine(flag.stderr);
    const verify = cli("drill", "verify", path.join(tmp, "no-pack"));
    assert.equal(verify.status, 2);
    oneLine(verify.stderr);
    const debug = cli("up", "--stack", file, "--debug");
    assert.equal(debug.status, 2);
    assert.match(debug.stderr, /\n\s+at /);
  });

  it("validate refuses a missing artifact by its property path, as text and as JSON", () => {
    const file = stackFile("noartifact", (raw) => (raw.workloads[0].artifact = { path: "workloads/build/not-built.wasm" }));
    const r = cli("validate", "--stack", file);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /workloads\[0\]\.artifact\.path: no such file \(got "workloads\/build\/not-built\.wasm"/);
    const j = cli("validate", "--stack", file, "--json");
    assert.equal(j.status, 2);
    const out = JSON.parse(j.stdout) as { ok: boolean; problems: { path: string; scope: string }[] };
    assert.equal(out.ok, false);
    assert.deepEqual(
      out.problems.map((p) => [p.path, p.scope]),
      [["workloads[0].artifact.path", "artifact"]],
    );
    const good = JSON.parse(cli("validate", "--stack", stackFile("good"), "--json").stdout) as { ok: boolean; problems: unknown[] };
    assert.deepEqual([good.ok, good.problems], [true, []]);
  });

  it("up refuses a missing artifact or a busy port before any process starts", async () => {
    const file = stackFile("refused", (raw) => (raw.workloads[1].artifact = { path: "workloads/build/not-built.wasm" }));
    const r = cli("up", "--local", "--once", "--stack", file);
    assert.equal(r.status, 2, r.stderr);
    oneLine(r.stderr);
    assert.match(r.stderr, /cannot start: workloads\[1\]\.artifact\.path: no such file/);
    assert.equal(existsSync(path.join(stateRoot, "refused")), false, "up wrote state or started processes");

    const srv = net.createServer();
    await new Promise<void>((res) => srv.listen({ host: "127.0.0.1", port: basePort + 3 }, res));
    try {
      const busy = cli("up", "--local", "--once", "--stack", stackFile("busy"));
      assert.equal(busy.status, 2, busy.stderr);
      oneLine(busy.stderr);
      assert.match(busy.stderr, new RegExp(`port ${basePort + 3} already in use`));
      assert.equal(existsSync(path.join(stateRoot, "busy", "pids")), false, "a process was started");
      const drill = cli("drill", "--stack", stackFile("busy"));
      assert.equal(drill.status, 2, drill.stderr);
      assert.match(drill.stderr, /cannot start: local\.basePort \(drill\): port/);
    } finally {
      srv.close();
    }
  });

  it("status exits 1 with no lattice (also after --wait), call says to start one; drill --list --json parses", () => {
    const file = stackFile("down");
    const s = cli("status", "--stack", file);
    assert.equal(s.status, 1);
    assert.match(s.stdout, /no local lattice .*`latticeform up --local --stack down`/);
    const t0 = Date.now();
    const j = cli("status", "--stack", file, "--json", "--wait", "1");
    assert.ok(Date.now() - t0 >= 1000, "--wait did not wait");
    assert.equal(j.status, 1);
    assert.deepEqual(JSON.parse(j.stdout), {
      stack: "down",
      stateDir: path.join(stateRoot, "down"),
      running: false,
      healthy: false,
      rows: [],
    });
    const call = cli("call", "--stack", file, "validator", "{}");
    assert.equal(call.status, 2);
    oneLine(call.stderr);
    assert.match(call.stderr, /not running .*latticeform up --local --stack down/);
    const list = cli("drill", "--stack", file, "--list", "--json");
    assert.equal(list.status, 0, list.stderr);
    const plans = JSON.parse(list.stdout) as { scenarios: { id: string }[] };
    assert.ok(plans.scenarios.some((p) => p.id === "lose-primary-cloud"));
  });
});
