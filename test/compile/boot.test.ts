import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import {
  fetchSecret,
  krustletBootScript,
  SECRET_READ,
  shimInstallScript,
  shq,
  tieBreakerBootScript,
  tieBreakerConfPath,
  tieBreakerSecretIds,
} from "../../src/compile/boot";
import { buildCredentials } from "../../src/compile/credentials";
import { kubernetesEnv } from "../../src/compile/k8senv";
import { KRUSTLET_TAINTS, WASM_ARCH } from "../../src/compile/kubernetes";
import { compileNats } from "../../src/compile/nats";
import { kubernetesBundles } from "../../src/render/render";
import { readStackConfig } from "../../src/model/load";
import type { LatticeSpec } from "../../src/model/schema";
import { topologyOf } from "../../src/model/topology";
import { parseLattice } from "../../src/model/validate";

/** `bash -n` (parse only, nothing runs): "" when the script parses, bash's error otherwise. */
function bashCheck(script: string): string {
  const r = spawnSync("bash", ["-n"], { input: script, encoding: "utf8", timeout: 10_000 });
  return r.status === 0 ? "" : r.stderr || `exit ${String(r.status)}`;
}

function stack(name: string): LatticeSpec {
  return parseLattice(readStackConfig(`stacks/Pulumi.${name}.yaml`));
}

async function bootScripts(spec: LatticeSpec) {
  const topo = topologyOf(spec);
  const creds = await buildCredentials(spec, topo, new Uint8Array(32).fill(5), 1_767_225_600);
  const nats = compileNats(spec, topo, kubernetesEnv(spec), creds);
  return { creds, scripts: kubernetesBundles(spec, topo, nats, creds).flatMap((b) => b.boot.map((s) => ({ site: b.cloud, ...s }))) };
}

describe("boot scripts", () => {
  for (const name of ["small", "prod"]) {
    it(`${name}: every boot script parses with bash -n and holds no key material`, async () => {
      const spec = stack(name);
      const { scripts, creds } = await bootScripts(spec);
      const expected = spec.clouds.flatMap((c) => c.nodePools).length + (spec.tieBreaker?.servers ?? 0);
      assert.equal(scripts.length, expected);
      for (const s of scripts) {
        assert.equal(bashCheck(s.script), "", `${s.site}/${s.name}`);
        assert.ok(s.script.startsWith("#!/usr/bin/env bash\n"), s.name);
        assert.match(s.script, /set -euo pipefail/);
        assert.ok(!/-----BEGIN|eyJ0eXAiOiJKV1Qi/.test(s.script), `${s.name}: no PEM or JWT`);
        for (const u of Object.values(creds.users)) assert.ok(!s.script.includes(u.seed), `${s.name}: no seed`);
      }
    });
  }

  it("bash -n catches a broken script (the check can fail)", () => {
    assert.notEqual(bashCheck("if true; then echo x\n"), "");
    assert.equal(bashCheck(`echo ${shq("it's")}\n`), "");
  });

  it("Krustlet nodes: wasm32-wasi label, the NoExecute and NoSchedule taints, the bootstrap secret, a pinned checksum when given", () => {
    const spec = stack("prod");
    const pool = spec.clouds[0]!.nodePools.find((p) => p.kind === "krustlet")!;
    const s = krustletBootScript(spec, { cloud: "aws", pool, bootstrapSecret: "bs-id", sha256: "a".repeat(64) });
    assert.equal(bashCheck(s), "");
    assert.ok(s.includes(`${WASM_ARCH.key}=${WASM_ARCH.value}`));
    for (const t of KRUSTLET_TAINTS) assert.ok(s.includes(`${t.key}=${t.value}:${t.effect}`), t.effect);
    assert.match(s, /aws secretsmanager get-secret-value --region 'eu-west-1' --secret-id 'bs-id'/);
    assert.match(s, /sha256sum -c -/);
    const gcp = krustletBootScript(spec, { cloud: "gcp", pool, bootstrapSecret: "bs-id" });
    assert.match(gcp, /gcloud secrets versions access latest --secret='bs-id'/);
    assert.match(gcp, /no checksum pinned/);
  });

  it("shim installer registers the runtime in containerd; tie-breaker checks its config with nats-server -t before starting", () => {
    const spec = stack("prod");
    const pool = spec.clouds[0]!.nodePools.find((p) => p.kind === "runtime-class")!;
    const shim = shimInstallScript(spec, pool);
    assert.match(shim, /3\) plugin=io\.containerd\.cri\.v1\.runtime/);
    assert.match(shim, /runtime_type = "io\.containerd\.%s\.v1"/);
    assert.throws(
      () =>
        shimInstallScript(
          spec,
          spec.clouds[0]!.nodePools.find((p) => p.kind === "krustlet")!,
        ),
      /not a runtime-class pool/,
    );
    const server = topologyOf(spec).servers.find((s) => s.role === "tiebreaker")!;
    const tb = tieBreakerBootScript(spec, server, {
      files: tieBreakerSecretIds(spec, server),
      dataDevice: "/dev/disk/by-id/google-nats-data",
    });
    assert.equal(bashCheck(tb), "");
    assert.ok(tb.indexOf(`nats-server -t -c '${tieBreakerConfPath(server)}'`) < tb.indexOf("systemctl enable --now"));
    assert.throws(() => tieBreakerBootScript(spec, server, { files: {}, dataDevice: "/dev/x" }), /no secret for/);
  });

  it("secret reads at boot retry with a bounded back-off: a read that fails until the grant propagates succeeds; one that never does stops the boot", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "lf-boot-"));
    try {
      // A fake gcloud that fails until its attempt counter reaches FAILS, and a sleep that only records its argument.
      writeFileSync(
        path.join(dir, "gcloud"),
        `#!/bin/sh\nn=$(cat ${dir}/count 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${dir}/count\n[ "$n" -gt "$FAILS" ] && echo s3cret && exit 0\necho "PERMISSION_DENIED" >&2; exit 1\n`,
      );
      writeFileSync(path.join(dir, "sleep"), `#!/bin/sh\necho $1 >> ${dir}/slept\n`);
      chmodSync(path.join(dir, "gcloud"), 0o755);
      chmodSync(path.join(dir, "sleep"), 0o755);
      const target = path.join(dir, "out", "tls.key");
      const run = (fails: number) => {
        rmSync(path.join(dir, "count"), { force: true });
        rmSync(path.join(dir, "slept"), { force: true });
        const script = `set -euo pipefail\n${fetchSecret("gcp", "europe-west4", "tb-key", target)}\n`;
        return spawnSync("bash", ["-c", script], {
          env: { PATH: `${dir}:/usr/bin:/bin`, FAILS: String(fails) },
          encoding: "utf8",
          timeout: 10_000,
        });
      };
      const ok = run(3);
      assert.equal(ok.status, 0, ok.stderr);
      assert.equal(readFileSync(target, "utf8"), "s3cret\n");
      assert.equal(readFileSync(path.join(dir, "count"), "utf8").trim(), "4");
      const bad = run(1000);
      assert.notEqual(bad.status, 0);
      assert.match(bad.stderr, new RegExp(`cannot read secret tb-key after ${SECRET_READ.attempts} attempts`));
      assert.equal(readFileSync(path.join(dir, "count"), "utf8").trim(), String(SECRET_READ.attempts));
      const slept = readFileSync(path.join(dir, "slept"), "utf8").trim().split("\n").map(Number);
      assert.equal(Math.max(...slept), SECRET_READ.maxDelaySeconds, "the back-off is capped");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
