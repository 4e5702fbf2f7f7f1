import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { policies } from "../../policies/policies";
import type { LatticePolicy } from "../../policies/lib";
import { UNKNOWN } from "../../src/review/evaluate";
import { resolvePolicyConfig, runPolicies } from "../../src/review/review";
import { eks, lattice, messages, mutate, res, type Any } from "./fixtures";
import { resourceCases } from "./resourceCases";
import { specCases } from "./specCases";

const CASES = { ...specCases, ...resourceCases };

describe("policy pack", () => {
  it("has at least 20 policies, every one with a test case here", () => {
    assert.ok(policies.length >= 20, `${policies.length} policies`);
    assert.deepEqual(policies.map((p) => p.name).sort(), Object.keys(CASES).sort());
  });

  it("names, severities, enforcement levels, descriptions and remediation are complete", () => {
    for (const p of policies as LatticePolicy[]) {
      assert.match(p.name, /^latticeform-(nats|resilience|residency|aws|gcp|cloud|wasm)-[a-z0-9-]+$/);
      assert.ok(["low", "medium", "high", "critical"].includes(p.severity), p.name);
      assert.ok(["advisory", "mandatory"].includes(p.enforcementLevel ?? ""), p.name);
      assert.ok((p.description ?? "").length > 20, p.name);
      assert.ok(p.remediationSteps.length > 10, p.name);
      for (const [k, s] of Object.entries((p.configSchema?.properties ?? {}) as Any))
        assert.ok("default" in s, `${p.name}.${k} has no default`);
    }
  });

  it("config schemas give defaults and refuse bad settings, naming them", () => {
    const cfg = resolvePolicyConfig(policies, {});
    assert.deepEqual(cfg.get("latticeform-resilience-impact-tolerance")!.settings, { maxRtoSeconds: 60, maxRpoMessages: 0 });
    assert.deepEqual(cfg.get("latticeform-cloud-required-tags")!.settings, { requiredTags: ["owner", "data-classification"] });
    assert.throws(
      () =>
        resolvePolicyConfig(policies, {
          "latticeform-resilience-impact-tolerance": { maxRtoSeconds: "soon" },
          "latticeform-nope": {},
          all: "loud",
        }),
      (e: Error) =>
        /latticeform-nope: no such policy/.test(e.message) &&
        /all: invalid enforcement level \(got "loud"; allowed advisory, mandatory, remediate, disabled\)/.test(e.message) &&
        /latticeform-resilience-impact-tolerance.maxRtoSeconds: must be number/.test(e.message),
    );
  });

  for (const [name, c] of Object.entries(CASES)) {
    it(`${name}: passes the compliant fixture and reports the violating one exactly`, async () => {
      assert.deepEqual(await messages(name, c.good()), []);
      assert.deepEqual(await messages(name, c.bad()), c.expected);
    });
  }

  it("reads a value unknown before deploy as not checkable, never as a pass", async () => {
    const got = await messages("latticeform-nats-no-public-exposure", [res("kubernetes:core/v1:Service", { spec: UNKNOWN })]);
    assert.equal(got.length, 1);
    assert.match(got[0]!, /^NOT CHECKABLE: not checkable before deploy: string value at .spec can't be known during preview/);
  });

  it("judges what is known before deploy: a KMS key wired in passes though its ARN is computed", async () => {
    const wired = eks({ encryptionConfig: { provider: { keyArn: UNKNOWN }, resources: ["secrets"] } });
    assert.deepEqual(await messages("latticeform-aws-eks-secrets-encryption", [res("aws:eks/cluster:Cluster", wired)]), []);
  });

  it("honours the enforcement matrix on one violation: advisory and mandatory report, disabled does not", async () => {
    const bad = CASES["latticeform-wasm-artifact-digest"]!.bad();
    const p = policies.find((x) => x.name === "latticeform-wasm-artifact-digest")!;
    for (const level of ["advisory", "mandatory", "disabled"] as const) {
      const f = await runPolicies(bad, [p], resolvePolicyConfig([p], { [p.name]: { enforcementLevel: level } }));
      if (level === "disabled") assert.deepEqual(f, []);
      else
        assert.deepEqual(
          f.map((x) => [x.enforcement, x.status, x.blocking]),
          CASES["latticeform-wasm-artifact-digest"]!.expected.map(() => [level, "violation", level === "mandatory"]),
        );
    }
    const all = await runPolicies(bad, [p], resolvePolicyConfig([p], { all: "advisory" }));
    assert.equal(all[0]!.enforcement, "advisory");
  });

  it("notCheckable: fail makes an unknown value on a mandatory policy block the review, never on an advisory one", async () => {
    const p = policies.find((x) => x.name === "latticeform-nats-no-public-exposure")!;
    const unknown = [res("kubernetes:core/v1:Service", { spec: UNKNOWN })];
    const run = async (cfg: Any, defaults = {}) =>
      (await runPolicies(unknown, [p], resolvePolicyConfig([p], cfg, defaults))).map((f) => [f.status, f.blocking, !!f.checkableWhen]);
    assert.deepEqual(await run({}), [["not-checkable", false, true]]);
    assert.deepEqual(await run({ [p.name]: { notCheckable: "fail" } }), [["not-checkable", true, true]]);
    assert.deepEqual(await run({ all: { notCheckable: "fail" } }), [["not-checkable", true, true]]);
    assert.deepEqual(await run({}, { notCheckable: "fail" }), [["not-checkable", true, true]]);
    assert.deepEqual(await run({ [p.name]: { notCheckable: "report" } }, { notCheckable: "fail" }), [["not-checkable", false, true]]);
    assert.deepEqual(await run({ [p.name]: { enforcementLevel: "advisory", notCheckable: "fail" } }), [["not-checkable", false, true]]);
    assert.throws(
      () => resolvePolicyConfig([p], { [p.name]: { notCheckable: "sometimes" } }),
      /latticeform-nats-no-public-exposure.notCheckable: invalid value \(got "sometimes"; allowed report, fail\)/,
    );
  });

  it("policy settings change the verdict (allowed regions, impact tolerance)", async () => {
    const us = [lattice(mutate((s) => (s.clouds[0].region = "us-east-1")))];
    assert.deepEqual(
      await messages("latticeform-residency-allowed-regions", us, { allowedRegions: ["us-east-1", "europe-west3", "europe-west4"] }),
      [],
    );
    const slow = [lattice(mutate((s) => (s.workloads[0].objectives.rtoSeconds = 120)))];
    assert.deepEqual(await messages("latticeform-resilience-impact-tolerance", slow, { maxRtoSeconds: 300 }), []);
  });
});
