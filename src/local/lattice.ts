/** The local lattice: the declared topology booted on one machine (servers, JetStream assets, Wasm hosts). */
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { jetstreamManager, type StreamConfig } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { latticeSubjects } from "../compile/credentials";
import { planJetStream } from "../compile/jetstream";
import { connectLocal, jsOptions } from "./client";
import { hostCommand } from "./host/bundle";
import { startLeaderKeeper } from "./leaders";
import { writeNatsContext } from "./natscli";
import type { Heartbeat } from "./host/host";
import { siteGid } from "./sites";
import type { LocalRender } from "./state";
import { busyPorts, waitFor, type Supervisor } from "./supervisor";
import { natsServerProblem } from "../tools/pins";

export class PortInUseError extends Error {
  constructor(readonly ports: readonly number[]) {
    super(
      `port${ports.length > 1 ? "s" : ""} ${ports.join(", ")} already in use on 127.0.0.1: another lattice or program holds ${ports.length > 1 ? "them" : "it"}. ` +
        `Stop it (latticeform down --stack <name>), or set local.basePort in the stack to another free range.`,
    );
    this.name = "PortInUseError";
  }
}

/** The nats-server to run is not the pinned version (a user error: exit 2 with what to do). */
export class NatsServerVersionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NatsServerVersionError";
  }
}

/** Start every hub, stretched, tie-breaker and leaf server; resolve when all answer /healthz. */
export async function startServers(
  r: LocalRender,
  sup: Supervisor,
  opts: { timeoutMs?: number; leafs?: boolean; /** Run once every server is spawned, before waiting for them. */ then?: () => void } = {},
): Promise<void> {
  const wrongServer = natsServerProblem(sup.natsServer);
  if (wrongServer) throw new NatsServerVersionError(wrongServer);
  sup.reapStale();
  const busy = await busyPorts(r.layout.allPorts);
  if (busy.length) throw new PortInUseError(busy);
  for (const s of r.nats.servers) sup.startServer(s.name, r.confFiles[s.name]!, s.monitorPort, siteGid(r, s.site));
  if (opts.leafs !== false) for (const l of r.nats.leafs) sup.startServer(l.name, r.confFiles[l.name]!, l.monitorPort, siteGid(r, l.site));
  opts.then?.();
  await sup.waitReady(
    [...r.nats.servers, ...(opts.leafs !== false ? r.nats.leafs : [])].map((s) => s.name),
    opts.timeoutMs ?? 60000,
  );
}

/** Create (or update) the spec's streams, KV buckets and mirrors through the JetStream API. */
export async function ensureJetStream(r: LocalRender, nc: NatsConnection): Promise<string[]> {
  const jsm = await jetstreamManager(nc, jsOptions(r.spec, 5000));
  const names: string[] = [];
  for (const plan of planJetStream(r.spec)) {
    const cfg = plan.config as unknown as Partial<StreamConfig> & { name: string };
    // Bounded retries: right after boot the meta leader may still be settling placements.
    let lastErr: unknown;
    for (let i = 0; i < 20; i++) {
      try {
        try {
          await jsm.streams.info(cfg.name);
          await jsm.streams.update(cfg.name, cfg);
        } catch (e) {
          if (!/not found/i.test(String(e))) throw e;
          await jsm.streams.add(cfg);
        }
        lastErr = undefined;
        break;
      } catch (e) {
        lastErr = e;
        await new Promise((res) => setTimeout(res, 250));
      }
    }
    if (lastErr) throw new Error(`could not create stream ${cfg.name}: ${String(lastErr)}`);
    names.push(cfg.name);
  }
  return names;
}

/** Start the Wasm host processes, resolving when each has logged "ready" (bounded). */
export async function startHosts(
  r: LocalRender,
  sup: Supervisor,
  names = r.topo.hosts.map((h) => h.name),
  timeoutMs = 30000,
): Promise<void> {
  spawnHosts(r, sup, names);
  await hostsReady(r, sup, names, timeoutMs);
}

