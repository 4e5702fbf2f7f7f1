/** `latticeform review` end to end: the real program under mocks, the real pack, three formats, exit codes. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { policies } from "../../policies/policies";

const tmp = mkdtempSync(path.join(tmpdir(), "lf-review-"));
const cli = (...args: string[]) =>
  spawnSync(process.execPath, [path.join("bin", "latticeform.js"), "review", ...args], { encoding: "utf8", timeout: 120000 });

/** The violations the non-compliant stack is built to show (policy -> count). */
const EXPECTED: Record<string, number> = {
  "latticeform-nats-leafnode-verify": 1,
  "latticeform-residency-allowed-regions": 1,
  "latticeform-resilience-drill-coverage": 2,
  "latticeform-resilience-hub-spread": 1,
  "latticeform-resilience-impact-tolerance": 1,
  "latticeform-resilience-rpo-zero-replication": 2,
  "latticeform-resilience-warm-standby": 1,
  "latticeform-resilience-workload-failover": 3,
  "latticeform-wasm-artifact-digest": 1,
  "latticeform-wasm-krustlet-unmaintained": 1,
  "latticeform-cloud-required-tags": 8,
};

type Finding = { policy: string; status: string; enforcement: string; urn: string; message: string };

describe("latticeform review", () => {
  after(() => rmSync(tmp, { recursive: true, force: true }));

  for (const stack of ["small", "prod"]) {
    it(`passes the ${stack} example (exit 0), reporting unknown values as not checkable`, () => {
      const r = cli("--stack", stack, "--format", "json");
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { mandatoryViolations: number; findings: Finding[]; resources: number };
      assert.equal(out.mandatoryViolations, 0);
      assert.ok(out.resources > 100);
      assert.ok(
        out.findings.some((f) => f.status === "not-checkable"),
        "no unknown value was reported",
      );
      assert.ok(out.findings.filter((f) => f.status === "violation").every((f) => f.enforcement === "advisory"));
    });
  }

  it("fails the non-compliant stack with the expected violations (json, exit 1)", () => {
    const r = cli("--stack", "noncompliant", "--format", "json");
    assert.equal(r.status, 1, r.stderr);
    const out = JSON.parse(r.stdout) as { findings: Finding[]; mandatoryViolations: number };
    const counts: Record<string, number> = {};
    for (const f of out.findings.filter((x) => x.status === "violation")) counts[f.policy] = (counts[f.policy] ?? 0) + 1;
    assert.deepEqual(counts, EXPECTED);
    assert.equal(out.mandatoryViolations, 18);
    assert.ok(out.findings.some((f) => f.message === "clouds[0].region us-east-1 (aws) is outside the allowed regions."));
  });

  it("prints a readable table (exit 1)", () => {
    const r = cli("--stack", "noncompliant");
    assert.equal(r.status, 1);
    assert.match(r.stdout, /^POLICY\s+SEVERITY\s+ENFORCEMENT\s+RESOURCE\s+MESSAGE$/m);
    assert.match(
      r.stdout,
      /latticeform-wasm-artifact-digest\s+medium\s+mandatory\s+urn:pulumi:noncompliant::latticeform::latticeform:index:Lattice::noncompliant\s+workloads\[2\]/,
    );
    assert.match(r.stdout, /18 mandatory violation\(s\): FAIL/);
  });

  it("writes SARIF 2.1.0 that code-scanning tools read (exit 1)", () => {
    const r = cli("--stack", "noncompliant", "--format", "sarif");
    assert.equal(r.status, 1);
    const sarif = JSON.parse(r.stdout) as {
      version: string;
      runs: {
        tool: { driver: { name: string; rules: { id: string }[] } };
        results: {
          ruleId: string;
          ruleIndex: number;
          level: string;
          message: { text: string };
          locations: { physicalLocation: { artifactLocation: { uri: string } }; logicalLocations: { fullyQualifiedName: string }[] }[];
        }[];
      }[];
    };
    // The required structure of SARIF 2.1.0 (the official JSON schema is not available offline here).
    assert.equal(sarif.version, "2.1.0");
    assert.equal(sarif.runs.length, 1);
    const run = sarif.runs[0]!;
    assert.equal(run.tool.driver.name, "latticeform");
    assert.equal(run.tool.driver.rules.length, policies.length);
    for (const res of run.results) {
      assert.equal(run.tool.driver.rules[res.ruleIndex]!.id, res.ruleId);
      assert.ok(["error", "warning", "note", "none"].includes(res.level));
      assert.ok(res.message.text.length > 0);
      assert.equal(res.locations[0]!.physicalLocation.artifactLocation.uri, "stacks/Pulumi.noncompliant.yaml");
      assert.match(res.locations[0]!.logicalLocations[0]!.fullyQualifiedName, /^urn:pulumi:noncompliant::latticeform::/);
    }
    assert.equal(run.results.filter((x) => x.level === "error").length, 18);
    assert.equal(run.results.filter((x) => x.level === "warning").length, 4);
  });

  it("a bad spec or a bad policy config exits 2 with a clear message", () => {
    const bad = cli("--stack", "test/fixtures/Pulumi.broken.yaml");
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /clouds\[0\]\.hostPool: unknown key/);
    const cfg = path.join(tmp, "policy.json");
    writeFileSync(cfg, JSON.stringify({ "latticeform-residency-allowed-regions": { allowedRegions: "eu" } }));
    const badCfg = cli("--stack", "small", "--policy-config", cfg);
    assert.equal(badCfg.status, 2);
    assert.match(badCfg.stderr, /latticeform-residency-allowed-regions\.allowedRegions: must be array/);
  });

  it("a policy config changes enforcement: with every policy advisory the non-compliant stack exits 0", () => {
    const cfg = path.join(tmp, "relaxed.json");
    writeFileSync(cfg, JSON.stringify({ all: "advisory" }));
    const r = cli("--stack", "noncompliant", "--policy-config", cfg, "--format", "json");
    assert.equal(r.status, 0, r.stderr);
  });
});
