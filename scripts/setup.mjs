#!/usr/bin/env node
// Set-up shared by `npm start`, `npm test` and `npm run bench`: build the pinned nats-server and nats CLI
// (src/tools/pins.json) into .cache/tools with Go, install optional Debian tools, then build the sample Wasm workloads.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const pins = JSON.parse(readFileSync(path.join(root, "src", "tools", "pins.json"), "utf8"));

function log(msg) {
  process.stderr.write(`[setup] ${msg}\n`);
}

function versionOf(bin, args) {
  if (!existsSync(bin)) return undefined;
  const r = spawnSync(bin, args, { encoding: "utf8" });
  if (r.error || r.status !== 0) return undefined;
  return /v?(\d+\.\d+\.\d+)/.exec(r.stdout + r.stderr)?.[1];
}

function cmp(a, b) {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

function goVersion() {
  const r = spawnSync("go", ["env", "GOVERSION"], { encoding: "utf8" });
  if (r.error || r.status !== 0) return undefined;
  return /go(\d+\.\d+(?:\.\d+)?)/.exec(r.stdout)?.[1];
}

/**
 * Build a pinned Go program (src/tools/pins.json) into .cache/tools/<binary>-v<version>/ with `go install`, unless that
 * exact version is already there. Go's module and build caches live in the home directory, so a fresh clone rebuilds
 * in seconds on a machine that built it once.
 */
function ensurePinnedTool(pin, versionArgs) {
  const dir = path.join(root, ".cache", "tools", `${pin.binary}-v${pin.version}`);
  const bin = path.join(dir, pin.binary);
  if (versionOf(bin, versionArgs) === pin.version) return bin;
  const go = goVersion();
  if (!go || cmp(go, pins.go.minimum) < 0) {
    console.error(
      `latticeform needs ${pin.binary} v${pin.version}, built from source with Go >= ${pins.go.minimum} ` +
        `(${go ? `found Go ${go}` : "Go is not installed"}).\n` +
        `  Install Go >= ${pins.go.minimum} and run this command again, or\n` +
        `  put that exact ${pin.binary} v${pin.version} somewhere and set ${pin.binary === "nats" ? "NATS_CLI_BIN" : "NATS_SERVER_BIN"} to it.`,
    );
    process.exit(3);
  }
  const t0 = Date.now();
  log(`building ${pin.binary} v${pin.version} (go install ${pin.module}@v${pin.version})`);
  const r = spawnSync("go", ["install", `${pin.module}@v${pin.version}`], {
    stdio: "inherit",
    env: { ...process.env, GOBIN: dir, GOFLAGS: "-mod=mod", CGO_ENABLED: "0" },
  });
  const v = versionOf(bin, versionArgs);
  if (r.status !== 0 || v !== pin.version) {
    console.error(`go install of ${pin.binary} v${pin.version} failed (got ${v ?? "nothing"}); see the output above.`);
    process.exit(3);
  }
  log(`${pin.binary} v${pin.version} built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return bin;
}

/**
 * Test-only Go programs under test/tools/<name>/ (their own go.mod pins the upstream module, e.g. containerd 2):
 * built with `go build` through the module proxy into .cache/tools/<name>-<version>/, once per pinned version.
 */
function ensureGoTestTool(name, upstreamModule) {
  const src = path.join(root, "test", "tools", name);
  const mod = readFileSync(path.join(src, "go.mod"), "utf8");
  const version = new RegExp(`^\\s*(?:require\\s+)?${upstreamModule.replace(/[./]/g, "\\$&")}\\s+(v\\S+)`, "m").exec(mod)?.[1];
  if (!version) throw new Error(`test/tools/${name}/go.mod does not require ${upstreamModule}`);
  const bin = path.join(root, ".cache", "tools", `${name}-${version}`, name);
  if (existsSync(bin)) return bin;
  if (!goVersion()) {
    log(`Go is not installed: test/tools/${name} (${upstreamModule} ${version}) not built; its tests will fail with this reason`);
    return undefined;
  }
  const t0 = Date.now();
  log(`building test tool ${name} against ${upstreamModule} ${version} (go build)`);
  const r = spawnSync("go", ["build", "-o", bin, "."], { cwd: src, stdio: "inherit", env: { ...process.env, CGO_ENABLED: "0" } });
  if (r.status !== 0 || !existsSync(bin)) {
    console.error(`go build of test/tools/${name} failed; see the output above.`);
    process.exit(3);
  }
  log(`${name} built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return bin;
}

let aptUpdated = false;
/** apt-get install with one `apt-get update` first per run (a fresh machine has no package lists). */
function aptInstall(pkg) {
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  if (!aptUpdated) {
    spawnSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
    aptUpdated = true;
  }
  return spawnSync("apt-get", ["install", "-y", "-qq", pkg], { stdio: "inherit", env }).status === 0;
}

function isDebianLike() {
  if (!existsSync("/etc/os-release")) return false;
  const os = readFileSync("/etc/os-release", "utf8");
  return /^(ID|ID_LIKE)=.*(debian|ubuntu)/m.test(os);
}

function ensureNatsTools() {
  if (process.env.NATS_SERVER_BIN) {
    const v = versionOf(process.env.NATS_SERVER_BIN, ["--version"]);
    if (v !== pins.natsServer.version) {
      console.error(
        `NATS_SERVER_BIN=${process.env.NATS_SERVER_BIN} is ${v ? `v${v}` : "not a runnable nats-server"}; latticeform runs exactly v${pins.natsServer.version}.`,
      );
      process.exit(3);
    }
  } else ensurePinnedTool(pins.natsServer, ["--version"]);
  log(`nats-server v${pins.natsServer.version}`);
  if (!process.env.NATS_CLI_BIN) ensurePinnedTool(pins.natsCli, ["--version"]);
  log(`nats CLI v${pins.natsCli.version}`);
}

function buildWorkloads() {
  const build = path.join(root, "workloads", "build.mjs");
  if (!existsSync(build)) return;
  execFileSync(process.execPath, [build], { stdio: "inherit", cwd: root });
}

/** npm ci when any declared dependency is missing (a fresh clone, or a pull that added one). */
function ensureDeps() {
  const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
  const names = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies });
  const missing = names.filter((n) => !existsSync(path.join(root, "node_modules", n, "package.json")));
  if (missing.length) {
    log(`installing npm dependencies (npm ci; missing ${missing.slice(0, 3).join(", ")}${missing.length > 3 ? ", ..." : ""})`);
    execFileSync("npm", ["ci", "--no-audit", "--no-fund"], { stdio: "inherit", cwd: root });
  }
}

/** nftables lets drills partition clouds on one machine (root only); without it those faults are skipped with a reason. */
function ensureOptionalTools() {
  const root = typeof process.getuid === "function" && process.getuid() === 0;
  if (!root || !isDebianLike()) return;
  if (spawnSync("sh", ["-c", "command -v nft"]).status === 0) return;
  log("installing nftables (for partition drills)");
  if (!aptInstall("nftables")) log("could not install nftables: partition faults will be skipped with a reason");
}

/** The evidence report is checked in headless Chromium by the tests; without it that one test skips with its reason. */
function ensureChromium() {
  const root = typeof process.getuid === "function" && process.getuid() === 0;
  if (existsSync("/usr/bin/chromium") || !root || !isDebianLike()) return;
  log("installing Debian's chromium (for the evidence report test)");
  if (!aptInstall("chromium")) log("could not install chromium: the report.html browser test will be skipped");
}

ensureDeps();
ensureNatsTools();
ensureOptionalTools();
if (process.argv.includes("--test")) {
  ensureChromium();
  // containerd 2's own config loader, for the runtime-class pools' node configs (test/compile/containerd.test.ts).
  ensureGoTestTool("containerd-config", "github.com/containerd/containerd/v2");
}
buildWorkloads();
