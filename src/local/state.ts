/**
 * The local lattice's state directory: master secret, TLS material, creds and rendered configs, all
 * secrets written with mode 0600. A second `up` reuses the master secret and certificates, so keys are stable.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { buildCredentials, type Credentials } from "../compile/credentials";
import { compileNats, type CompiledNats } from "../compile/nats";
import { REPO_ROOT } from "../paths";
import type { LatticeSpec } from "../model/schema";
import { topologyOf, type Topology } from "../model/topology";
import { defaultBasePort, localLayout, type LocalLayout } from "./env";
import { describeReaped, reapDir, undoFault, type Reaped } from "./records";
import { makeCa, makeLeafCert, type Pem } from "./tls";

export function defaultStateDir(stack: string): string {
  return path.join(process.env.LATTICEFORM_STATE_DIR ?? path.join(REPO_ROOT, ".latticeform"), stack);
}

/**
 * Where a drill of `stack` runs its lattice: inside the stack's state dir (never the system temp folder: it
 * holds the master key), so `down --stack` finds it. Removed when the drill ends; reaped when it did not.
 */
export function drillStateDir(stack: string): string {
  return path.join(defaultStateDir(stack), "drill");
}

/** The stack name a drill renders its lattice under (its own base port, beside a running `up`). */
export function drillStackName(stack: string): string {
  return `${stack}-drill`;
}

export interface StackReaped {
  /** What was reaped, one line each, for the user. */
  readonly lines: string[];
  /** How many processes were killed. */
  readonly killed: number;
  /** A live `up` of the stack (not reaped unless forced). */
  readonly busyUp?: Reaped["busy"];
  /** A live drill of the stack (not reaped unless forced). */
  readonly busyDrill?: Reaped["busy"];
}

/** State dirs of drills from versions that ran them under the system temp folder (with the master key). */
function legacyDrillDirs(stack: string): string[] {
  try {
    return readdirSync(tmpdir())
      .filter((n) => n.startsWith(`lf-drill-${stack}-`))
      .map((n) => path.join(tmpdir(), n))
      .filter((d) => existsSync(path.join(d, "master.key")) || existsSync(path.join(d, "spec.json")));
  } catch {
    return [];
  }
}

/**
 * Reap what commands that are gone left for a stack: processes (by recorded pid, checked against the command
 * line), faults still in force, a drill's temporary state. `force` (what `down` does) reaps live commands' too,
 * deletes the stack's nftables tables even without a record (`spec`: to name them), and removes the state dir.
 */
export function reapStack(stack: string, opts: { force?: boolean; spec?: LatticeSpec } = {}): StackReaped {
  const dir = defaultStateDir(stack);
  const drillDir = drillStateDir(stack);
  const lines: string[] = [];
  let killed = 0;
  const drill = reapDir(drillDir, opts);
  killed += drill.killed.length;
  lines.push(...describeReaped(drill, `a drill of stack ${stack} that did not finish`));
  if (!drill.busy && existsSync(drillDir)) {
    rmSync(drillDir, { recursive: true, force: true });
    lines.push(
      `removed the state of a drill of stack ${stack} that did not finish (${path.relative(process.cwd(), drillDir) || drillDir})`,
    );
  }
  const up = reapDir(dir, opts);
  killed += up.killed.length;
  lines.push(...describeReaped(up, `stack ${stack}`));
  for (const legacy of legacyDrillDirs(stack)) {
    const old = reapDir(legacy, { force: true });
    killed += old.killed.length;
    lines.push(...describeReaped(old, `a drill of stack ${stack} in ${legacy}`));
    rmSync(legacy, { recursive: true, force: true });
    lines.push(`removed ${legacy} (a drill's state with key material under the system temp folder)`);
  }
  if (opts.force && opts.spec)
    for (const name of [stack, drillStackName(stack)]) {
      const what = undoFault({ kind: "nft-table", table: `latticeform_${opts.spec.local.basePort ?? defaultBasePort(name)}` }, dir);
      if (what) lines.push(`stack ${stack}: ${what}`);
    }
  if (opts.force) rmSync(dir, { recursive: true, force: true });
  return { lines, killed, busyUp: up.busy, busyDrill: drill.busy };
}

