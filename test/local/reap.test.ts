/**
 * The next command recovers: `up` and `drill` reap what a killed run of the stack left (its processes by recorded
 * pid and command line, its faults, a drill's state, and drill state dirs older versions left in the system temp
 * folder), say what they reaped, and leave a live run alone. Ports: run in a network namespace.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { reapBeforeUp } from "../../src/cli/local";
import { drillStateDir, reapStack } from "../../src/local/state";
import { pidAlive, waitFor } from "../../src/local/supervisor";
import { REPO_ROOT } from "../../src/model/load";

const root = path.join(REPO_ROOT, ".latticeform", `test-reap-${process.pid}`);
const stack = "reaptest";
const canNft = process.getuid?.() === 0 && spawnSync("nft", ["list", "tables"]).status === 0;
const table = `latticeform_reaptest_${process.pid}`;
const children: ChildProcess[] = [];
let savedStateDir: string | undefined;

describe("the next command reaps what a killed run left", () => {
  before(() => {
    savedStateDir = process.env.LATTICEFORM_STATE_DIR;
    process.env.LATTICEFORM_STATE_DIR = root;
  });
  after(() => {
    for (const c of children) if (c.pid && pidAlive(c.pid)) c.kill("SIGKILL");
    reapStack(stack, { force: true });
    spawnSync("nft", ["delete", "table", "inet", table]);
    rmSync(root, { recursive: true, force: true });
    if (savedStateDir === undefined) delete process.env.LATTICEFORM_STATE_DIR;
    else process.env.LATTICEFORM_STATE_DIR = savedStateDir;
  });

  it("a killed drill's server, nftables table and state (master key included) are reaped and reported; a live one is left alone", async () => {
    const dir = drillStateDir(stack);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "master.key"), "secret", { mode: 0o600 });
    // No death signal, so the server outlives its supervisor as it would where setpriv is missing.
    const sup = spawn(
      process.execPath,
      ["--import", "tsx", path.join("test", "local", "helpers", "hold.ts"), dir, "14231", canNft ? table : "-"],
      { env: { ...process.env, LATTICEFORM_NO_PDEATHSIG: "1" }, stdio: ["ignore", "pipe", "inherit"] },
    );
    children.push(sup);
    let out = "";
    sup.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    assert.ok(await waitFor(() => out.includes('{"pid"'), 20000, 50), "helper did not start");
    const srv = (JSON.parse(out) as { pid: number }).pid;

    const live = reapStack(stack);
    assert.equal(live.busyDrill?.pid, sup.pid);
    assert.deepEqual(live.lines, []);
    assert.ok(pidAlive(srv) && existsSync(dir));

    sup.kill("SIGKILL");
    assert.ok(await waitFor(() => !pidAlive(sup.pid!), 5000, 20));
    const lines: string[] = [];
    reapBeforeUp(stack, (l) => lines.push(l));
    const said = lines.join("\n");
    assert.match(
      said,
      new RegExp(`reaped a drill of stack ${stack} that did not finish: killed 1 process\\(es\\) left running \\(srv ${srv}\\)`),
    );
    if (canNft) {
      assert.match(said, new RegExp(`deleted nftables table inet ${table}`));
      assert.notEqual(spawnSync("nft", ["list", "table", "inet", table]).status, 0);
    }
    assert.match(said, /removed the state of a drill of stack reaptest that did not finish/);
    assert.ok(await waitFor(() => !pidAlive(srv), 5000, 20));
    assert.equal(existsSync(dir), false);
    // Nothing left: the next command has nothing to say.
    assert.deepEqual(reapStack(stack).lines, []);
  });

  it("a drill state dir an older version left under the system temp folder is reaped and removed", async () => {
    const legacy = mkdtempSync(path.join(tmpdir(), `lf-drill-${stack}-`));
    writeFileSync(path.join(legacy, "master.key"), "secret", { mode: 0o600 });
    const left = spawn(process.execPath, ["-e", "setTimeout(() => {}, 30000)", path.join(legacy, "nats", "aws-1.conf")], {
      stdio: "ignore",
    });
    children.push(left);
    assert.ok(await waitFor(() => pidAlive(left.pid!), 2000, 10));
    const { lines } = reapStack(stack);
    assert.ok(
      lines.some((l) => l.includes(`killed 1 process(es) left running (${left.pid})`)),
      lines.join("\n"),
    );
    assert.ok(lines.some((l) => l.includes(`removed ${legacy}`)));
    assert.equal(existsSync(legacy), false);
    assert.ok(await waitFor(() => !pidAlive(left.pid!), 5000, 20));
  });
});
