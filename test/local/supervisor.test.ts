/**
 * Nothing a supervisor starts outlives it: its nats-server dies with it even when the supervisor is SIGKILLed
 * (running or frozen by a blackhole), and without a death signal the next command reaps it by its recorded pid
 * (checked against its command line) and undoes its recorded faults. Ports: run in a network namespace.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { pdeathsigUnavailable } from "../../src/local/launcher";
import { procStart, reapDir } from "../../src/local/records";
import { pidAlive, waitFor } from "../../src/local/supervisor";
import { REPO_ROOT } from "../../src/model/load";

const root = path.join(REPO_ROOT, ".latticeform", `test-supervisor-${process.pid}`);
const canNft = process.getuid?.() === 0 && spawnSync("nft", ["list", "tables"]).status === 0;
const children: ChildProcess[] = [];

/** Start the helper supervisor; resolves with it and its nats-server's pid once the server listens. */
async function hold(
  dir: string,
  port: number,
  extra: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ sup: ChildProcess; srv: number }> {
  mkdirSync(dir, { recursive: true });
  const sup = spawn(process.execPath, ["--import", "tsx", path.join("test", "local", "helpers", "hold.ts"), dir, String(port), ...extra], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(sup);
  let out = "";
  sup.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  sup.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  assert.ok(await waitFor(() => out.includes('{"pid"'), 45000, 50), `helper did not start:\n${out}`);
  return { sup, srv: (JSON.parse(out.slice(out.indexOf('{"pid"')).split("\n")[0]!) as { pid: number }).pid };
}

function nftHas(table: string): boolean {
  return spawnSync("nft", ["list", "table", "inet", table]).status === 0;
}

describe("processes never outlive their supervisor", () => {
  after(() => {
    for (const c of children) if (c.pid && pidAlive(c.pid)) c.kill("SIGKILL");
    reapDir(root, { force: true });
    rmSync(root, { recursive: true, force: true });
  });

  for (const frozen of [false, true])
    it(
      `a SIGKILLed supervisor takes its ${frozen ? "frozen (SIGSTOPped) " : ""}nats-server with it`,
      { skip: pdeathsigUnavailable() },
      async () => {
        const dir = path.join(root, frozen ? "frozen" : "running");
        const { sup, srv } = await hold(dir, frozen ? 14223 : 14222, frozen ? ["-", "stop"] : []);
        assert.ok(pidAlive(srv));
        sup.kill("SIGKILL");
        assert.ok(await waitFor(() => !pidAlive(srv), 5000, 20), `nats-server ${srv} outlived its SIGKILLed supervisor`);
        // Its records stay for the next command, which finds nothing left alive and drops them.
        const reaped = reapDir(dir);
        assert.deepEqual(reaped.killed, []);
        assert.deepEqual(readdirSync(path.join(dir, "run")), []);
      },
    );

  it("without a death signal the next command kills it by its recorded pid and undoes its recorded faults", async () => {
    const dir = path.join(root, "reap");
    const table = `latticeform_test_${process.pid}`;
    const { sup, srv } = await hold(dir, 14224, [canNft ? table : "-", "stop"], { ...process.env, LATTICEFORM_NO_PDEATHSIG: "1" });
    // While the supervisor lives, its records are its own: not reaped, unless forced.
    const live = reapDir(dir);
    assert.equal(live.busy?.pid, sup.pid);
    assert.deepEqual(live.killed, []);
    sup.kill("SIGKILL");
    assert.ok(await waitFor(() => !pidAlive(sup.pid!), 5000, 20));
    assert.ok(pidAlive(srv), "the server should have survived (no death signal): the reaper is under test");
    if (canNft) assert.ok(nftHas(table));
    const reaped = reapDir(dir);
    assert.deepEqual(
      reaped.killed.map((k) => k.pid),
      [srv],
    );
    assert.ok(
      reaped.undone.some((u) => u.includes("left stopped by a blackhole")),
      reaped.undone.join("; "),
    );
    if (canNft) {
      assert.ok(reaped.undone.includes(`deleted nftables table inet ${table}`), reaped.undone.join("; "));
      assert.equal(nftHas(table), false);
    }
    assert.ok(await waitFor(() => !pidAlive(srv), 5000, 20));
    assert.deepEqual(readdirSync(path.join(dir, "run")), []);
  });

  it("a recorded pid that now belongs to another program is left alone", async () => {
    const dir = path.join(root, "reused");
    mkdirSync(path.join(dir, "run"), { recursive: true });
    const other = spawn("sleep", ["30"], { stdio: "ignore" });
    children.push(other);
    const dead = spawnSync("true").pid!;
    writeFileSync(
      path.join(dir, "run", "1-0.jsonl"),
      [
        { t: "owner", pid: dead, start: procStart(process.pid), argv: [], at: new Date().toISOString() },
        { t: "process", id: 1, name: "srv" },
        { t: "pid", id: 1, pid: other.pid },
      ]
        .map((l) => JSON.stringify(l))
        .join("\n") + "\n",
    );
    const reaped = reapDir(dir);
    assert.deepEqual(reaped.killed, []);
    assert.ok(pidAlive(other.pid!), "reaped a process whose command line does not name the state dir");
    assert.equal(existsSync(path.join(dir, "run", "1-0.jsonl")), false);
    other.kill("SIGKILL");
  });
});
