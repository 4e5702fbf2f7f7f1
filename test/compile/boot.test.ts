import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import {
  installNatsServerScript,
  fetchSecret,
  krustletBootScript,
  SECRET_READ,
  shimInstallScript,
  shq,
  tieBreakerBootScript,
  tieBreakerConfPath,
  tieBreakerSecretIds,
  TIE_BREAKER_BIN,
  TIE_BREAKER_UNIT,
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
import { NATS_SERVER_VERSION, natsServerBin, natsServerRelease } from "../../src/tools/pins";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, copyFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import * as path from "node:path";

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

  it("tie-breaker: the pinned nats-server from its official release archive, SHA-256 per architecture, its own unit; no Debian package", () => {
    const spec = stack("prod");
    const server = topologyOf(spec).servers.find((s) => s.role === "tiebreaker")!;
    const tb = tieBreakerBootScript(spec, server, { files: tieBreakerSecretIds(spec, server), dataDevice: "/dev/x" });
    const release = natsServerRelease();
    assert.deepEqual(
      release.map((r) => r.arch),
      ["amd64", "arm64"],
    );
    for (const r of release) {
      assert.equal(
        r.url,
        `https://github.com/nats-io/nats-server/releases/download/v${NATS_SERVER_VERSION}/nats-server-v${NATS_SERVER_VERSION}-linux-${r.arch}.tar.gz`,
      );
      assert.ok(tb.includes(`SHA256='${r.sha256}'; URL='${r.url}'`), r.arch);
    }
    assert.match(tb, /x86_64\) ARCH=amd64/);
    assert.match(tb, /aarch64\) ARCH=arm64/);
    // The old script installed Debian's 2.9.10 package and started /usr/bin/nats-server (Debian puts it in /usr/sbin).
    assert.doesNotMatch(tb, /apt-get install[^\n]*nats-server/);
    assert.doesNotMatch(tb, /\/usr\/s?bin\/nats-server/);
    assert.match(tb, new RegExp(`ExecStart=${TIE_BREAKER_BIN} -c ${tieBreakerConfPath(server)}\n`));
    assert.match(tb, new RegExp(`ExecStartPre=${TIE_BREAKER_BIN} -t -c `));
    assert.match(tb, new RegExp(`/etc/systemd/system/${TIE_BREAKER_UNIT} <<'EOF'`));
    assert.notEqual(TIE_BREAKER_UNIT, "nats-server.service");
    // Install, then check the config with that server, then start.
    const order = [
      "sha256sum -c -",
      `${TIE_BREAKER_BIN} -t -c '${tieBreakerConfPath(server)}'`,
      `systemctl enable --now ${TIE_BREAKER_UNIT}`,
    ];
    const at = order.map((x) => tb.indexOf(x));
    assert.ok(
      at.every((x, i) => x > 0 && (i === 0 || x > at[i - 1]!)),
      `order ${at.join(" < ")}`,
    );
  });

  it("tie-breaker install runs: checks the archive's SHA-256, installs the binary, removes Debian's package; a wrong checksum installs nothing", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "lf-tb-install-"));
    try {
      const arch = process.arch === "arm64" ? "arm64" : "amd64";
      // A release-shaped archive of the pinned server this machine built.
      const top = path.join(dir, "rel", `nats-server-v${NATS_SERVER_VERSION}-linux-${arch}`);
      mkdirSync(top, { recursive: true });
      copyFileSync(natsServerBin(), path.join(top, "nats-server"));
      const tgz = path.join(dir, "archive.tar.gz");
      assert.equal(spawnSync("tar", ["-C", path.join(dir, "rel"), "-czf", tgz, path.basename(top)]).status, 0);
      const sha = createHash("sha256").update(readFileSync(tgz)).digest("hex");
      // Stand-ins for the VM's commands: curl serves the archive, Debian's package is installed, systemctl/apt-get log.
      const fake = path.join(dir, "bin");
      mkdirSync(fake);
      const log = path.join(dir, "calls.log");
      const tool = (name: string, body: string) => {
        writeFileSync(path.join(fake, name), `#!/bin/sh\n${body}\n`);
        chmodSync(path.join(fake, name), 0o755);
      };
      tool(
        "curl",
        `while [ $# -gt 0 ]; do case "$1" in -o) out="$2"; shift 2;; *) shift;; esac; done; echo "curl" >> ${log}; cp ${tgz} "$out"`,
      );
      tool("dpkg-query", `echo 'install ok installed'`);
      tool("systemctl", `echo "systemctl $*" >> ${log}`);
      tool("apt-get", `echo "apt-get $*" >> ${log}`);
      const release = [{ arch, url: `https://example.invalid/nats-server-v${NATS_SERVER_VERSION}-linux-${arch}.tar.gz`, sha256: sha }];
      const bin = path.join(dir, "usr-local-bin", "nats-server");
      mkdirSync(path.dirname(bin));
      const runInstall = (sum: string) =>
        spawnSync("bash", ["-euo", "pipefail", "-c", installNatsServerScript({ bin, release: [{ ...release[0]!, sha256: sum }] })], {
          encoding: "utf8",
          env: { ...process.env, PATH: `${fake}:${process.env.PATH}` },
        });
      const bad = runInstall("0".repeat(64));
      assert.notEqual(bad.status, 0, "a tampered archive must stop the boot");
      assert.match(bad.stderr + bad.stdout, /FAILED/);
      assert.equal(existsSync(bin), false);
      const ok = runInstall(sha);
      assert.equal(ok.status, 0, ok.stderr);
      assert.equal(spawnSync(bin, ["--version"], { encoding: "utf8" }).stdout.trim(), `nats-server: v${NATS_SERVER_VERSION}`);
      const calls = readFileSync(log, "utf8");
      assert.match(calls, /systemctl disable --now nats-server\.service/);
      assert.match(calls, /apt-get purge -y -q nats-server/);
      // A second boot keeps the installed binary (no download).
      writeFileSync(log, "");
      assert.equal(runInstall(sha).status, 0);
      assert.doesNotMatch(readFileSync(log, "utf8"), /curl/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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
