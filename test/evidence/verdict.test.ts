/** Each verdict rule on its own: silent on a clean run, firing (with its outcome) on the one thing it checks. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { DrillRunRaw } from "../../src/drill/drill";
import { buildEvidence } from "../../src/drill/evidence";
import type { RepetitionResult } from "../../src/drill/runner";
import { EXIT_CODES, judge, VERDICT_RULES } from "../../src/drill/verdict";
import { rep, run, workload } from "./fixtures";

const clean = () => rep([workload("validator", 100, 5000), workload("ledger", 900, 10000, 0)]);
const ruleNamed = (name: string) => VERDICT_RULES.find((r) => r.name === name)!;
const withRep = (over: Partial<RepetitionResult>) => run([{ ...clean(), ...over }]);

/** One mutation per rule: the run that makes exactly that rule fire. */
const cases: Record<string, { raw: () => DrillRunRaw; expect: RegExp }> = {
  interrupted: {
    raw: () => withRep({ interrupted: { by: "operator", step: "observe", detail: "SIGINT" } }),
    expect: /repetition 1 was interrupted by operator at observe \(SIGINT\)/,
  },
  "fault-skipped": {
    raw: () =>
      withRep({
        faults: [
          { step: { kind: "partition", between: ["aws", "gcp"], durationMs: 5000 }, processes: [], action: "skipped", reason: "no root" },
        ],
      }),
    expect: /partition was not injected: no root/,
  },
  "fault-without-effect": {
    raw: () =>
      withRep({
        faults: [
          {
            step: { kind: "host-crash", cloud: "aws", host: "aws-9" },
            processes: ["host-aws-9"],
            action: "killed",
            pids: { "host-aws-9": null },
            effect: { ok: false, detail: "host-aws-9 was not running" },
          },
        ],
      }),
    expect: /host-crash did not take effect: host-aws-9 was not running/,
  },
  "steady-before-fault": {
    raw: () => {
      const v = workload("validator", 100, 5000);
      return withRep({
        workloads: [{ ...v, samples: [{ t: -300, ok: false, latencyMs: 250 }, ...v.samples] }, workload("ledger", 900, 10000, 0)],
      });
    },
    expect: /validator: 1 of 2 requests failed in the 1000 ms before the fault/,
  },
  "too-few-samples": {
    raw: () =>
      withRep({
        workloads: [{ ...workload("validator", 0, 5000), samplesAfterFault: { aws: 3, gcp: 40 } }, workload("ledger", 900, 10000, 0)],
      }),
    expect: /validator had 3 request\(s\) from aws after the fault, fewer than the 20 required/,
  },
  "measurement-failed": {
    raw: () =>
      withRep({
        workloads: [
          workload("validator", 100, 5000),
          { ...workload("ledger", 900, 10000), ledgerError: "could not open KV bucket balances: timeout" },
        ],
      }),
    expect: /ledger: ledger not reconciled: could not open KV bucket balances/,
  },
  "recovery-objective": {
    raw: () => withRep({ workloads: [workload("validator", 5001, 5000), workload("ledger", 900, 10000, 0)] }),
    expect: /validator recovered in 5001 ms, beyond its 5000 ms objective/,
  },
  "acknowledged-loss": {
    raw: () => withRep({ workloads: [workload("validator", 100, 5000), workload("ledger", 900, 10000, 1)] }),
    expect: /ledger: 1 acknowledged update\(s\) lost \(RPO 0\); balance short by 1/,
  },
  integrity: {
    raw: () => {
      const l = workload("ledger", 900, 10000, 0);
      return withRep({ workloads: [workload("validator", 100, 5000), { ...l, ledger: { ...l.ledger!, duplicated: 1 } }] });
    },
    expect: /ledger: 1 update\(s\) applied more than once/,
  },
  "stop-condition": {
    raw: () => withRep({ stopConditionsFired: ["ledger: down for more than 3 × its 10 s objective"] }),
    expect: /ledger: down for more than 3 × its 10 s objective; observation stopped/,
  },
  "jetstream-api": {
    raw: () => withRep({ jetstreamApi: { ok: false, ms: 5000, error: "JetStream cluster not available" } }),
    expect: /JetStream API unavailable: JetStream cluster not available/,
  },
  "steady-after-restore": {
    raw: () =>
      withRep({ timestamps: { ...clean().timestamps, steadyAgain: null }, notSteadyReason: "PAYMENTS_GCP does not follow PAYMENTS" }),
    expect: /not steady again after restore: PAYMENTS_GCP does not follow PAYMENTS/,
  },
};

