/** The small example's nats-servers (no leafs, no hosts) with its streams and buckets, for tests that need only them. */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { connectLocal } from "../../../src/local/client";
import { ensureJetStream, startServers } from "../../../src/local/lattice";
import { renderLocal, type LocalRender } from "../../../src/local/state";
import { pidAlive, Supervisor } from "../../../src/local/supervisor";
import { readStackConfig } from "../../../src/model/load";
import { parseLattice } from "../../../src/model/validate";
import { testStateDir } from "./state";

export interface SmallServers {
  readonly r: LocalRender;
  readonly sup: Supervisor;
  readonly stateDir: string;
}

/** Render the small example at `basePort` (state under `.latticeform/tests`), start its servers, create its JetStream assets. */
export async function startSmallServers(name: string, basePort: number): Promise<SmallServers> {
  const raw = readStackConfig("stacks/Pulumi.small.yaml") as Record<string, unknown>;
  raw.local = { basePort };
  const stateDir = testStateDir(`lf-${name}-`);
  const r = await renderLocal(parseLattice(raw), `${name}-test`, stateDir);
  const sup = new Supervisor(stateDir);
  await startServers(r, sup, { leafs: false });
  const nc = await connectLocal(r);
  try {
    await ensureJetStream(r, nc);
  } finally {
    await nc.close();
  }
  return { r, sup, stateDir };
}

/** Stop every server by pid, check none is left, remove the state (keys included). */
export async function stopSmallServers(s: SmallServers | undefined): Promise<void> {
  if (!s) return;
  const pids = s.sup.pids();
  await s.sup.stopAll();
  for (const pid of pids) assert.equal(pidAlive(pid), false, `pid ${pid} still alive`);
  rmSync(s.stateDir, { recursive: true, force: true });
}
