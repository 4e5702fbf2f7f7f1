/**
 * The drill command end to end on the small example (opens the lattice's ports: run it in a network namespace):
 * exit codes, the verdict line, the signed pack and its verification, a skipped fault as INCONCLUSIVE.
 */
import assert from "node:assert/strict";
import { createPublicKey } from "node:crypto";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { stringify } from "yaml";
import { readStackConfig } from "../../src/model/load";

const tmp = mkdtempSync(path.join(tmpdir(), "lf-drill-cli-"));

describe("drill command", () => {
  after(() => rmSync(tmp, { recursive: true, force: true }));

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
      // The ledger, not the validator: the ledger's primary is AWS, so losing AWS always fails some of its requests
      // until GCP's standby takes over, while a validator request may well never fail (GCP's hosts answer at once).
      id: "impossible-ledger",
      hypothesis: "the ledger recovers from losing AWS within one millisecond",
      faults: [{ kind: "cloud-outage", cloud: "aws" }],
      // Generous request timeouts: the steady state must hold before the fault on a busy machine.
      load: { requestTimeoutMs: 2000 },
      objectives: { ledger: { rtoSeconds: 0.001 } },
    };
    const partition = {
      id: "partition-clouds",
      hypothesis: "AWS and GCP cannot reach each other for two seconds; both keep serving",
      faults: [{ kind: "partition", between: ["aws", "gcp"], durationSeconds: 2 }],
      load: { requestTimeoutMs: 2000 },
    };
    const file = stack("impossible", [impossible, partition]);
    const out = path.join(tmp, "impossible-pack");
    const bin = path.join("bin", "latticeform.js");
    const bad = spawnSync(process.execPath, [bin, "drill", "--local", "--stack", file, "--scenario", "nope"], { encoding: "utf8" });
    assert.equal(bad.status, 2);
    assert.match(
      bad.stderr,
      /--scenario: no such scenario \(got "nope"; allowed lose-primary-cloud, hub-node-loss, host-crash, blackhole-primary, impossible-ledger, partition-clouds\)/,
    );
    const badDrill = stack("baddrill", [{ ...impossible, faults: [{ kind: "cloud-outage", cloud: "azure" }] }]);
    const refused = spawnSync(process.execPath, [bin, "drill", "--local", "--stack", badDrill], { encoding: "utf8", timeout: 60000 });
    assert.equal(refused.status, 2);
    assert.match(
      refused.stderr,
      /drills\[0\]\.faults\[0\]\.cloud: not a declared cloud or tie-breaker site \(got "azure"; allowed aws, gcp, tb\)/,
    );
    assert.doesNotMatch(refused.stdout, /booting/, "a process was started for a bad drill");
    // The signing key is made once under the state dir (0600), outside the pack.
    const env = { ...process.env, LATTICEFORM_STATE_DIR: path.join(tmp, "state") };
    const r = spawnSync(process.execPath, [bin, "drill", "--local", "--stack", file, "--scenario", "impossible-ledger", "--out", out], {
      encoding: "utf8",
      timeout: 240000,
      env,
    });
    // Never MET. BREACHED (exit 1) when the ledger was steady before the fault; on a machine so loaded that
    // it was not, the drill must say so: INCONCLUSIVE (exit 3) by steady-before-fault, never a breach it did not measure.
    assert.ok(r.status === 1 || r.status === 3, r.stdout + r.stderr);
    if (r.status === 1) {
      assert.match(r.stdout, /BREACHED\s+ledger/);
      assert.match(
        r.stdout,
        /VERDICT: BREACHED — recovery-objective: repetition 1: ledger (did not recover|recovered in \d+ ms, beyond its 1 ms objective)/,
      );
    } else
      assert.match(r.stdout, /VERDICT: INCONCLUSIVE — steady-before-fault: repetition 1: (validator|ledger): \d+ of \d+ requests failed/);
    assert.match(r.stdout, /signed with Ed25519 key sha256:[0-9a-f]{64}/);
    const keyFile = path.join(tmp, "state", "keys", "evidence-ed25519.pem");
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    const evidence = JSON.parse(readFileSync(path.join(out, "evidence.json"), "utf8")) as {
      scenario: { id: string; source: string };
      stack: { file: string };
    };
    assert.deepEqual([evidence.scenario.id, evidence.scenario.source], ["impossible-ledger", "stack"]);
    assert.ok(!path.isAbsolute(evidence.stack.file) && !evidence.stack.file.includes(tmp), evidence.stack.file);
    assert.doesNotMatch(readFileSync(path.join(out, "evidence.json"), "utf8"), new RegExp(tmp.replace(/[/.]/g, "\\$&")));
    const pub = path.join(tmp, "trusted.pub");
    writeFileSync(pub, createPublicKey(readFileSync(keyFile)).export({ type: "spki", format: "pem" }));
    const ok = spawnSync(process.execPath, [bin, "drill", "verify", out, "--key", pub], { encoding: "utf8" });
    assert.equal(ok.status, 0, ok.stderr);
    const ev = path.join(out, "evidence.json");
    writeFileSync(
      ev,
      readFileSync(ev, "utf8").replace(/"(breached|inconclusive)"/, (m) => '"met"'.padEnd(m.length)),
    );
    const tampered = spawnSync(process.execPath, [bin, "drill", "verify", out, "--key", pub], { encoding: "utf8" });
    assert.equal(tampered.status, 1);
    assert.match(tampered.stderr, /evidence\.json: changed since the pack was signed/);
    // A fault that cannot be injected here is INCONCLUSIVE, exit 3, never MET.
    const skipped = spawnSync(
      process.execPath,
      [bin, "drill", "--local", "--stack", file, "--scenario", "partition-clouds", "--out", path.join(tmp, "skipped-pack")],
      { encoding: "utf8", timeout: 240000, env: { ...env, LATTICEFORM_NO_SITE_ISOLATION: "1" } },
    );
    assert.equal(skipped.status, 3, skipped.stdout + skipped.stderr);
    assert.match(
      skipped.stdout,
      /VERDICT: INCONCLUSIVE — fault-skipped: repetition 1: partition was not injected: disabled by LATTICEFORM_NO_SITE_ISOLATION=1/,
    );
  });
});
