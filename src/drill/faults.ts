/** Fault injection on the local lattice, and undoing it. Every fault records what it did so restore is exact. */
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { startHosts } from "../local/lattice";
import { siteGid } from "../local/sites";
import { NetworkFaults } from "./network";
import type { LocalRender } from "../local/state";
import type { Supervisor } from "../local/supervisor";
import { jsOptions } from "../local/client";

export type FaultKind = "cloud-outage" | "hub-node-loss" | "host-crash" | "blackhole" | "partition" | "latency";

export interface FaultStep {
  readonly kind: FaultKind;
  /** Target cloud (cloud-outage, blackhole, hub-node-loss, host-crash). */
  readonly cloud?: string;
  /** A server name, or "stream-leader" (hub-node-loss). */
  readonly server?: string;
  readonly host?: string;
  /** How long a blackhole, partition or latency fault lasts before it is healed. */
  readonly durationMs?: number;
  /** The two sites a partition or latency fault separates. */
  readonly between?: readonly [string, string];
  /** One-way delay of a latency fault. */
  readonly delayMs?: number;
}

export interface Injected {
  readonly step: FaultStep;
  /** Supervisor process names affected. */
  readonly processes: string[];
  readonly action: "killed" | "frozen" | "network" | "skipped";
  readonly reason?: string;
  /** Undo handle of a network fault. */
  readonly net?: NetworkFaults;
}

/** Process names (as the supervisor knows them) of everything in one cloud. */
export function cloudProcesses(r: LocalRender, cloud: string): { servers: string[]; leafs: string[]; hosts: string[] } {
  return {
    servers: r.nats.servers.filter((s) => s.site === cloud).map((s) => s.name),
    leafs: r.nats.leafs.filter((l) => l.site === cloud).map((l) => l.name),
    hosts: r.topo.hosts.filter((h) => h.cloud === cloud).map((h) => h.name),
  };
}

async function streamLeader(r: LocalRender, nc: NatsConnection | undefined, cloud: string): Promise<string | undefined> {
  if (!nc) return undefined;
  const jsm = await jetstreamManager(nc, jsOptions(r.spec, 2000));
  for (const s of r.spec.streams.filter((x) => x.placement.cluster === cloud)) {
    try {
      const info = await jsm.streams.info(s.name);
      if (info.cluster?.leader) return info.cluster.leader;
    } catch {
      // try the next stream
    }
  }
  return undefined;
}

export async function inject(r: LocalRender, sup: Supervisor, step: FaultStep, nc?: NatsConnection): Promise<Injected> {
  switch (step.kind) {
    case "cloud-outage": {
      const p = cloudProcesses(r, step.cloud!);
      const names = [...p.servers, ...p.leafs, ...p.hosts.map((h) => `host-${h}`)];
      // All at once: a cloud does not go down politely.
      await Promise.all(names.map((n) => sup.kill(n)));
      return { step, processes: names, action: "killed" };
    }
    case "hub-node-loss": {
      let target = step.server;
      if (!target || target === "stream-leader")
        target = (await streamLeader(r, nc, step.cloud!)) ?? r.nats.servers.find((s) => s.cluster === step.cloud)!.name;
      await sup.kill(target);
      return { step, processes: [target], action: "killed" };
    }
    case "host-crash": {
      const host = step.host ?? r.topo.hosts.find((h) => !step.cloud || h.cloud === step.cloud)!.name;
      await sup.kill(`host-${host}`);
      return { step, processes: [`host-${host}`], action: "killed" };
    }
    case "blackhole": {
      const p = cloudProcesses(r, step.cloud!);
      const names = step.server ? [step.server] : [...p.servers, ...p.leafs, ...p.hosts.map((h) => `host-${h}`)];
      for (const n of names) sup.signal(n, "SIGSTOP");
      return { step, processes: names, action: "frozen" };
    }
    case "partition":
    case "latency": {
      const why = step.kind === "latency" ? NetworkFaults.latencyUnavailable() : NetworkFaults.unavailable();
      if (why) return { step, processes: [], action: "skipped", reason: why };
      const [a, b] = step.between ?? [r.spec.clouds[0]!.name, r.spec.clouds[1]?.name ?? r.spec.clouds[0]!.name];
      const net = new NetworkFaults(r);
      try {
        if (step.kind === "partition") net.partition(a, b);
        else net.latency(a, b, step.delayMs ?? 100);
      } catch (e) {
        net.clear();
        return { step, processes: [], action: "skipped", reason: String((e as Error).message) };
      }
      return { step, processes: [a, b], action: "network", net };
    }
  }
}

/** Undo a fault: thaw frozen processes, restart killed ones from the same configs, wait until ready. */
export async function restore(r: LocalRender, sup: Supervisor, inj: Injected): Promise<void> {
  if (inj.action === "network") {
    inj.net?.clear();
    return;
  }
  if (inj.action === "frozen") {
    for (const n of inj.processes) if (sup.processes.has(n)) sup.signal(n, "SIGCONT");
    return;
  }
  if (inj.action !== "killed") return;
  const servers = [...r.nats.servers, ...r.nats.leafs].filter((s) => inj.processes.includes(s.name));
  for (const s of servers) if (!sup.processes.has(s.name)) sup.startServer(s.name, r.confFiles[s.name]!, s.monitorPort, siteGid(r, s.site));
  await sup.waitReady(
    servers.map((s) => s.name),
    60000,
  );
  const hosts = inj.processes.filter((n) => n.startsWith("host-")).map((n) => n.slice("host-".length));
  if (hosts.length)
    await startHosts(
      r,
      sup,
      hosts.filter((h) => !sup.processes.has(`host-${h}`)),
    );
}
