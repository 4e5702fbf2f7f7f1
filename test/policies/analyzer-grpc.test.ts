/**
 * The policy pack through CrossGuard's own analyzer: `policies/` started as the Pulumi CLI 3.248 starts a Node.js
 * pack (run-policy-pack, ts-node, cwd = the pack, port on stdout), driven over gRPC with the resources the
 * offline review records, so the engine's protocol must return the review's findings.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import * as pb from "@pulumi/pulumi/proto/analyzer_pb";
import { policies } from "../../policies/policies";
import { PACK_DIR, packCommand } from "./analyzerPack";
import { driveStack, fromReview, key, LEVEL_NAMES, type Driven, type Finding, type PackConfigFile, type Recorded } from "./analyzerDrive";

const tmp = mkdtempSync(path.join(tmpdir(), "lf-analyzer-"));

/** Evaluate and review a stack in its own process (Pulumi's runtime is global: one program per process). */
function record(stack: string, config?: PackConfigFile): Recorded {
  const out = path.join(tmp, `${path.basename(stack)}.json`);
  const extra = config ? [JSON.stringify(config)] : [];
  const r = spawnSync(process.execPath, ["--import", "tsx", path.join(__dirname, "recordStack.ts"), stack, out, ...extra], {
    encoding: "utf8",
    timeout: 600_000,
  });
  assert.equal(r.status, 0, `recording ${stack} failed:\n${r.stderr}`);
  return JSON.parse(readFileSync(out, "utf8")) as Recorded;
}

/** A policy config as `pulumi preview --policy-pack-config` and `latticeform review --policy-config` read it. */
const CONFIG: PackConfigFile = {
  all: "advisory",
  "latticeform-resilience-stream-durability": { enforcementLevel: "disabled" },
  "latticeform-residency-allowed-regions": { allowedRegions: ["us-east-1"] },
};

const sorted = (fs: readonly Finding[]) => fs.map(key).sort();
/** Not-checkable findings: the pack always reports them as advisory (`can't run ... during preview`), whatever the
 *  policy's level; the review keeps the level (and may block on them with `notCheckable: fail`). Compared without it. */
const levelFree = (fs: readonly Finding[]) =>
  sorted(fs.filter((f) => f.status === "not-checkable").map((f) => ({ ...f, enforcement: "" })));

function assertSameFindings(driven: Driven, rec: Recorded): void {
  const review = rec.review.findings.map(fromReview);
  const viaGrpc = driven.findings;
  assert.deepEqual(
    sorted(viaGrpc.filter((f) => f.status === "violation")),
    sorted(review.filter((f) => f.status === "violation")),
    "violations through the analyzer protocol differ from the offline review's",
  );
  assert.deepEqual(levelFree(viaGrpc), levelFree(review), "not-checkable findings differ");
  for (const f of viaGrpc.filter((x) => x.status === "not-checkable")) assert.equal(f.enforcement, "advisory", key(f));
}

