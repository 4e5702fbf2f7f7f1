import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { stringify } from "yaml";
import type { DrillRunRaw } from "../../src/drill/drill";
import { buildEvidence, timeline } from "../../src/drill/evidence";
import { validateEvidence, verifyDrillEvidence, writeDrillEvidence } from "../../src/drill/pack";
import type { RepetitionResult, WorkloadMeasurement } from "../../src/drill/runner";
import { readStackConfig } from "../../src/model/load";

const tmp = mkdtempSync(path.join(tmpdir(), "lf-evidence-"));
/** Headless Chromium as this machine runs it: no sandbox as root, no background network traffic. */
const CHROME_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
const iso = (ms: number) => new Date(Date.UTC(2026, 10, 24, 12, 0, 0, ms)).toISOString();
const lat = { p50: 1, p99: 2, n: 10 };

function workload(name: string, recoveryMs: number | null, objectiveRtoMs: number, lost?: number): WorkloadMeasurement {
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
    ...(lost === undefined ? {} : { ledger: { acked: 10, recovered: 10 - lost, lost, lostIds: [] } }),
    samples,
  };
}

function rep(ws: WorkloadMeasurement[], over: Partial<RepetitionResult> = {}): RepetitionResult {
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
    faults: [{ step: { kind: "cloud-outage", cloud: "aws" }, processes: ["aws-1"], action: "killed" }],
    workloads: ws,
    streams: [
      {
        stream: "PAYMENTS",
        copy: "PAYMENTS_GCP",
        acked: 50,
        recovered: 47,
        lost: 3,
        duplicated: 0,
        outOfOrder: 0,
        lostIds: ["a", "b", "c"],
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

function run(reps: RepetitionResult[]): DrillRunRaw {
  return {
    plan: {
      id: "lose-primary-cloud",
      name: "Lose the primary cloud (aws)",
      hypothesis: "Every server and host in aws dies at once; workloads keep answering from gcp.",
      faults: [{ kind: "cloud-outage", cloud: "aws" }],
      rateHz: 50,
      requestTimeoutMs: 250,
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

describe("evidence", () => {
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it("judges objectives at the boundary: recovery equal to the objective is met, one millisecond more is breached", () => {
    const met = buildEvidence(run([rep([workload("validator", 5000, 5000)])]));
    assert.equal(met.objectives[0]!.rtoVerdict, "met");
    assert.equal(met.verdict, "met");
    const breached = buildEvidence(run([rep([workload("validator", 5001, 5000)])]));
    assert.equal(breached.objectives[0]!.rtoVerdict, "breached");
    assert.equal(breached.verdict, "breached");
    assert.ok(breached.findings.some((f) => f.severity === "high" && /beyond its 5000 ms objective/.test(f.text)));
  });

  it("aggregates repetitions (min / median / max) and treats a repetition that never recovered as breached", () => {
    const e = buildEvidence(
      run([rep([workload("v", 100, 5000)]), rep([workload("v", 300, 5000)], { index: 1 }), rep([workload("v", 200, 5000)], { index: 2 })]),
    );
    assert.deepEqual(e.objectives[0]!.recoveryMs, { min: 100, median: 200, max: 300 });
    const never = buildEvidence(run([rep([workload("v", 100, 5000)]), rep([workload("v", null, 5000)], { index: 1 })]));
    assert.equal(never.objectives[0]!.unrecoveredRepetitions, 1);
    assert.equal(never.objectives[0]!.verdict, "breached");
  });

  it("an acknowledged update lost breaches RPO 0, and a mirrored stream's loss is reported with the mirror's lag", () => {
    const e = buildEvidence(run([rep([workload("ledger", 100, 5000, 1)])]));
    assert.equal(e.objectives[0]!.rpoVerdict, "breached");
    assert.equal(e.objectives[0]!.acknowledgedLost, 1);
    assert.deepEqual(e.reconciliation[0]!.lost, 3);
    assert.ok(
      e.findings.some((f) => /3 of 50 acknowledged messages are missing from PAYMENTS_GCP; the asynchronous mirror lagged 3/.test(f.text)),
    );
  });

  it("names the raft leaders the fault took, beside the slowest recovery of that repetition", () => {
    const leadersAtFault = { meta: "gcp-1", streams: { PAYMENTS: "aws-2", KV_balances: "stretch-aws-1", PAYMENTS_GCP: "gcp-1" } };
    const faults = [
      { step: { kind: "cloud-outage" as const, cloud: "aws" }, processes: ["aws-1", "aws-2", "stretch-aws-1"], action: "killed" as const },
    ];
    const e = buildEvidence(
      run([
        rep([workload("validator", 20, 5000), workload("ledger", 7300, 10000, 0)], { faults, leadersAtFault }),
        rep([workload("validator", 20, 5000), workload("ledger", 900, 10000, 0)], {
          index: 1,
          faults,
          leadersAtFault: { meta: "gcp-1", streams: { KV_balances: "stretch-gcp-1" } },
        }),
      ]),
    );
    const f = e.findings.filter((x) => /raft leader/.test(x.text));
    assert.deepEqual(
      f.map((x) => x.text),
      [
        "Repetition 1: the fault took the raft leader of PAYMENTS (aws-2), KV_balances (stretch-aws-1); writes there waited for a new leader to be elected (slowest recovery in this repetition: ledger, 7300 ms). Repetitions where the leader survives recover faster: judge the objective on the slower case.",
      ],
    );
    assert.deepEqual(validateEvidence(e), []);
    assert.deepEqual(e.repetitions[0]!.leadersAtFault, leadersAtFault);
  });

  it("a stop condition makes the drill breached even when recovery looked fine", () => {
    const e = buildEvidence(
      run([rep([workload("v", 100, 5000)], { stopConditionsFired: ["v: down for more than 3 × its 5 s objective"] })]),
    );
    assert.equal(e.verdict, "breached");
  });

  it("bins samples into a timeline of success rate and latency", () => {
    const t = timeline(
      [
        { t: 0, ok: false, latencyMs: 250 },
        { t: 100, ok: true, latencyMs: 4 },
        { t: 300, ok: true, latencyMs: 2 },
      ],
      250,
    );
    assert.deepEqual(t, [
      { t: 0, successRate: 0.5, p50LatencyMs: 4, requests: 2 },
      { t: 250, successRate: 1, p50LatencyMs: 2, requests: 1 },
    ]);
  });

  it("the schema accepts built evidence and rejects broken evidence with paths", () => {
    const e = buildEvidence(run([rep([workload("validator", 100, 5000)])]));
    assert.deepEqual(validateEvidence(e), []);
    const broken = JSON.parse(JSON.stringify(e)) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    broken.verdict = "fine";
    delete broken.signOff;
    broken.objectives[0].rtoObjectiveMs = -1;
    const problems = validateEvidence(broken);
    assert.ok(
      problems.some((p) => p.startsWith("evidence.json/verdict: must be equal to one of the allowed values")),
      problems.join("\n"),
    );
    assert.ok(problems.some((p) => /must have required property 'signOff'/.test(p)));
    assert.ok(problems.some((p) => p.startsWith("evidence.json/objectives/0/rtoObjectiveMs")));
  });

  it("writes a pack that verifies, and detects one changed byte, a missing and an extra file", async () => {
    const dir = path.join(tmp, "pack");
    const res = await writeDrillEvidence(dir, run([rep([workload("validator", 100, 5000)])]));
    assert.equal(res.allMet, true);
    assert.match(res.manifestSha256, /^[0-9a-f]{64}$/);
    assert.deepEqual(verifyDrillEvidence(dir), []);
    for (const f of ["evidence.json", "report.html", "report.md"]) {
      const file = path.join(dir, f);
      const orig = readFileSync(file);
      const changed = Buffer.from(orig);
      changed[Math.floor(changed.length / 2)] = changed[Math.floor(changed.length / 2)]! ^ 1;
      writeFileSync(file, changed);
      assert.deepEqual(
        verifyDrillEvidence(dir).filter((p) => p.startsWith(`${f}: changed`)).length,
        1,
        `a changed byte in ${f} went unnoticed`,
      );
      writeFileSync(file, orig);
    }
    writeFileSync(path.join(dir, "extra.txt"), "x");
    assert.deepEqual(verifyDrillEvidence(dir), ["extra.txt: not in the manifest"]);
    rmSync(path.join(dir, "extra.txt"));
    rmSync(path.join(dir, "report.md"));
    assert.deepEqual(verifyDrillEvidence(dir), ["report.md: missing"]);
  });

  it("report.html shows the verdicts first and an SVG timeline with the injection and recovery marked (headless Chromium)", async (t) => {
    const chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
    if (!chromium) {
      t.skip("Chromium is not installed (set-up installs Debian's chromium when run as root on Debian/Ubuntu)");
      return;
    }
    const dir = path.join(tmp, "html");
    await writeDrillEvidence(dir, run([rep([workload("validator", 600, 5000), workload("ledger", null, 5000, 0)])]));
    const profile = mkdtempSync(path.join(tmp, "chrome-"));
    const r = spawnSync(
      chromium,
      [...CHROME_FLAGS, `--user-data-dir=${profile}`, "--dump-dom", `file://${path.join(dir, "report.html")}`],
      { encoding: "utf8", timeout: 60000 },
    );
    assert.equal(r.status, 0, r.stderr);
    const dom = r.stdout;
    // Verdicts come before the charts; both workloads are judged; the breached one is marked.
    const verdictsAt = dom.indexOf('id="verdicts"');
    assert.ok(verdictsAt > 0 && verdictsAt < dom.indexOf("<svg"), "the verdicts are not first");
    assert.match(dom, /Overall verdict: <span class="v breached">BREACHED<\/span>/);
    assert.equal((dom.match(/<svg[^>]*class="timeline"/g) ?? []).length, 2);
    assert.equal((dom.match(/class="injection"/g) ?? []).length, 2);
    assert.equal((dom.match(/class="recovery"/g) ?? []).length, 1);
    assert.match(dom, /not recovered/);
    const shot = spawnSync(
      chromium,
      [
        ...CHROME_FLAGS,
        `--user-data-dir=${profile}`,
        `--screenshot=${path.join(tmp, "report.png")}`,
        "--window-size=1200,1600",
        `file://${path.join(dir, "report.html")}`,
      ],
      { encoding: "utf8", timeout: 60000 },
    );
    assert.equal(shot.status, 0, shot.stderr);
    assert.ok(readFileSync(path.join(tmp, "report.png")).length > 10000, "the screenshot is empty");
  });

  it("the drill command: a declared drill with an impossible objective exits 1 with a verifiable pack; a bad scenario or drill exits 2", () => {
    const stackDir = path.join(tmp, "stacks");
    spawnSync("mkdir", ["-p", stackDir]);
    const stack = (name: string, drills: unknown[]) => {
      const raw = structuredClone(readStackConfig("stacks/Pulumi.small.yaml")) as Record<string, unknown>;
      raw.drills = drills;
      const file = path.join(stackDir, `Pulumi.${name}.yaml`);
      writeFileSync(file, stringify({ config: { "latticeform:lattice": raw } }));
      return file;
    };
    const impossible = {
      id: "impossible-ledger",
      hypothesis: "the ledger recovers from losing AWS within one millisecond",
      faults: [{ kind: "cloud-outage", cloud: "aws" }],
      objectives: { ledger: { rtoSeconds: 0.001 } },
    };
    const file = stack("impossible", [impossible]);
    const out = path.join(tmp, "impossible-pack");
    const bin = path.join("bin", "latticeform.js");
    const bad = spawnSync(process.execPath, [bin, "drill", "--local", "--stack", file, "--scenario", "nope"], { encoding: "utf8" });
    assert.equal(bad.status, 2);
    assert.match(
      bad.stderr,
      /--scenario: no such scenario \(got "nope"; allowed lose-primary-cloud, hub-node-loss, host-crash, blackhole-primary, impossible-ledger\)/,
    );
    const badDrill = stack("baddrill", [{ ...impossible, faults: [{ kind: "cloud-outage", cloud: "azure" }] }]);
    const refused = spawnSync(process.execPath, [bin, "drill", "--local", "--stack", badDrill], { encoding: "utf8", timeout: 60000 });
    assert.equal(refused.status, 2);
    assert.match(
      refused.stderr,
      /drills\[0\]\.faults\[0\]\.cloud: not a declared cloud or tie-breaker site \(got "azure"; allowed aws, gcp, tb\)/,
    );
    assert.doesNotMatch(refused.stdout, /booting/, "a process was started for a bad drill");
    const r = spawnSync(process.execPath, [bin, "drill", "--local", "--stack", file, "--scenario", "impossible-ledger", "--out", out], {
      encoding: "utf8",
      timeout: 240000,
    });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /BREACHED ledger/);
    const evidence = JSON.parse(readFileSync(path.join(out, "evidence.json"), "utf8")) as { scenario: { id: string; source: string } };
    assert.deepEqual([evidence.scenario.id, evidence.scenario.source], ["impossible-ledger", "stack"]);
    const ok = spawnSync(process.execPath, [bin, "drill", "verify", out], { encoding: "utf8" });
    assert.equal(ok.status, 0, ok.stderr);
    const ev = path.join(out, "evidence.json");
    writeFileSync(ev, readFileSync(ev, "utf8").replace('"breached"', '"met"     '));
    const tampered = spawnSync(process.execPath, [bin, "drill", "verify", out], { encoding: "utf8" });
    assert.equal(tampered.status, 1);
    assert.match(tampered.stderr, /evidence\.json: changed since the pack was written/);
  });
});
