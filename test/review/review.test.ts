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
  spawnSync(process.execPath, [path.join("bin", "latticeform.js"), "review", ...args], { encoding: "utf8", timeout: 600000 });

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
  "latticeform-wasm-artifact-digest": 2,
  "latticeform-wasm-krustlet-unmaintained": 1,
  "latticeform-cloud-required-tags": 16,
  "latticeform-cloud-network-policies": 4,
  "latticeform-cloud-node-metadata": 1,
  "latticeform-nats-host-permissions": 2,
  "latticeform-nats-leafnode-authorization": 2,
  "latticeform-resilience-drill-programme": 4,
  // Host images, and each cloud's leader keeper (nats-box by tag, as the NATS chart itself references it).
  "latticeform-wasm-image-pinning": 7,
};

/**
 * Issue 17's weakened copy of the prod stack: each weakness and the mandatory violations it must raise
 * (policy, message), nothing else mandatory.
 */
const WEAKENED: [string, string][] = [
  // API endpoints and NATS load balancers opened to 64.0.0.0/3 (validation itself refuses 0.0.0.0/0), judged
  // where it is known before deploy: the spec's access ranges, and the public control planes it asks for.
  [
    "latticeform-aws-eks-private-endpoint",
    "vpcConfig.endpointPublicAccess is not false: the Kubernetes API is reachable from the internet.",
  ],
  ["latticeform-gcp-gke-private", "privateClusterConfig.enablePrivateEndpoint is not true: the control plane is public."],
  [
    "latticeform-nats-no-public-exposure",
    "access.natsCidrs[0] 64.0.0.0/3 is admitted to every NATS listener the lattice exposes (aws hub load balancer 7222, 7422, 4222; gcp hub load balancer 7222, 7422, 4222; aws stretch member load balancers 6222, 7222; gcp stretch member load balancers 6222, 7222; tb tie-breaker firewall 6222, 7222, 4222).",
  ],
  // A drill loosening the ledger's objectives.
  [
    "latticeform-resilience-impact-tolerance",
    "drill lose-aws judges workload ledger against: RTO 3600 s exceeds the impact tolerance of 60 s.",
  ],
  [
    "latticeform-resilience-impact-tolerance",
    "drill lose-aws judges workload ledger against: RPO 1000 messages exceeds the tolerance of 0.",
  ],
  // The RPO-0 bucket copied only by an asynchronous mirror.
  [
    "latticeform-resilience-rpo-zero-replication",
    "workload ledger (RPO 0) keeps bucket balances: all its replicas are in aws; its mirrors in gcp are asynchronous (loss up to their lag).",
  ],
  // Two stretched servers per cloud: two of LEDGER's three replicas may share one.
  [
    "latticeform-resilience-rpo-zero-replication",
    "RPO-0 stream LEDGER: 2 of its 3 replicas may be placed in aws (quorum 2): losing aws can lose acknowledged writes.",
  ],
  // AUDIT as one in-memory replica.
  ["latticeform-resilience-stream-durability", "stream AUDIT is in memory storage: a server restart loses it."],
  ["latticeform-resilience-stream-durability", "stream AUDIT has 1 replica(s); at least 3 are required."],
];

type Finding = {
  policy: string;
  status: string;
  enforcement: string;
  urn: string;
  message: string;
  blocking: boolean;
  checkableWhen?: string;
};
type Review = { mandatoryViolations: number; blockingNotCheckable: number; failed: boolean; findings: Finding[]; resources: number };

describe("latticeform review", () => {
  after(() => rmSync(tmp, { recursive: true, force: true }));

  for (const stack of ["small", "prod"]) {
    it(`passes the ${stack} example (exit 0), reporting unknown values as not checkable`, () => {
      const r = cli("--stack", stack, "--format", "json");
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout) as Review;
      assert.equal(out.mandatoryViolations, 0);
      assert.equal(out.failed, false);
      assert.ok(out.resources > 100);
      assert.ok(
        out.findings.some((f) => f.status === "not-checkable"),
        "no unknown value was reported",
      );
      assert.ok(out.findings.filter((f) => f.status === "violation").every((f) => f.enforcement === "advisory"));
      // Every not-checkable finding says what would make it checkable.
      for (const f of out.findings.filter((x) => x.status === "not-checkable")) assert.match(f.checkableWhen ?? "", /^known (once|after)/);
    });
  }

  it("fails the weakened prod stack of issue 17 with a mandatory violation for each weakness (exit 1)", () => {
    const r = cli("--stack", "test/fixtures/Pulumi.weakened.yaml", "--format", "json");
    assert.equal(r.status, 1, r.stderr);
    const out = JSON.parse(r.stdout) as Review;
    const got = out.findings.filter((f) => f.blocking).map((f) => [f.policy, f.message]);
    assert.deepEqual(got, WEAKENED);
    assert.equal(out.mandatoryViolations, WEAKENED.length);
  });

  it("--fail-on-not-checkable: a mandatory check the clouds' values hide fails the prod review (exit 1), and says why", () => {
    const r = cli("--stack", "prod", "--fail-on-not-checkable");
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /0 mandatory violation\(s\), \d+ not checkable on mandatory policies \(notCheckable: fail\): FAIL/);
    assert.match(
      r.stdout,
      /latticeform-nats-no-public-exposure\s+FAIL\s+urn:pulumi:prod::\S+Service::\S+\s+not checkable before deploy: .*known once aws:ec2\/eip:Eip/,
    );
    // A policy config can keep one policy at "report": only the others block.
    const cfg = path.join(tmp, "report-exposure.json");
    writeFileSync(
      cfg,
      JSON.stringify({ all: { notCheckable: "fail" }, "latticeform-nats-no-public-exposure": { notCheckable: "report" } }),
    );
    const j = JSON.parse(cli("--stack", "prod", "--policy-config", cfg, "--format", "json").stdout) as Review;
    assert.ok(j.blockingNotCheckable > 0 && j.failed);
    assert.ok(j.findings.filter((f) => f.policy === "latticeform-nats-no-public-exposure").every((f) => !f.blocking));
  });

  it("fails the non-compliant stack with the expected violations (json, exit 1)", () => {
    const r = cli("--stack", "noncompliant", "--format", "json");
    assert.equal(r.status, 1, r.stderr);
    const out = JSON.parse(r.stdout) as Review;
    const counts: Record<string, number> = {};
    for (const f of out.findings.filter((x) => x.status === "violation")) counts[f.policy] = (counts[f.policy] ?? 0) + 1;
    assert.deepEqual(counts, EXPECTED);
    assert.equal(out.mandatoryViolations, 27);
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
    assert.match(r.stdout, /27 mandatory violation\(s\): FAIL/);
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
    assert.equal(run.results.filter((x) => x.level === "error").length, 27);
    assert.equal(run.results.filter((x) => x.level === "warning").length, 24);
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
