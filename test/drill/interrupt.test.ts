/**
 * An interrupted or killed drill leaves the machine as it found it (run as root in a network namespace, which
 * also isolates nftables): Ctrl-C during each fault that changes the machine undoes it, stops everything and
 * still writes the evidence (INCONCLUSIVE, exit 3); a second Ctrl-C stops at once and still undoes the fault;
 * a SIGKILLed drill takes its servers with it, `down` removes what is left, and a fresh drill then succeeds.
 * The drills are declared in a fixture stack with short windows.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { stringify } from "yaml";
import { NetworkFaults } from "../../src/drill/network";
import { verifyDrillEvidence } from "../../src/drill/pack";
import { processesMentioning, reapDir } from "../../src/local/records";
import { siteIsolationUnavailable } from "../../src/local/sites";
import { pidAlive, waitFor } from "../../src/local/supervisor";
import { readStackConfig, REPO_ROOT } from "../../src/model/load";

const root = path.join(REPO_ROOT, ".latticeform", `test-interrupt-${process.pid}`);
const stateRoot = path.join(root, "state");
const stackFile = path.join(root, "Pulumi.cleanup.yaml");
const drillDir = path.join(stateRoot, "cleanup", "drill");
const env = { ...process.env, LATTICEFORM_STATE_DIR: stateRoot, LATTICEFORM_PROGRESS: "1" };
const basePort = 26000;
const table = `latticeform_${basePort}`;
const bin = path.join(REPO_ROOT, "bin", "latticeform.js");
const children: ChildProcess[] = [];

const hold = { durationSeconds: 120 };
const short = { steadyState: { warmupSeconds: 0.5, windowSeconds: 0.5 }, load: { rateHz: 20, requestTimeoutMs: 250, streams: false } };
const drills = [
  {
    id: "hold-partition",
    hypothesis: "Held until interrupted: AWS cut off from GCP.",
    faults: [{ kind: "partition", between: ["aws", "gcp"], ...hold }],
    ...short,
  },
  {
    id: "hold-blackhole",
    hypothesis: "Held until interrupted: every GCP process frozen.",
    faults: [{ kind: "blackhole", cloud: "gcp", ...hold }],
    ...short,
  },
  {
    id: "hold-latency",
    hypothesis: "Held until interrupted: 50 ms between AWS and GCP.",
    faults: [{ kind: "latency", between: ["aws", "gcp"], delayMs: 50, ...hold }],
    ...short,
  },
  {
    id: "short-partition",
    hypothesis: "AWS cut off from GCP for one second; each cloud keeps serving its own clients.",
    faults: [{ kind: "partition", between: ["aws", "gcp"], durationSeconds: 1 }],
    observeSeconds: 10,
    objectives: { validator: { rtoSeconds: 30 }, ledger: { rtoSeconds: 30 } },
    ...short,
  },
];

function startDrill(scenario: string, out: string): { child: ChildProcess; output: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [bin, "drill", "--stack", stackFile, "--scenario", scenario, "--out", out], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let text = "";
  child.stdout!.on("data", (d: Buffer) => (text += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (text += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output: () => text, exit };
}

async function exited(exit: Promise<number | null>, ms: number): Promise<number | null | "timeout"> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), ms)));
  try {
    return await Promise.race([exit, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The machine as the drill found it: no latticeform table, no tc qdisc, no process, no drill state. */
async function assertClean(what: string): Promise<void> {
  assert.ok(
    await waitFor(() => processesMentioning(stateRoot).length === 0, 5000, 50),
    `${what}: processes left: ${processesMentioning(stateRoot).join(", ")}`,
  );
  const ruleset = spawnSync("nft", ["list", "tables"], { encoding: "utf8" }).stdout;
  assert.doesNotMatch(ruleset, /latticeform/, `${what}: nftables table left`);
  assert.doesNotMatch(spawnSync("tc", ["qdisc", "show", "dev", "lo"], { encoding: "utf8" }).stdout, /netem|prio/, `${what}: tc qdisc left`);
  assert.equal(existsSync(drillDir), false, `${what}: drill state left in ${drillDir}`);
}

function evidenceOf(out: string): {
  verdict: string;
  interrupted?: { by: string; step: string };
  repetitions: { faults: { kind: string; action: string }[] }[];
} {
  assert.deepEqual(verifyDrillEvidence(out), []);
  return JSON.parse(readFileSync(path.join(out, "evidence.json"), "utf8")) as ReturnType<typeof evidenceOf>;
}

