import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import {
  krustletBootScript,
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
});
