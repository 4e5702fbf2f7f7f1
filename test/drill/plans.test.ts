/** Drill plans: the built-in scenarios and those a stack declares, as the runner takes them. Pure. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { listPlans } from "../../src/cli/drill";
import { plansFor } from "../../src/drill/plans";
import { readStackConfig } from "../../src/model/load";
import { parseLattice } from "../../src/model/validate";

type Mutable = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const small = () => structuredClone(readStackConfig("stacks/Pulumi.small.yaml")) as Mutable;

describe("drill plans", () => {
  it("a declared drill replaces the built-in of the same id in place; new ones follow the built-ins", () => {
    const plans = plansFor(parseLattice(small()));
    assert.deepEqual(
      plans.map((p) => `${p.id}:${p.source}`),
      [
        "lose-primary-cloud:stack",
        "hub-node-loss:built-in",
        "host-crash:built-in",
        "blackhole-primary:built-in",
        "partition-clouds:stack",
        "lose-gcp:stack",
      ],
    );
    assert.equal(plans[0]!.name, "Lose AWS eu-west-1 entirely");
    assert.match(plans[0]!.hypothesis, /no acknowledged ledger update is lost/);
  });

  it("without declared drills the built-ins apply, aimed at the primary cloud", () => {
    const s = small();
    delete s.drills;
    s.workloads[1].failover.primary = "gcp";
    const plans = plansFor(parseLattice(s));
    assert.ok(plans.every((p) => p.source === "built-in"));
    assert.deepEqual(plans[0]!.faults, [{ kind: "cloud-outage", cloud: "gcp" }]);
  });

  it("converts the declared settings: seconds to milliseconds, load, stop conditions, objectives, defaults", () => {
    const s = small();
    s.drills = [
      {
        id: "freeze-tb",
        hypothesis: "freezing the tie-breaker changes nothing the clients can see",
        faults: [
          { kind: "blackhole", cloud: "tb", durationSeconds: 2.5 },
          { kind: "latency", between: ["aws", "gcp"], delayMs: 40 },
          { kind: "host-crash", cloud: "gcp", host: "gcp-hosts-1" },
        ],
        load: { rateHz: 20, minSamplesAfterFault: 30 },
        steadyState: { warmupSeconds: 3, windowSeconds: 0.5 },
        observeSeconds: 12,
        stopConditions: { downFactor: 5 },
        objectives: { ledger: { rtoSeconds: 2 } },
        repetitions: 3,
      },
    ];
    const p = plansFor(parseLattice(s)).find((x) => x.id === "freeze-tb")!;
    assert.deepEqual(
      { ...p, hypothesis: undefined },
      {
        id: "freeze-tb",
        name: "freeze-tb",
        hypothesis: undefined,
        faults: [
          { kind: "blackhole", cloud: "tb", durationMs: 2500 },
          { kind: "latency", between: ["aws", "gcp"], delayMs: 40, durationMs: 5000 },
          { kind: "host-crash", cloud: "gcp", host: "gcp-hosts-1" },
        ],
        rateHz: 20,
        requestTimeoutMs: 250,
        minSamplesPerCloud: 30,
        streams: true,
        warmupMs: 3000,
        steadyWindowMs: 500,
        observeMs: 12000,
        abortFactor: 5,
        repetitions: 3,
        objectives: { ledger: { rtoSeconds: 2 } },
        source: "stack",
      },
    );
  });

  it("lists every scenario with its source, repetitions and faults", () => {
    const out = listPlans(plansFor(parseLattice(small())));
    const lines = out.trimEnd().split("\n");
    assert.equal(lines.length, 7);
    assert.match(lines[0]!, /^SCENARIO\s+SOURCE\s+REPS\s+FAULTS\s+NAME$/);
    assert.match(lines[5]!, /^partition-clouds\s+stack\s+1\s+partition\(aws\|gcp\)\s+Cut AWS off from GCP for 5 s$/);
  });
});