describe("an interrupted or killed drill leaves nothing behind", { skip: siteIsolationUnavailable() }, () => {
  before(() => {
    mkdirSync(root, { recursive: true });
    const raw = readStackConfig("stacks/Pulumi.small.yaml") as Record<string, unknown>;
    writeFileSync(stackFile, stringify({ config: { "latticeform:lattice": { ...raw, local: { basePort }, drills } } }));
  });
  after(() => {
    for (const c of children) if (c.pid && pidAlive(c.pid)) c.kill("SIGKILL");
    reapDir(drillDir, { force: true });
    spawnSync("nft", ["delete", "table", "inet", table]);
    rmSync(root, { recursive: true, force: true });
  });

  const faults = [
    { kind: "partition", scenario: "hold-partition", skip: undefined },
    { kind: "blackhole", scenario: "hold-blackhole", skip: undefined },
    { kind: "latency", scenario: "hold-latency", skip: NetworkFaults.latencyUnavailable() },
  ];
  for (const f of faults)
    it(
      `Ctrl-C during a ${f.kind} undoes it, stops everything and writes the evidence: INCONCLUSIVE, exit 3`,
      { skip: f.skip },
      async () => {
        const out = path.join(root, `out-${f.scenario}`);
        const d = startDrill(f.scenario, out);
        assert.ok(await waitFor(() => d.output().includes(`injected ${f.kind}`), 120000, 100), `never injected:\n${d.output()}`);
        if (f.kind !== "blackhole") assert.match(spawnSync("nft", ["list", "tables"], { encoding: "utf8" }).stdout, new RegExp(table));
        d.child.kill("SIGINT");
        const code = await exited(d.exit, 60000);
        assert.equal(code, 3, d.output());
        const e = evidenceOf(out);
        assert.equal(e.verdict, "inconclusive");
        assert.equal(e.interrupted?.by, "operator");
        assert.match(e.interrupted!.step, /repetition 1\/1: observe/);
        assert.equal(e.repetitions[0]?.faults[0]?.kind, f.kind);
        assert.match(d.output(), /INCONCLUSIVE/);
        await assertClean(`after Ctrl-C during ${f.kind}`);
      },
    );

  it("a second Ctrl-C stops at once and still undoes the partition", async () => {
    const d = startDrill("hold-partition", path.join(root, "out-twice"));
    assert.ok(await waitFor(() => d.output().includes("injected partition"), 120000, 100), `never injected:\n${d.output()}`);
    // Signals sent together arrive as one: the second once the first is being handled (undo and stop take ~1 s).
    d.child.kill("SIGINT");
    assert.ok(await waitFor(() => d.output().includes("SIGINT: undoing"), 5000, 2));
    d.child.kill("SIGINT");
    assert.equal(await exited(d.exit, 20000), 3, d.output());
    assert.match(d.output(), /stopping at once/);
    await assertClean("after a second Ctrl-C");
  });

  it("SIGKILL during a partition: the servers die with the drill, down removes the rest, a fresh drill succeeds", async () => {
    const d = startDrill("hold-partition", path.join(root, "out-killed"));
    assert.ok(await waitFor(() => d.output().includes("injected partition"), 120000, 100), `never injected:\n${d.output()}`);
    d.child.kill("SIGKILL");
    await d.exit;
    // The parent-death signal takes every server and host; the fault and the state wait for the next command.
    assert.ok(
      await waitFor(() => processesMentioning(stateRoot).length === 0, 5000, 50),
      `processes outlived the drill: ${processesMentioning(stateRoot).join(", ")}`,
    );
    assert.match(spawnSync("nft", ["list", "tables"], { encoding: "utf8" }).stdout, new RegExp(table));
    assert.ok(existsSync(drillDir));

    const down = spawnSync(process.execPath, [bin, "down", "--stack", stackFile], { env, encoding: "utf8" });
    assert.equal(down.status, 0, down.stderr);
    assert.match(down.stdout, new RegExp(`deleted nftables table inet ${table}`));
    await assertClean("after down");

    const fresh = startDrill("short-partition", path.join(root, "out-fresh"));
    // It runs to its verdict with nothing cleaned by hand: no refusal (2), not interrupted. MET is expected; on a
    // loaded machine the verdict rules may judge the short windows BREACHED or INCONCLUSIVE, which is no cleanup matter.
    const code = await exited(fresh.exit, 180000);
    assert.ok(code === 0 || code === 1 || code === 3, `exit ${code}:\n${fresh.output()}`);
    const e = evidenceOf(path.join(root, "out-fresh"));
    assert.equal(e.verdict, ({ 0: "met", 1: "breached", 3: "inconclusive" } as Record<number, string>)[code as number]);
    assert.equal(e.interrupted ?? null, null, fresh.output());
    assert.doesNotMatch(fresh.output(), /reaped/, "down left something for the next command to reap");
    await assertClean("after a fresh drill");
  });
});
