/**
 * The pinned upstream programs (declared once in `pins.json`, which `scripts/setup.mjs` reads too) and where the
 * project's own set-up builds them: `.cache/tools/<name>-v<version>/` inside the checkout, never on PATH globally.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "../paths";
import pinsJson from "./pins.json";

interface Pin {
  readonly version: string;
  readonly module: string;
  readonly binary: string;
}
/** Official release archives of a pinned program, by Linux architecture (Go's names), with their SHA-256. */
interface ReleasePin {
  readonly url: string;
  readonly sha256: Readonly<Record<string, string>>;
}
const pins: { natsServer: Pin & { release: ReleasePin }; natsCli: Pin; go: { minimum: string } } = pinsJson;

export const NATS_SERVER_VERSION = pins.natsServer.version;
export const NATS_CLI_VERSION = pins.natsCli.version;
export const GO_MINIMUM = pins.go.minimum;

/** The pinned nats-server's official Linux release archive per architecture (amd64, arm64), checked by SHA-256. */
export function natsServerRelease(): { arch: string; url: string; sha256: string }[] {
  const { url, sha256 } = pins.natsServer.release;
  return Object.entries(sha256).map(([arch, sum]) => {
    if (!/^[0-9a-f]{64}$/.test(sum)) throw new Error(`src/tools/pins.json: natsServer.release.sha256.${arch} is not a SHA-256: ${sum}`);
    return { arch, url: url.replaceAll("{version}", NATS_SERVER_VERSION).replaceAll("{arch}", arch), sha256: sum };
  });
}

/** Where set-up puts a pinned tool's binary. */
export function toolPath(pin: Pin, base = REPO_ROOT): string {
  return path.join(base, ".cache", "tools", `${pin.binary}-v${pin.version}`, pin.binary);
}

/** What to do when the pinned server is missing or another version is found. */
export function natsServerAdvice(): string {
  return (
    `run \`npm run setup\` (it builds nats-server v${NATS_SERVER_VERSION} with Go >= ${GO_MINIMUM}: ` +
    `go install ${pins.natsServer.module}@v${NATS_SERVER_VERSION}), or install Go >= ${GO_MINIMUM}, ` +
    `or set NATS_SERVER_BIN to a nats-server v${NATS_SERVER_VERSION} binary`
  );
}

/** The nats-server binary to run: NATS_SERVER_BIN if set, else the project's pinned build. */
export function natsServerBin(): string {
  return process.env.NATS_SERVER_BIN ?? toolPath(pins.natsServer);
}

/** The `nats` CLI binary: NATS_CLI_BIN if set, else the project's pinned build. */
export function natsCliBin(): string {
  return process.env.NATS_CLI_BIN ?? toolPath(pins.natsCli);
}

/** The version a nats-server binary reports, or undefined when it does not run. */
export function natsServerVersionOf(bin = natsServerBin()): string | undefined {
  if (bin.includes(path.sep) && !existsSync(bin)) return undefined;
  const r = spawnSync(bin, ["--version"], { encoding: "utf8" });
  if (r.error || r.status !== 0) return undefined;
  return /v?(\d+\.\d+\.\d+)/.exec(r.stdout + r.stderr)?.[1];
}

/** A problem sentence when the nats-server to run is not the pinned version, else undefined. */
export function natsServerProblem(bin = natsServerBin()): string | undefined {
  const v = natsServerVersionOf(bin);
  if (v === NATS_SERVER_VERSION) return undefined;
  const found = v ? `is v${v}` : "was not found or does not run";
  return `nats-server ${bin} ${found}; the lattice runs exactly v${NATS_SERVER_VERSION}: ${natsServerAdvice()}`;
}