describe("verdict rules", () => {
  it("a clean, measured run is MET with exit code 0, and no rule fires", () => {
    const j = judge(run([clean()]));
    assert.equal(j.outcome, "met");
    assert.deepEqual(j.findings, []);
    assert.equal(EXIT_CODES[j.outcome], 0);
    for (const rule of VERDICT_RULES) assert.deepEqual(rule.check(run([clean()])), [], `${rule.name} fired on a clean run`);
  });

  it("every rule has a case here", () => {
    assert.deepEqual(VERDICT_RULES.map((r) => r.name).sort(), Object.keys(cases).sort());
  });

  for (const [name, c] of Object.entries(cases)) {
    it(`${name}: fires alone, as ${ruleNamed(name).outcome.toUpperCase()}, with its reason in the evidence`, () => {
      const raw = c.raw();
      const j = judge(raw);
      assert.deepEqual(
        [...new Set(j.findings.map((f) => f.rule))],
        [name],
        `other rules fired: ${j.findings.map((f) => `${f.rule}: ${f.reason}`).join("; ")}`,
      );
      assert.equal(j.outcome, ruleNamed(name).outcome);
      assert.match(j.reason, new RegExp(`^${name}: `));
      assert.match(j.reason, c.expect);
      assert.equal(EXIT_CODES[j.outcome], j.outcome === "breached" ? 1 : 3);
      const e = buildEvidence(raw);
      assert.equal(e.verdict, j.outcome);
      assert.equal(e.verdictReason, j.reason);
    });
  }

  it("a workload whose observation a stop condition for another workload cut short is judged by the stop condition alone", () => {
    const j = judge(
      withRep({
        stopConditionsFired: ["ledger: down for more than 3 × its 10 s objective"],
        workloads: [workload("validator", null, 5000), workload("ledger", null, 10000, 0)],
      }),
    );
    assert.deepEqual(
      j.findings.map((f) => [f.rule, f.reason.replace(/;.*/, "")]),
      [
        ["recovery-objective", "repetition 1: ledger did not recover (objective 10000 ms)"],
        ["stop-condition", "repetition 1: ledger: down for more than 3 × its 10 s objective"],
      ],
    );
  });

  it("a workload that was not steady before the fault is not judged; a steady one still is", () => {
    const noisy = { ...workload("ledger", null, 10000, 0), samples: [{ t: -300, ok: false, latencyMs: 250 }] };
    const j = judge(withRep({ workloads: [workload("validator", 5001, 5000), noisy] }));
    assert.equal(j.outcome, "breached");
    assert.deepEqual(
      j.findings.map((f) => f.rule),
      ["recovery-objective", "steady-before-fault"],
    );
    assert.match(j.findings[0]!.reason, /validator recovered in 5001 ms/);
    assert.equal(judge(withRep({ workloads: [workload("validator", 100, 5000), noisy] })).outcome, "inconclusive");
    const e = buildEvidence(withRep({ workloads: [workload("validator", 100, 5000), noisy] }));
    assert.deepEqual(
      e.objectives.map((o) => [o.workload, o.rtoVerdict, o.verdict]),
      [
        ["validator", "met", "met"],
        ["ledger", "not measured", "inconclusive"],
      ],
    );
  });

  it("steady before the fault counts the requests answered before it: one in flight at the fault failed by the fault", () => {
    const v = workload("validator", 100, 5000);
    // Sent 100 ms before the fault, failed 150 ms after it: the fault's doing.
    const inFlight = { ...v, samples: [{ t: -100, ok: false, latencyMs: 250 }, ...v.samples] };
    assert.equal(judge(withRep({ workloads: [inFlight, workload("ledger", 900, 10000, 0)] })).outcome, "met");
    // Sent 400 ms before, failed 150 ms before: the lattice was not steady.
    const early = { ...v, samples: [{ t: -400, ok: false, latencyMs: 250 }, ...v.samples] };
    const j = judge(withRep({ workloads: [early, workload("ledger", 900, 10000, 0)] }));
    assert.equal(j.outcome, "inconclusive");
    assert.match(j.findings[0]!.reason, /validator: 1 of 2 requests failed in the 1000 ms before the fault/);
    // Only in-flight requests in the window: nothing was measured there.
    const none = { ...v, samples: [{ t: -50, ok: true, latencyMs: 80 }, ...v.samples.filter((s) => s.t >= 0)] };
    assert.match(
      judge(withRep({ workloads: [none, workload("ledger", 900, 10000, 0)] })).findings[0]!.reason,
      /validator: no request in the 1000 ms before the fault/,
    );
  });

  it("a breach in a repetition whose fault was skipped is not judged: INCONCLUSIVE", () => {
    const skipped = judge(
      withRep({
        faults: [
          { step: { kind: "partition", between: ["aws", "gcp"], durationMs: 5000 }, processes: [], action: "skipped", reason: "no root" },
        ],
        workloads: [workload("validator", null, 5000), workload("ledger", 900, 10000, 0)],
        stopConditionsFired: ["validator: down for more than 3 × its 5 s objective"],
      }),
    );
    assert.equal(skipped.outcome, "inconclusive");
    assert.deepEqual(
      skipped.findings.map((f) => f.rule),
      ["fault-skipped"],
    );
  });

  it("a measured breach outranks an inconclusive finding; an interrupted repetition is judged only as interrupted", () => {
    const both = run([
      { ...clean(), stopConditionsFired: ["validator: down"] },
      {
        ...clean(),
        index: 1,
        faults: [{ step: { kind: "latency", between: ["aws", "gcp"] }, processes: [], action: "skipped", reason: "no netem" }],
      },
    ]);
    assert.equal(judge(both).outcome, "breached");
    const cut = judge(
      withRep({ interrupted: { by: "error", step: "reconcile", detail: "boom" }, workloads: [workload("validator", null, 5000)] }),
    );
    assert.equal(cut.outcome, "inconclusive");
    assert.deepEqual(
      cut.findings.map((f) => f.rule),
      ["interrupted"],
    );
  });

  it("a timed fault healed before its declared duration, or with no record of its effect, is INCONCLUSIVE", () => {
    const step = { kind: "blackhole" as const, cloud: "aws", durationMs: 5000 };
    const short = judge(
      withRep({ faults: [{ step, processes: ["aws-1"], action: "frozen", effect: { ok: true, detail: "stopped" }, heldMs: 3100 }] }),
    );
    assert.equal(short.outcome, "inconclusive");
    assert.match(short.reason, /blackhole was held 3100 ms, less than its declared 5000 ms/);
    const held = judge(
      withRep({ faults: [{ step, processes: ["aws-1"], action: "frozen", effect: { ok: true, detail: "stopped" }, heldMs: 5012 }] }),
    );
    assert.equal(held.outcome, "met");
    const unchecked = judge(
      withRep({ faults: [{ step: { kind: "cloud-outage", cloud: "aws" }, processes: ["aws-1"], action: "killed" }] }),
    );
    assert.match(unchecked.reason, /has no record that it took effect/);
  });

  it("a run with no repetition, or fewer than planned, is never MET", () => {
    assert.equal(judge(run([])).outcome, "inconclusive");
    const r = run([clean()]);
    assert.equal(judge({ ...r, plan: { ...r.plan, repetitions: 3 } }).outcome, "inconclusive");
  });
});
