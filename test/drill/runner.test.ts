/**
 * Drills on the small example's local lattice: every fault, measured recovery, reconciliation of
 * acknowledged messages, stop conditions, and restore. One lattice is booted and reused by every case.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { NetworkFaults } from "../../src/drill/network";
import { plansFor } from "../../src/drill/plans";
import { recoveryFrom, runRepetition, type DrillPlan, type RepetitionResult } from "../../src/drill/runner";
import { upLocal } from "../../src/local/lattice";
import { renderLocal, type LocalRender } from "../../src/local/state";
import { Supervisor } from "../../src/local/supervisor";
import { readStackConfig } from "../../src/model/load";
import { parseLattice } from "../../src/model/validate";
import { testStateDir } from "../local/helpers/state";

const stateDir = testStateDir("lf-drill-");
let r: LocalRender;
let sup: Supervisor;
let plans: DrillPlan[];

const plan = (id: string, over: Partial<DrillPlan> = {}): DrillPlan => ({
  ...plans.find((p) => p.id === id)!,
  warmupMs: 1000,
  observeMs: 20000,
  ...over,
});

function allRunning(): string[] {
  const expected = [...r.nats.servers.map((s) => s.name), ...r.nats.leafs.map((l) => l.name), ...r.topo.hosts.map((h) => `host-${h.name}`)];
  return expected.filter((n) => !sup.processes.has(n));
}

function assertRecovered(rep: RepetitionResult): void {
  for (const w of rep.workloads) assert.notEqual(w.recoveryMs, null, `${w.workload} never recovered`);
  assert.notEqual(rep.timestamps.steadyAgain, null, "the lattice was not steady again after restore");
  assert.deepEqual(allRunning(), [], "not every process was restored");
}

describe("drills on the small example", () => {
  before(async () => {
    const raw = readStackConfig("stacks/Pulumi.small.yaml") as Record<string, unknown>;
    const spec = parseLattice({ ...raw, local: { basePort: 29000 + (process.pid % 9) * 100 } });
    r = await renderLocal(spec, "drill-test", stateDir);
    sup = new Supervisor(stateDir);
    await upLocal(r, sup);
    plans = plansFor(spec);
  });
  after(async () => {
    await sup?.stopAll();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it("recovery is the start of the first sustained success window after the first failure", () => {
    const s = (t: number, ok: boolean) => ({ t, ok, latencyMs: 1 });
    assert.deepEqual(recoveryFrom([s(-10, true), s(10, true), s(20, true)], 5), { recoveryMs: 0, firstFailure: null, firstSuccess: null });
    const r1 = recoveryFrom([s(0, false), s(100, true), s(150, false), s(200, true), s(250, true), s(400, true)], 150);
    assert.equal(r1.firstFailure, 0);
    assert.equal(r1.firstSuccess, 100);
    assert.equal(r1.recoveryMs, 200);
    assert.equal(recoveryFrom([s(0, false), s(100, false)], 50).recoveryMs, null);
  });

  it("lose the primary cloud: workloads recover from the other cloud; no acknowledged ledger update is lost; the mirrored stream's loss is measured", async () => {
    const rep = await runRepetition(r, sup, plan("lose-primary-cloud"), 0);
    assertRecovered(rep);
    const ledger = rep.workloads.find((w) => w.workload === "ledger")!;
    assert.ok(ledger.ledger && ledger.ledger.acked > 0, "no ledger update was acknowledged");
    assert.equal(ledger.ledger!.lost, 0, `acknowledged ledger updates lost: ${ledger.ledger!.lostIds.join(", ")}`);
    // After the fault the standby cloud served the active-passive ledger.
    assert.ok((ledger.servedBy.gcp ?? 0) > 0);
    const payments = rep.streams.find((s) => s.stream === "PAYMENTS")!;
    assert.equal(payments.copy, "PAYMENTS_GCP");
    assert.ok(payments.acked > 0);
    assert.equal(payments.recovered + payments.lost, payments.acked);
    assert.match(payments.note ?? "", /asynchronous mirror/);
    assert.equal(typeof payments.mirrorLagAtFault, "number");
    // The tie-breaker keeps the meta group's majority: the JetStream API still creates streams and consumers.
    assert.equal(rep.jetstreamApi?.ok, true, rep.jetstreamApi?.error ?? "");
  });

  it("hub node loss at a stream leader: no acknowledged message lost", async () => {
    const rep = await runRepetition(r, sup, plan("hub-node-loss"), 0);
    assertRecovered(rep);
    for (const s of rep.streams) assert.equal(s.lost, 0, `${s.stream} lost ${s.lost}`);
    assert.equal(rep.faults[0]!.processes.length, 1);
  });

  it("host crash: the survivors serve", async () => {
    const rep = await runRepetition(r, sup, plan("host-crash"), 0);
    assertRecovered(rep);
    assert.match(rep.faults[0]!.processes[0]!, /^host-aws-/);
  });

  it("blackhole: frozen processes are detected by pings, and thawed", async () => {
    const rep = await runRepetition(
      r,
      sup,
      plan("blackhole-primary", { faults: [{ kind: "blackhole", cloud: "aws", durationMs: 3000 }] }),
      0,
    );
    assertRecovered(rep);
    assert.equal(rep.faults[0]!.action, "frozen");
  });

  it("the stack's declared partition drill (root only), or a clear reason when it cannot be done", async () => {
    const declared = plan("partition-clouds");
    assert.equal(declared.source, "stack");
    const rep = await runRepetition(r, sup, { ...declared, faults: declared.faults.map((f) => ({ ...f, durationMs: 3000 })) }, 0);
    const why = NetworkFaults.unavailable();
    if (why) {
      assert.equal(rep.faults[0]!.action, "skipped");
      assert.equal(rep.faults[0]!.reason, why);
    } else {
      assert.equal(rep.faults[0]!.action, "network");
      assertRecovered(rep);
    }
  });

  it("an impossible objective is breached, and a stop condition aborts and restores the lattice", async () => {
    const rep = await runRepetition(
      r,
      sup,
      plan("lose-primary-cloud", { objectives: { ledger: { rtoSeconds: 0.01 } }, abortFactor: 2, streams: false }),
      0,
    );
    const ledger = rep.workloads.find((w) => w.workload === "ledger")!;
    assert.ok(ledger.recoveryMs === null || ledger.recoveryMs > ledger.objectiveRtoMs, "a 10 ms objective was met");
    assert.ok(
      rep.stopConditionsFired.some((s) => s.startsWith("ledger")),
      `no stop condition fired: ${rep.stopConditionsFired.join("; ")}`,
    );
    assert.deepEqual(allRunning(), []);
    assert.notEqual(rep.timestamps.steadyAgain, null);
  });
});
