/** The local lattice's compile environment: every server on loopback, ports from one base, files under the state dir. Pure. */
import * as path from "node:path";
import type { CompileEnv } from "../compile/nats";
import type { LatticeSpec, Ports } from "../model/schema";
import type { HostNode, ServerNode, Topology } from "../model/topology";

export const LOOPBACK = "127.0.0.1";
const PORTS_PER_SERVER = 5;

/**
 * A stable base port per stack, so two stacks run side by side: 10000 + 100 * (FNV-1a(stack) mod 160).
 * Kept below Linux's ephemeral range (32768+): a client socket could otherwise take the port of a server
 * that a drill restarts.
 */
export function defaultBasePort(stack: string): number {
  let h = 0x811c9dc5;
  for (const ch of stack) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return 10000 + (h % 160) * 100;
}

export interface LocalLayout {
  readonly basePort: number;
  readonly stateDir: string;
  /** Every port the lattice takes, for a free-port check before anything starts. */
  readonly allPorts: readonly number[];
  readonly env: CompileEnv;
}

export function localLayout(spec: LatticeSpec, topo: Topology, stack: string, stateDir: string): LocalLayout {
  const basePort = spec.local.basePort ?? defaultBasePort(stack);
  const serverIndex = new Map(topo.servers.map((s, i) => [s.name, i]));
  const leafHosts = topo.hosts.filter((h) => h.connection === "leaf");
  const hostIndex = new Map(leafHosts.map((h, i) => [h.name, topo.servers.length + i]));
  const portsOf = (s: ServerNode): Ports => {
    const b = basePort + serverIndex.get(s.name)! * PORTS_PER_SERVER;
    return { client: b, cluster: b + 1, gateway: b + 2, leafnode: b + 3, monitor: b + 4 };
  };
  const leafPorts = (h: HostNode) => {
    const b = basePort + hostIndex.get(h.name)! * PORTS_PER_SERVER;
    return { client: b, monitor: b + 1 };
  };
  const env: CompileEnv = {
    bindHost: LOOPBACK,
    ports: portsOf,
    routeAddress: (s) => ({ host: LOOPBACK, port: portsOf(s).cluster }),
    clusterEndpoints: (c, listener) => c.servers.map((s) => ({ host: LOOPBACK, port: portsOf(s)[listener] })),
    leafPorts,
    storeDir: (s) => path.join(stateDir, "jetstream", s.name),
    tlsFiles: (name) => ({
      cert_file: path.join(stateDir, "tls", `${name}.pem`),
      key_file: path.join(stateDir, "tls", `${name}-key.pem`),
      ca_file: path.join(stateDir, "tls", "ca.pem"),
    }),
    credsFile: (id) => path.join(stateDir, "creds", `${id.replace(/[^A-Za-z0-9_.-]/g, "_")}.creds`),
  };
  const allPorts: number[] = [];
  for (const s of topo.servers) allPorts.push(...Object.values(portsOf(s)));
  for (const h of leafHosts) allPorts.push(...Object.values(leafPorts(h)));
  return { basePort, stateDir, allPorts, env };
}