describe("policy pack through CrossGuard's analyzer protocol (as `pulumi preview --policy-pack policies`)", () => {
  let weakened: Recorded;
  let prod: Recorded;
  let weakenedRun: Driven;
  let prodRun: Driven;
  let configuredRun: Driven;

  before(async () => {
    weakened = record(path.resolve(__dirname, "..", "fixtures", "Pulumi.weakened.yaml"), CONFIG);
    prod = record("prod");
    weakenedRun = await driveStack(weakened);
    prodRun = await driveStack(prod);
    configuredRun = await driveStack({ evaluated: weakened.evaluated, review: weakened.configured! }, CONFIG);
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it("is started as pulumi-language-nodejs starts a pack and stopped by pid", () => {
    const { args, cwd } = packCommand(PACK_DIR, "127.0.0.1:1");
    assert.equal(cwd, PACK_DIR);
    assert.match(args[0]!, /@pulumi[/\\]pulumi[/\\]cmd[/\\]run-policy-pack[/\\]index\.js$/);
    assert.deepEqual(args.slice(-2), ["127.0.0.1:1", PACK_DIR]);
    for (const run of [weakenedRun, prodRun]) {
      assert.ok(run.port > 0 && run.port < 65536, `port ${run.port}`);
      assert.throws(() => process.kill(run.pid, 0), { code: "ESRCH" }, `pack ${run.pid} still running`);
    }
  });

  it("GetPluginInfo and GetAnalyzerInfo: the pack's name and version, every policy with its level and severity", () => {
    const pkgVersion = (JSON.parse(readFileSync(path.join(PACK_DIR, "package.json"), "utf8")) as { version: string }).version;
    const policyLib = (require("@pulumi/policy/package.json") as { version: string }).version.replace(/^v/, "");
    assert.equal(weakenedRun.pluginVersion.replace(/^v/, ""), policyLib);
    const info = weakenedRun.info;
    assert.equal(info.getName(), "latticeform");
    assert.equal(info.getVersion(), pkgVersion);
    assert.equal(info.getSupportsconfig(), true);
    const served = new Map(info.getPoliciesList().map((p) => [p.getName(), p]));
    assert.deepEqual([...served.keys()].sort(), policies.map((p) => p.name).sort());
    const severities: Record<number, string> = {
      [pb.PolicySeverity.POLICY_SEVERITY_LOW]: "low",
      [pb.PolicySeverity.POLICY_SEVERITY_MEDIUM]: "medium",
      [pb.PolicySeverity.POLICY_SEVERITY_HIGH]: "high",
      [pb.PolicySeverity.POLICY_SEVERITY_CRITICAL]: "critical",
    };
    for (const p of policies) {
      const s = served.get(p.name)!;
      assert.equal(LEVEL_NAMES[s.getEnforcementlevel()], p.enforcementLevel ?? "advisory", `${p.name} enforcement`);
      assert.equal(severities[s.getSeverity()], p.severity, `${p.name} severity`);
      const kind = "validateStack" in p ? pb.PolicyType.POLICY_TYPE_STACK : pb.PolicyType.POLICY_TYPE_RESOURCE;
      assert.equal(s.getPolicyType(), kind, `${p.name} type`);
      const schemaKeys = Object.keys(p.configSchema?.properties ?? {}).sort();
      assert.deepEqual(
        Object.keys(s.getConfigschema()?.getProperties()?.toJavaScript() ?? {}).sort(),
        schemaKeys,
        `${p.name} config schema`,
      );
    }
  });

  it("the weakened stack: the review's findings come back through Analyze/AnalyzeStack, mandatory ones included", () => {
    assertSameFindings(weakenedRun, weakened);
    const mandatory = weakenedRun.findings.filter((f) => f.status === "violation" && f.enforcement === "mandatory");
    assert.ok(weakened.review.failed, "the review must fail the weakened stack");
    assert.equal(mandatory.length, weakened.review.mandatoryViolations);
    for (const p of [
      "latticeform-resilience-rpo-zero-replication",
      "latticeform-resilience-stream-durability",
      "latticeform-aws-eks-private-endpoint",
    ])
      assert.ok(
        mandatory.some((f) => f.policy === p),
        `${p} missing among mandatory violations`,
      );
    assert.equal(weakenedRun.analyzed, weakened.evaluated.resources.length);
    assert.ok(weakened.evaluated.resources.length > 100, `only ${weakened.evaluated.resources.length} resources recorded`);
  });

  it("the prod stack: the same findings, and no mandatory violation", () => {
    assertSameFindings(prodRun, prod);
    assert.equal(prodRun.analyzed, prod.evaluated.resources.length);
    // Advisory findings and values unknown before deploy remain: the comparison is not of two empty sets.
    assert.ok(prodRun.findings.length > 0);
    assert.equal(prod.review.failed, false);
    assert.deepEqual(prodRun.findings.filter((f) => f.status === "violation" && f.enforcement === "mandatory").map(key), []);
  });

  it("a policy pack config reaches the pack through Configure as through the review: levels, `all`, settings", () => {
    assertSameFindings(configuredRun, { evaluated: weakened.evaluated, review: weakened.configured! });
    const violations = configuredRun.findings.filter((f) => f.status === "violation");
    assert.deepEqual(violations.filter((f) => f.enforcement !== "advisory").map(key), [], "`all: advisory` left a stronger level");
    assert.ok(!configuredRun.findings.some((f) => f.policy === "latticeform-resilience-stream-durability"), "a disabled policy ran");
    // With only us-east-1 allowed, every EU site of the stack is out of region; with the defaults none was.
    const outside = (run: Driven) => run.findings.filter((f) => f.policy === "latticeform-residency-allowed-regions").length;
    assert.ok(outside(configuredRun) > outside(weakenedRun), "the allowedRegions setting had no effect");
  });
});
