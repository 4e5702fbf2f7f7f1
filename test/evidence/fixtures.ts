/** Raw drill measurements for evidence and verdict tests: a clean run that every rule should let pass. */
import type { DrillRunRaw } from "../../src/drill/drill";
import type { RepetitionResult, WorkloadMeasurement } from "../../src/drill/runner";

export const iso = (ms: number) => new Date(Date.UTC(2026, 10, 24, 12, 0, 0, ms)).toISOString();
const lat = { p50: 1, p99: 2, n: 10 };

export function workload(name: string, recoveryMs: number | null, objectiveRtoMs: number, lost?: number): WorkloadMeasurement {
  const samples = [
    { t: -200, ok: true, latencyMs: 1 },
    { t: 10, ok: false, latencyMs: 250 },
    { t: 600, ok: true, latencyMs: 2 },
  ];
  return {
    workload: name,
    failover: "active-active",
    objectiveRtoMs,
    objectiveRpo: 0,
    recoveryMs,
    firstFailureMs: 10,
    firstSuccessAfterFailureMs: 600,
    ok: 2,
    failed: 1,
    latency: { before: lat, during: lat, after: lat },
    servedBy: { gcp: 2 },
    samplesAfterFault: { aws: 40, gcp: 40 },
    ...(lost === undefined
      ? {}
      : { ledger: { acked: 10, recovered: 10 - lost, lost, lostIds: [], duplicated: 0, balanceShortfall: lost, accounts: [] } }),
    samples,
  };
}

export function rep(ws: WorkloadMeasurement[], over: Partial<RepetitionResult> = {}): RepetitionResult {
  return {
    index: 0,
    timestamps: {
      start: iso(0),
      injected: iso(1000),
      detected: iso(1010),
      firstSuccess: iso(1600),
      steady: iso(1600),
      restored: iso(5000),
      steadyAgain: iso(6000),
      end: iso(6100),
    },
    faults: [
      {
        step: { kind: "cloud-outage", cloud: "aws" },
        processes: ["aws-1"],
        action: "killed",
        pids: { "aws-1": 4242 },
        effect: { ok: true, detail: "1 process(es) gone: aws-1" },
      },
    ],
    workloads: ws,
    streams: [
      {
        stream: "PAYMENTS",
        copy: "PAYMENTS_GCP",
        acked: 50,
        recovered: 50,
        lost: 0,
        duplicated: 0,
        outOfOrder: 0,
        lostIds: [],
        placement: "aws",
        mirrors: ["gcp"],
        mirrorLagAtFault: 3,
        publishFailures: 5,
        note: "source lost with aws; looked up in the asynchronous mirror PAYMENTS_GCP (loss up to its lag)",
      },
    ],
    stopConditionsFired: [],
    jetstreamApi: { ok: true, ms: 120, error: null },
    ...over,
  };
}

export function run(reps: RepetitionResult[]): DrillRunRaw {
  return {
    plan: {
      id: "lose-primary-cloud",
      name: "Lose the primary cloud (aws)",
      hypothesis: "Every server and host in aws dies at once; workloads keep answering from gcp.",
      faults: [{ kind: "cloud-outage", cloud: "aws" }],
      rateHz: 50,
      requestTimeoutMs: 250,
      minSamplesPerCloud: 20,
      warmupMs: 1000,
      steadyWindowMs: 1000,
      observeMs: 20000,
      abortFactor: 3,
      source: "built-in",
      repetitions: reps.length,
      streams: true,
    },
    stack: { name: "small", file: "stacks/Pulumi.small.yaml", configHash: "sha256:" + "0".repeat(64), lattice: "small" },
    versions: { tool: "latticeform 0.1.0", natsServer: "nats-server: v2.14.2", node: process.version, gitCommit: "abc" },
    startedAt: iso(0),
    finishedAt: iso(7000),
    readyMs: 5000,
    repetitions: reps,
  };
}
