/**
 * The local lattice's state directory: master secret, TLS material, creds and rendered configs, all
 * secrets written with mode 0600. A second `up` reuses the master secret and certificates, so keys are stable.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { buildCredentials, type Credentials } from "../compile/credentials";
import { compileNats, type CompiledNats } from "../compile/nats";
import { REPO_ROOT } from "../model/load";
import type { LatticeSpec } from "../model/schema";
import { topologyOf, type Topology } from "../model/topology";
import { localLayout, type LocalLayout } from "./env";
import { makeCa, makeLeafCert, type Pem } from "./tls";

export function defaultStateDir(stack: string): string {
  return path.join(process.env.LATTICEFORM_STATE_DIR ?? path.join(REPO_ROOT, ".latticeform"), stack);
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
