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

  it("Krustlet nodes (a vouched-for build): its URL and SHA-256, the env names krustlet-wasi reads, wasm32-wasi label and taints", () => {
    const spec = stack("prod");
    const pool = {
      name: "k",
      kind: "krustlet" as const,
      nodes: 1,
      krustletBuild: { url: "https://builds.example.com/krustlet-wasi.tar.gz", sha256: "a".repeat(64), vouchedBy: "platform-team" },
    };
    const s = krustletBootScript(spec, { cloud: "aws", pool, bootstrapSecret: "bs-id" });
    assert.equal(bashCheck(s), "");
    assert.ok(s.includes(`${WASM_ARCH.key}=${WASM_ARCH.value}`));
    for (const t of KRUSTLET_TAINTS) assert.ok(s.includes(`${t.key}=${t.value}:${t.effect}`), t.effect);
    assert.match(s, /aws secretsmanager get-secret-value --region 'eu-west-1' --secret-id 'bs-id'/);
    assert.ok(s.includes(`echo "${"a".repeat(64)}  "$tmp/krustlet.tar.gz"" | sha256sum -c -`));
    assert.ok(s.includes("'https://builds.example.com/krustlet-wasi.tar.gz'"));
    // krustlet/krustlet v1.0.0-alpha.1 crates/kubelet/src/config.rs: the env names it reads (test data).
    const reads = new Set([
      "KRUSTLET_ADDRESS", "KRUSTLET_PORT", "MAX_PODS", "KRUSTLET_CERT_FILE", "KRUSTLET_PRIVATE_KEY_FILE", "KRUSTLET_NODE_IP",
      "NODE_LABELS", "KRUSTLET_HOSTNAME", "KRUSTLET_NODE_NAME", "KRUSTLET_DATA_DIR", "KRUSTLET_BOOTSTRAP_FILE",
      "KRUSTLET_PLUGINS_DIR", "KRUSTLET_DEVICE_PLUGINS_DIR", "KRUSTLET_ALLOW_LOCAL_MODULES", "KRUSTLET_INSECURE_REGISTRIES",
      "KUBECONFIG",
    ]); // prettier-ignore
    const set = [...s.matchAll(/^Environment=([A-Z_]+)=/gm)].map((m) => m[1]!);
    assert.ok(set.includes("NODE_LABELS"));
    for (const n of set) assert.ok(reads.has(n), `krustlet-wasi does not read ${n}`);
    assert.throws(
      () => krustletBootScript(spec, { cloud: "aws", pool: { ...pool, krustletBuild: undefined }, bootstrapSecret: "x" }),
      /needs a krustletBuild/,
    );
  });

  it("shim installer registers the runtime in containerd; tie-breaker checks its config with nats-server -t before starting", () => {
    const spec = stack("prod");
    const pool = spec.clouds[0]!.nodePools.find((p) => p.kind === "runtime-class")!;
    const shim = shimInstallScript(spec, pool);
    assert.match(shim, /3\) plugin=io\.containerd\.cri\.v1\.runtime/);
    assert.match(shim, /runtime_type = "io\.containerd\.%s\.v1"/);
    assert.throws(() => shimInstallScript(spec, { name: "k", kind: "krustlet", nodes: 1 }), /not a runtime-class pool/);
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
