/** Booting the declared topology's NATS servers on one machine. */
import type { Supervisor } from "./supervisor";
import { busyPorts } from "./supervisor";
import type { LocalRender } from "./state";

export class PortInUseError extends Error {
  constructor(readonly ports: readonly number[]) {
    super(
      `port${ports.length > 1 ? "s" : ""} ${ports.join(", ")} already in use on 127.0.0.1: another lattice or program holds ${ports.length > 1 ? "them" : "it"}. ` +
        `Stop it (latticeform down --stack <name>), or set local.basePort in the stack to another free range.`,
    );
    this.name = "PortInUseError";
  }
}

/** Start every hub, stretched, tie-breaker and leaf server; resolve when all answer /healthz. */
export async function startServers(r: LocalRender, sup: Supervisor, opts: { timeoutMs?: number; leafs?: boolean } = {}): Promise<void> {
  sup.reapStale();
  const busy = await busyPorts(r.layout.allPorts);
  if (busy.length) throw new PortInUseError(busy);
  for (const s of r.nats.servers) sup.startServer(s.name, r.confFiles[s.name]!, s.monitorPort);
  await sup.waitReady(
    r.nats.servers.map((s) => s.name),
    opts.timeoutMs ?? 30000,
  );
  if (opts.leafs !== false) {
    for (const l of r.nats.leafs) sup.startServer(l.name, r.confFiles[l.name]!, l.monitorPort);
    await sup.waitReady(
      r.nats.leafs.map((l) => l.name),
      opts.timeoutMs ?? 30000,
    );
  }
}