export function writeSecret(file: string, content: string | Uint8Array): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, content, { mode: 0o600 });
  chmodSync(file, 0o600);
}

function readOrCreate(file: string, make: () => Buffer): Buffer {
  if (existsSync(file)) return readFileSync(file);
  const b = make();
  writeSecret(file, b);
  return b;
}

async function pemFor(dir: string, name: string, make: () => Promise<Pem>): Promise<Pem> {
  const certFile = path.join(dir, `${name}.pem`);
  const keyFile = path.join(dir, `${name}-key.pem`);
  if (existsSync(certFile) && existsSync(keyFile)) return { cert: readFileSync(certFile, "utf8"), key: readFileSync(keyFile, "utf8") };
  const pem = await make();
  writeSecret(certFile, pem.cert);
  writeSecret(keyFile, pem.key);
  return pem;
}

export interface LocalRender {
  readonly spec: LatticeSpec;
  readonly stack: string;
  readonly topo: Topology;
  readonly layout: LocalLayout;
  readonly creds: Credentials;
  readonly nats: CompiledNats;
  /** Config file path per server name. */
  readonly confFiles: Readonly<Record<string, string>>;
}

/** Render the whole local lattice into its state dir (idempotent; keys and certificates are reused). */
export async function renderLocal(spec: LatticeSpec, stack: string, stateDir = defaultStateDir(stack)): Promise<LocalRender> {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const topo = topologyOf(spec);
  const layout = localLayout(spec, topo, stack, stateDir);
  const master = readOrCreate(path.join(stateDir, "master.key"), () => randomBytes(32));
  const issuedAt = Number(
    readOrCreate(path.join(stateDir, "issued-at"), () => Buffer.from(String(Math.floor(Date.now() / 1000)))).toString(),
  );
  const creds = await buildCredentials(spec, topo, master, issuedAt);
  const tlsDir = path.join(stateDir, "tls");
  const ca = await pemFor(tlsDir, "ca", () => makeCa(spec.name));
  const names = [...topo.servers.map((s) => s.name), ...topo.hosts.map((h) => `${h.name}-leaf`), "client"];
  for (const n of names) await pemFor(tlsDir, n, () => makeLeafCert(ca, n));
  for (const u of Object.values(creds.users)) writeSecret(layout.env.credsFile(u.id), u.creds);
  const nats = compileNats(spec, topo, layout.env, creds);
  const confFiles: Record<string, string> = {};
  mkdirSync(path.join(stateDir, "jetstream"), { recursive: true, mode: 0o700 });
  for (const s of [...nats.servers, ...nats.leafs]) {
    const file = path.join(stateDir, "nats", `${s.name}.conf`);
    writeSecret(file, s.text);
    confFiles[s.name] = file;
  }
  // Host processes re-open the lattice from here without re-rendering.
  writeSecret(path.join(stateDir, "spec.json"), JSON.stringify({ stack, spec }));
  return { spec, stack, topo, layout, creds, nats, confFiles };
}

/** Open an already rendered lattice read-only (what a host process or `call`/`status` does). */
export async function openLocal(stateDir: string): Promise<LocalRender> {
  const file = path.join(stateDir, "spec.json");
  if (!existsSync(file)) throw new Error(`no local lattice rendered in ${stateDir}: run latticeform up --local first`);
  const { stack, spec } = JSON.parse(readFileSync(file, "utf8")) as { stack: string; spec: LatticeSpec };
  const topo = topologyOf(spec);
  const layout = localLayout(spec, topo, stack, stateDir);
  const master = readFileSync(path.join(stateDir, "master.key"));
  const issuedAt = Number(readFileSync(path.join(stateDir, "issued-at"), "utf8"));
  const creds = await buildCredentials(spec, topo, master, issuedAt);
  const nats = compileNats(spec, topo, layout.env, creds);
  const confFiles = Object.fromEntries(
    [...nats.servers, ...nats.leafs].map((s) => [s.name, path.join(stateDir, "nats", `${s.name}.conf`)]),
  );
  return { spec, stack, topo, layout, creds, nats, confFiles };
}
