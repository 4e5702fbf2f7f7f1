/**
 * Runtime-class pools: the shim installer's containerd config, read by containerd 2's own config loader
 * (test/tools/containerd-config, built from github.com/containerd/containerd/v2 by `node scripts/setup.mjs --test`).
 * The installer runs for real against a staged node: its config file and bin dir in a temp dir, `curl` and
 * `systemctl` replaced by stand-ins on PATH.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { shimInstallScript } from "../../src/compile/boot";
import { readStackConfig } from "../../src/model/load";
import type { NodePool } from "../../src/model/schema";
import { parseLattice } from "../../src/model/validate";

const ROOT = path.resolve(__dirname, "..", "..");
const FIXTURES = path.join(ROOT, "test", "fixtures", "containerd");

/** The containerd-config binary setup builds, for the containerd version test/tools/containerd-config/go.mod pins. */
function containerdConfigBin(): { bin: string; version: string } {
  const mod = readFileSync(path.join(ROOT, "test", "tools", "containerd-config", "go.mod"), "utf8");
  const version = /github\.com\/containerd\/containerd\/v2\s+(v\S+)/.exec(mod)![1]!;
  const bin = path.join(ROOT, ".cache", "tools", `containerd-config-${version}`, "containerd-config");
  assert.ok(existsSync(bin), `${bin} is missing: run \`node scripts/setup.mjs --test\` (builds it with go build)`);
  return { bin, version };
}

interface Loaded {
  containerdVersion: string;
  fileVersion: number;
  defaultRuntime: string;
  runtimes: Record<string, { runtime_type: string }>;
}

function load(config: string): Loaded {
  return JSON.parse(execFileSync(containerdConfigBin().bin, [config], { encoding: "utf8", timeout: 30_000 })) as Loaded;
}

let dir = "";
let tarball = "";
let sha = "";

/** Stage a node: its containerd config, an empty bin dir, and stand-ins for curl and systemctl. */
function stageNode(name: string, fixture: string) {
  const node = path.join(dir, name);
  const bin = path.join(node, "usr-local-bin");
  const fake = path.join(node, "fake-bin");
  mkdirSync(bin, { recursive: true });
  mkdirSync(fake, { recursive: true });
  const config = path.join(node, "config.toml");
  copyFileSync(path.join(FIXTURES, fixture), config);
  const log = path.join(node, "systemctl.log");
  writeFileSync(
    path.join(fake, "curl"),
    `#!/bin/sh\nwhile [ $# -gt 0 ]; do if [ "$1" = -o ]; then out="$2"; fi; shift; done\ncp '${tarball}' "$out"\n`,
  );
  writeFileSync(path.join(fake, "systemctl"), `#!/bin/sh\necho "$*" >> '${log}'\n`);
  chmodSync(path.join(fake, "curl"), 0o755);
  chmodSync(path.join(fake, "systemctl"), 0o755);
  const run = (script: string) =>
    spawnSync("bash", ["-c", script], { encoding: "utf8", timeout: 30_000, env: { ...process.env, PATH: `${fake}:${process.env.PATH}` } });
  const restarts = () => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n").length : 0);
  return { config, bin, run, restarts };
}

function wasmedgePool(): NodePool {
  const spec = parseLattice(readStackConfig("stacks/Pulumi.prod.yaml"));
  return spec.clouds[0]!.nodePools.find((p) => p.kind === "runtime-class" && p.runtime === "wasmedge")!;
}

describe("runtime-class pools: the shim registered where containerd 2 reads it", () => {
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "lf-containerd-"));
    // A stand-in runwasi release tarball: the installer only unpacks and installs the shim binary.
    const src = path.join(dir, "release");
    mkdirSync(src);
    writeFileSync(path.join(src, "containerd-shim-wasmedge-v1"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    tarball = path.join(dir, "shim.tar.gz");
    execFileSync("tar", ["-C", src, "-czf", tarball, "containerd-shim-wasmedge-v1"]);
    sha = createHash("sha256").update(readFileSync(tarball)).digest("hex");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("the loader is containerd 2 and reads the EKS AL2023 node config as nodeadm writes it", () => {
    const got = load(path.join(FIXTURES, "eks-al2023-v3.toml"));
    assert.match(got.containerdVersion, /^v2\./);
    assert.equal(got.fileVersion, 3);
    assert.deepEqual(Object.keys(got.runtimes), ["runc"]);
  });

  it("finding: the containerd 1.x table appended to a version-3 config registers nothing under containerd 2", () => {
    const node = stageNode("old", "eks-al2023-v3.toml");
    writeFileSync(
      node.config,
      readFileSync(node.config, "utf8") +
        '\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.wasmedge]\n  runtime_type = "io.containerd.wasmedge.v1"\n',
    );
    assert.equal(load(node.config).runtimes.wasmedge, undefined);
  });

  for (const [fixture, what] of [
    ["eks-al2023-v3.toml", "EKS AL2023 (config version 3)"],
    ["cri-v2.toml", "a version-2 config (migrated by containerd 2 at load)"],
  ] as const) {
    it(`${what}: the installer's config gives the CRI plugin the runtime the RuntimeClass names; a second run changes nothing`, () => {
      const pool = wasmedgePool();
      const node = stageNode(fixture.replace(/\.toml$/, ""), fixture);
      const script = shimInstallScript(parseLattice(readStackConfig("stacks/Pulumi.prod.yaml")), pool, {
        sha256: sha,
        paths: { config: node.config, binDir: node.bin },
      });
      const first = node.run(script);
      assert.equal(first.status, 0, first.stderr);
      assert.ok(existsSync(path.join(node.bin, "containerd-shim-wasmedge-v1")), "shim installed");
      assert.equal(node.restarts(), 1, "containerd restarted once");
      const got = load(node.config);
      assert.equal(got.runtimes.wasmedge?.runtime_type, "io.containerd.wasmedge.v1");
      assert.equal(got.runtimes.runc?.runtime_type, "io.containerd.runc.v2", "the node's own runtime is kept");
      assert.equal(got.defaultRuntime, "runc");
      const before = readFileSync(node.config, "utf8");
      const second = node.run(script);
      assert.equal(second.status, 0, second.stderr);
      assert.equal(readFileSync(node.config, "utf8"), before, "idempotent");
      assert.equal(node.restarts(), 1, "no second restart");
    });
  }

  it("refuses a tarball whose SHA-256 differs, and a config version it does not know", () => {
    const pool = wasmedgePool();
    const spec = parseLattice(readStackConfig("stacks/Pulumi.prod.yaml"));
    const node = stageNode("badsum", "eks-al2023-v3.toml");
    const bad = node.run(shimInstallScript(spec, pool, { sha256: "0".repeat(64), paths: { config: node.config, binDir: node.bin } }));
    assert.notEqual(bad.status, 0);
    assert.equal(existsSync(path.join(node.bin, "containerd-shim-wasmedge-v1")), false);
    const v1 = stageNode("v1", "cri-v2.toml");
    writeFileSync(v1.config, readFileSync(v1.config, "utf8").replace("version = 2", "version = 1"));
    const r = v1.run(shimInstallScript(spec, pool, { sha256: sha, paths: { config: v1.config, binDir: v1.bin } }));
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /has version '1'/);
  });

  it("the production script writes the node's real paths", () => {
    const s = shimInstallScript(parseLattice(readStackConfig("stacks/Pulumi.prod.yaml")), wasmedgePool());
    assert.match(s, /^CONFIG='\/etc\/containerd\/config\.toml'$/m);
    assert.match(s, /^SHIM='\/usr\/local\/bin\/containerd-shim-wasmedge-v1'$/m);
  });
});
