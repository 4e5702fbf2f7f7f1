#!/usr/bin/env node
// Set-up shared by `npm start`, `npm test` and `npm run bench`: make sure nats-server is there (installing
// Debian's package when we are root on Debian/Ubuntu) and new enough, then build the sample Wasm workloads.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const MIN_NATS_SERVER = "2.9.10";

function log(msg) {
  process.stderr.write(`[setup] ${msg}\n`);
}

function natsVersion() {
  const r = spawnSync("nats-server", ["--version"], { encoding: "utf8" });
  if (r.error || r.status !== 0) return undefined;
  return /v?(\d+\.\d+\.\d+)/.exec(r.stdout + r.stderr)?.[1];
}

function cmp(a, b) {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
  return 0;
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

function ensureNatsServer() {
  let v = natsVersion();
  if (!v) {
    const root = typeof process.getuid === "function" && process.getuid() === 0;
    if (root && isDebianLike()) {
      log("nats-server not found: installing Debian's nats-server package (apt-get)");
      if (!aptInstall("nats-server")) {
        console.error("apt-get could not install nats-server; install it by hand (apt-get install nats-server) and run this again.");
        process.exit(3);
      }
      v = natsVersion();
    } else {
      console.error(
        "latticeform needs nats-server >= " +
          MIN_NATS_SERVER +
          " on PATH, and it is not there.\n" +
          "  Debian/Ubuntu: sudo apt-get install nats-server\n" +
          "  Elsewhere:     install a release from the NATS project, or `go install github.com/nats-io/nats-server/v2@latest`,\n" +
          "                 then run this command again.",
      );
      process.exit(3);
    }
  }
  if (!v || cmp(v, MIN_NATS_SERVER) < 0) {
    console.error(`nats-server ${v ?? "(unknown version)"} is older than the supported minimum ${MIN_NATS_SERVER}; upgrade it.`);
    process.exit(3);
  }
  log(`nats-server ${v} (minimum ${MIN_NATS_SERVER})`);
}

function buildWorkloads() {
  const build = path.join(root, "workloads", "build.mjs");
  if (!existsSync(build)) return;
  execFileSync(process.execPath, [build], { stdio: "inherit", cwd: root });
}

function ensureDeps() {
  if (!existsSync(path.join(root, "node_modules", "tsx"))) {
    log("installing npm dependencies (npm ci)");
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
ensureNatsServer();
ensureOptionalTools();
if (process.argv.includes("--test")) ensureChromium();
buildWorkloads();
