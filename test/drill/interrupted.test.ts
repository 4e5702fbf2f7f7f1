/** The evidence of an interrupted drill: INCONCLUSIVE with the step, what was measured kept, valid against the schema. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { DrillRunRaw } from "../../src/drill/drill";
import { buildEvidence } from "../../src/drill/evidence";
import { validateEvidence } from "../../src/drill/pack";
import type { RepetitionResult, WorkloadMeasurement } from "../../src/drill/runner";

const iso = (ms: number) => new Date(Date.UTC(2026, 10, 30, 9, 0, 0, ms)).toISOString();
const lat = { p50: 1, p99: 2, n: 3 };

function workload(name: string, recoveryMs: number | null): WorkloadMeasurement {
  return {
    workload: name,
    failover: "active-active",
    objectiveRtoMs: 5000,
    objectiveRpo: 0,
    recoveryMs,
    firstFailureMs: recoveryMs === 0 ? null : 10,
    firstSuccessAfterFailureMs: null,
    ok: 3,
    failed: recoveryMs === 0 ? 0 : 1,
    latency: { before: lat, during: lat, after: lat },
    servedBy: { aws: 3 },
    samples: [
      { t: -100, ok: true, latencyMs: 1 },
      { t: 20, ok: recoveryMs === 0, latencyMs: 1 },
    ],
  };
}

function rep(ws: WorkloadMeasurement[], interrupted?: string): RepetitionResult {
  const t = {
    start: iso(0),
    injected: iso(500),
    detected: null,
    firstSuccess: null,
    steady: null,
    restored: iso(700),
    steadyAgain: interrupted ? null : iso(800),
    end: iso(900),
  };
  return {
    index: 0,
    timestamps: t,
    faults: [{ step: { kind: "partition", between: ["aws", "gcp"] }, processes: ["aws", "gcp"], action: "network" }],
    workloads: ws,
    streams: [],
    stopConditionsFired: [],
    jetstreamApi: null,
    ...(interrupted ? { interrupted } : {}),
  };
}

function run(reps: RepetitionResult[], interrupted?: DrillRunRaw["interrupted"]): DrillRunRaw {
  return {
    plan: {
      id: "hold-partition",
      name: "hold-partition",
      hypothesis: "AWS cut off from GCP; each keeps serving its own clients.",
      faults: [{ kind: "partition", between: ["aws", "gcp"], durationMs: 60000 }],
      rateHz: 20,
      requestTimeoutMs: 250,
      warmupMs: 500,
      steadyWindowMs: 500,
      observeMs: 10000,
      abortFactor: 3,
      source: "stack",
      repetitions: 1,
      streams: false,
    },
    stack: { name: "cleanup", file: "stacks/Pulumi.small.yaml", configHash: "sha256:" + "0".repeat(64), lattice: "small" },
    versions: { tool: "latticeform 0.1.0", natsServer: "nats-server: v2.14.2", node: process.version, gitCommit: "abc" },
    startedAt: iso(0),
    finishedAt: iso(1000),
    readyMs: 5000,
    repetitions: reps,
    ...(interrupted ? { interrupted } : {}),
  };
}

describe("evidence of an interrupted drill", () => {
  const by = { by: "operator" as const, step: "repetition 1/1: observe (partition injected)", detail: "received SIGINT" };

  it("is INCONCLUSIVE, names the step, and never calls a cut-short recovery MET", () => {
    const e = buildEvidence(run([rep([workload("validator", 0), workload("ledger", null)], "observe (partition injected)")], by));
    assert.deepEqual(validateEvidence(e), []);
    assert.equal(e.verdict, "inconclusive");
    assert.deepEqual(e.interrupted, by);
    // Nothing had failed yet (0 ms) or nothing had recovered yet: neither proves the objective.
    assert.deepEqual(
      e.objectives.map((o) => [o.workload, o.verdict]),
      [
        ["validator", "inconclusive"],
        ["ledger", "inconclusive"],
      ],
    );
    assert.equal(e.repetitions[0]!.interrupted, "observe (partition injected)");
    assert.ok(e.findings.some((f) => f.severity === "high" && f.text.includes("interrupted by the operator during repetition 1/1")));
    assert.ok(!e.findings.some((f) => /did not return to steady state/.test(f.text)));
  });

  it("keeps a breach measured before the interruption", () => {
    const e = buildEvidence(run([rep([workload("validator", 9000)], "observe (partition injected)")], by));
    assert.equal(e.objectives[0]!.verdict, "breached");
    assert.equal(e.verdict, "inconclusive");
  });

  it("is valid with no repetition at all (interrupted while booting)", () => {
    const e = buildEvidence(run([], { by: "operator", step: "boot" }));
    assert.deepEqual(validateEvidence(e), []);
    assert.equal(e.verdict, "inconclusive");
    assert.deepEqual(e.objectives, []);
  });

  it("an uninterrupted run is judged as before", () => {
    const e = buildEvidence(run([rep([workload("validator", 100)])]));
    assert.equal(e.verdict, "met");
    assert.equal(e.interrupted, undefined);
  });
});