/** Spawn host processes without waiting: a host waits for its own servers and buckets (WasmHost.start). */
export function spawnHosts(r: LocalRender, sup: Supervisor, names = r.topo.hosts.map((h) => h.name)): void {
  const command = names.length ? hostCommand() : [];
  for (const h of names) {
    const cloud = r.topo.hosts.find((x) => x.name === h)!.cloud;
    sup.spawnProcess(`host-${h}`, process.execPath, [...command, r.layout.stateDir, h], {
      pipeStdin: true,
      // One malloc arena: glibc's per-thread arenas kept ~8 MiB more resident in a host for no gain here.
      env: { ...process.env, MALLOC_ARENA_MAX: "1" },
      gid: siteGid(r, cloud),
    });
  }
}

/** Wait until each host has logged "ready"; a host that exits or stays silent fails the start with its last log lines. */
export async function hostsReady(
  r: LocalRender,
  sup: Supervisor,
  names = r.topo.hosts.map((h) => h.name),
  timeoutMs = 30000,
): Promise<void> {
  const failures: string[] = [];
  await Promise.all(
    names.map(async (h) => {
      // A host that already exited is no longer supervised; its log stays where it wrote it.
      const p = sup.processes.get(`host-${h}`);
      const logFile = p?.logFile ?? path.join(r.layout.stateDir, "logs", `host-${h}.log`);
      let exited = !p;
      void p?.exited.then(() => (exited = true));
      const ok = await waitFor(() => exited || / ready$/m.test(readFileSync(logFile, "utf8")), timeoutMs, 50);
      if (!ok || exited) failures.push(`${h}: ${exited ? "exited" : "not ready"}: ${lastLines(logFile)}`);
    }),
  );
  if (failures.length) throw new Error(`Wasm hosts failed to start:\n  ${failures.join("\n  ")}`);
}

function lastLines(file: string, n = 3): string {
  if (!existsSync(file)) return "(no log)";
  return readFileSync(file, "utf8").trim().split("\n").slice(-n).join(" | ");
}

/** Collect host heartbeats for `ms` (the status query of the lattice). */
export async function collectHeartbeats(r: LocalRender, nc: NatsConnection, ms: number): Promise<Map<string, Heartbeat>> {
  const { evt } = latticeSubjects(r.spec.name);
  const out = new Map<string, Heartbeat>();
  const sub = nc.subscribe(`${evt}.host_heartbeat`, {
    callback: (_e, m) => {
      try {
        const hb = JSON.parse(m.string()) as Heartbeat;
        out.set(hb.host, hb);
      } catch {
        // ignore
      }
    },
  });
  await new Promise((res) => setTimeout(res, ms));
  sub.unsubscribe();
  return out;
}

export interface UpResult {
  readonly readyMs: number;
  readonly serversMs: number;
  readonly streams: string[];
}

/** Boot everything: servers, JetStream assets, hosts. */
export async function upLocal(r: LocalRender, sup: Supervisor, log: (s: string) => void = () => {}): Promise<UpResult> {
  const t0 = performance.now();
  // Hosts boot (load, compile their guests) while the servers elect their JetStream meta leader.
  await startServers(r, sup, { then: () => spawnHosts(r, sup) });
  const serversMs = performance.now() - t0;
  log(`${r.nats.servers.length} servers and ${r.nats.leafs.length} leaf sidecars ready in ${serversMs.toFixed(0)} ms`);
  // For users: `nats --context <state dir>/nats-context.json ...` looks inside the running lattice.
  writeNatsContext(r);
  const nc = await connectLocal(r, { name: "latticeform up" });
  let streams: string[];
  try {
    streams = await ensureJetStream(r, nc);
  } finally {
    await nc.close();
  }
  log(`JetStream: ${streams.join(", ") || "no streams"}`);
  // Raft leaders move to the leader site (jetstream.leaders) while the hosts finish starting.
  const [keeper] = await Promise.all([startLeaderKeeper(r, sup), hostsReady(r, sup, undefined, 60000)]);
  if (keeper) log(`leader keeper: ${readFileSync(keeper.logFile, "utf8").trim().split("\n").at(-2) ?? ""}`);
  const readyMs = performance.now() - t0;
  log(`${r.topo.hosts.length} Wasm hosts ready; lattice up in ${readyMs.toFixed(0)} ms`);
  return { readyMs, serversMs, streams };
}
