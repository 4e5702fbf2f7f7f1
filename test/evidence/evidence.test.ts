import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { buildEvidence, timeline } from "../../src/drill/evidence";
import { summarize, validateEvidence, verifyDrillEvidence, writeDrillEvidence } from "../../src/drill/pack";
import { rep, run, workload } from "./fixtures";

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

  it("headlines the worst repetition with the distribution beside it, and treats a repetition that never recovered as breached", () => {
    const e = buildEvidence(
      run([
        rep([workload("v", 100, 5000)]),
        rep([workload("v", 7400, 10000)], { index: 1 }),
        rep([workload("v", 200, 5000)], { index: 2 }),
      ]),
    );
    assert.deepEqual(e.objectives[0]!.recoveryMs, { worst: 7400, min: 100, median: 200, max: 7400, perRepetition: [100, 7400, 200] });
    assert.match(summarize(e), /recovery 7400 ms \(per repetition: 100, 7400, 200; min 100 ms, median 200 ms\)/);
    const never = buildEvidence(run([rep([workload("v", 100, 5000)]), rep([workload("v", null, 5000)], { index: 1 })]));
    assert.equal(never.objectives[0]!.unrecoveredRepetitions, 1);
    assert.equal(never.objectives[0]!.verdict, "breached");
  });

  it("an acknowledged update lost breaches RPO 0", () => {
    const e = buildEvidence(run([rep([workload("ledger", 100, 5000, 1)])]));
    assert.equal(e.objectives[0]!.rpoVerdict, "breached");
    assert.equal(e.objectives[0]!.acknowledgedLost, 1);
    assert.equal(e.verdict, "breached");
  });

  it("a stream that lost acknowledged messages from its mirror makes the drill BREACHED, with the mirror's lag beside it", () => {
    const clean = rep([workload("validator", 100, 5000)]);
    const lossy = { ...clean.streams[0]!, recovered: 47, lost: 3, lostIds: ["a", "b", "c"] };
    const e = buildEvidence(run([rep([workload("validator", 100, 5000)], { streams: [lossy] })]));
    assert.equal(e.reconciliation[0]!.lost, 3);
    assert.equal(e.verdict, "breached");
    assert.match(
      e.verdictReason,
      /^acknowledged-loss: repetition 1: stream PAYMENTS: 3 of 50 acknowledged message\(s\) missing from PAYMENTS_GCP/,
    );
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
        "Repetition 1: the fault took the raft leader of PAYMENTS (aws-2), KV_balances (stretch-aws-1); writes there waited for a new leader to be elected (slowest recovery in this repetition: ledger, 7300 ms). Repetitions where the leader survives recover faster: the headline is the slowest case.",
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
    const res = await writeDrillEvidence(dir, run([rep([workload("validator", 100, 5000)])]), {}, { keyDir: path.join(tmp, "keys") });
    assert.equal(res.outcome, "met");
    assert.match(res.envelopeSha256, /^[0-9a-f]{64}$/);
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
    assert.deepEqual(verifyDrillEvidence(dir), ["extra.txt: not in the statement"]);
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
    await writeDrillEvidence(
      dir,
      run([rep([workload("validator", 600, 5000), workload("ledger", null, 5000, 0)])]),
      {},
      {
        keyDir: path.join(tmp, "keys"),
      },
    );
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
    assert.match(
      dom,
      /Overall verdict: <span class="v breached">BREACHED<\/span> — recovery-objective: repetition 1: ledger did not recover/,
    );
    assert.match(
      readFileSync(path.join(dir, "report.md"), "utf8"),
      /\*\*Overall verdict: BREACHED — recovery-objective: repetition 1: ledger did not recover/,
    );
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
});
