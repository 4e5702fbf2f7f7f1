/** NATS connections into the local lattice (TLS with the lattice CA, user creds from the state dir). */
import { readFileSync } from "node:fs";
import type { JetStreamManagerOptions } from "@nats-io/jetstream";
import { connect, credsAuthenticator, type ConnectionOptions, type NatsConnection } from "@nats-io/transport-node";
import { LOOPBACK } from "./env";
import type { LatticeSpec } from "../model/schema";
import type { LocalRender } from "./state";

export interface ConnectTarget {
  /** Server or leaf names (connection order); default: every hub of the first cloud. */
  readonly servers?: readonly string[];
  /** User id in the credentials (`client`, `sys`, `host:<host>`, ...). */
  readonly user?: string;
  /** Raw creds instead of a user id (e.g. wrong credentials in tests). */
  readonly creds?: string;
  readonly name?: string;
  readonly options?: Partial<ConnectionOptions>;
}

export function serverUrls(r: LocalRender, names: readonly string[]): string[] {
  const all = [...r.nats.servers, ...r.nats.leafs];
  return names.map((n) => {
    const s = all.find((x) => x.name === n);
    if (!s) throw new Error(`no server ${n} in the lattice (have ${all.map((x) => x.name).join(", ")})`);
    return `tls://${LOOPBACK}:${s.clientPort}`;
  });
}

export function connectionOptions(r: LocalRender, t: ConnectTarget = {}): ConnectionOptions {
  const names = t.servers ?? r.nats.servers.filter((s) => s.cluster === r.spec.clouds[0]!.name).map((s) => s.name);
  const creds = t.creds ?? r.creds.users[t.user ?? "client"]?.creds;
  if (!creds) throw new Error(`no credentials for user ${t.user}`);
  const tlsFiles = r.layout.env.tlsFiles("client");
  return {
    servers: serverUrls(r, names),
    authenticator: credsAuthenticator(new TextEncoder().encode(creds)),
    tls:
      r.spec.security.tls.client === false
        ? undefined
        : { caFile: tlsFiles.ca_file, certFile: tlsFiles.cert_file, keyFile: tlsFiles.key_file },
    name: t.name ?? "latticeform",
    // A blackholed server would otherwise cost the 20 s default connect timeout.
    timeout: 1000,
    ...t.options,
  };
}

/**
 * How Wasm hosts hold their hub connection: reconnect forever, 50 ms apart, no jitter (TLS jitter alone adds up
 * to 1 s), URLs in the compiled order, and a frozen server detected by pings. The failover bench's plain
 * responder uses the same, so its floor compares like with like.
 */
export const HOST_CONNECTION = {
  maxReconnectAttempts: -1,
  reconnectTimeWait: 50,
  reconnectJitter: 0,
  reconnectJitterTLS: 0,
  pingInterval: 1000,
  maxPingOut: 2,
  noRandomize: true,
} as const;

export function connectLocal(r: LocalRender, t: ConnectTarget = {}): Promise<NatsConnection> {
  return connect(connectionOptions(r, t));
}

/**
 * Options for a JetStream client or manager in the lattice's domain. `checkAPI: false`: callers retry or time
 * out themselves, so the extra round trip at creation buys nothing (and fails during a fault).
 */
export function jsOptions(spec: LatticeSpec, timeout = 2000): JetStreamManagerOptions {
  return { domain: spec.jetstream.domain, timeout, checkAPI: false };
}

export function readCa(r: LocalRender): string {
  return readFileSync(r.layout.env.tlsFiles("client").ca_file, "utf8");
}
