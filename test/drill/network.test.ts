/** Partition and latency between two clouds of a real local lattice (root only: nftables + tc netem on loopback). */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { NetworkFaults } from "../../src/drill/network";
import { connectLocal } from "../../src/local/client";
import { startServers } from "../../src/local/lattice";
import { renderLocal, type LocalRender } from "../../src/local/state";
import { monitorJson, Supervisor, waitFor } from "../../src/local/supervisor";
import { readStackConfig } from "../../src/model/load";
import { parseLattice } from "../../src/model/validate";
import { testStateDir } from "../local/helpers/state";

const unavailable = NetworkFaults.unavailable();
const stateDir = testStateDir("lf-net-");
let r: LocalRender;
let sup: Supervisor;
let net: NetworkFaults;

type Gatewayz = { outbound_gateways: Record<string, { connection?: { rtt?: string } }>; inbound_gateways: Record<string, unknown[]> };

/** Clusters this server has a live outbound gateway connection to (inbound ones may land on any peer server). */
async function gatewayPeers(port: number): Promise<string[]> {
  const gz = await monitorJson<Gatewayz>(port, "/gatewayz");
  return Object.entries(gz.outbound_gateways ?? {})
    .filter(([, v]) => !!v.connection)
    .map(([k]) => k)
    .sort();
}

describe("network faults between clouds", { skip: unavailable }, () => {
  before(async () => {
    const raw = readStackConfig("stacks/Pulumi.small.yaml") as Record<string, unknown>;
    r = await renderLocal(parseLattice({ ...raw, local: { basePort: 21000 + (process.pid % 7) * 100 } }), "net-test", stateDir);
    sup = new Supervisor(stateDir);
    await startServers(r, sup, { leafs: false });
    net = new NetworkFaults(r);
  });
  after(async () => {
    net?.clear();
    await sup?.stopAll();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it("a partition cuts aws from gcp while both still reach the tie-breaker, and heals", async () => {
    const aws1 = r.nats.servers.find((s) => s.name === "aws-1")!.monitorPort;
    assert.ok(await waitFor(async () => (await gatewayPeers(aws1)).includes("gcp"), 10000, 100), "gateways never formed");
    net.partition("aws", "gcp");
    // Pings (1 s, ping_max 2) find the silent peer: the gcp gateway goes, the stretched cluster stays.
    const cut = await waitFor(async () => !(await gatewayPeers(aws1)).includes("gcp"), 15000, 200);
    assert.ok(cut, "aws still sees gcp through the partition");
    // The outbound gateway to the stretched cluster may have been to its gcp member: it reconnects to another.
    assert.ok(await waitFor(async () => (await gatewayPeers(aws1)).includes("stretch"), 15000, 200), "aws lost the stretched cluster");
    net.clear();
    assert.ok(await waitFor(async () => (await gatewayPeers(aws1)).includes("gcp"), 20000, 200), "the partition did not heal");
  });

  it("latency between aws and gcp slows cross-cloud requests and nothing else", { skip: NetworkFaults.latencyUnavailable() }, async () => {
    const a = await connectLocal(r, { servers: ["aws-1"] });
    const g = await connectLocal(r, { servers: ["gcp-1"] });
    try {
      g.subscribe("echo", { callback: (_e, m) => void m.respond(m.data) });
      a.subscribe("echo-local", { callback: (_e, m) => void m.respond(m.data) });
      await g.flush();
      await waitFor(async () => !!(await a.request("echo", "x", { timeout: 500 }).catch(() => undefined)), 10000, 100);
      const time = async (subject: string) => {
        const t = performance.now();
        await a.request(subject, "x", { timeout: 5000 });
        return performance.now() - t;
      };
      net.latency("aws", "gcp", 100);
      const cross = Math.min(await time("echo"), await time("echo"), await time("echo"));
      const local = Math.min(await time("echo-local"), await time("echo-local"));
      net.clear();
      // Request and reply each cross the aws<->gcp gateway once: at least 2 x 100 ms added.
      assert.ok(cross >= 200, `cross-cloud request took ${cross.toFixed(1)} ms`);
      assert.ok(local < 100, `a request inside aws took ${local.toFixed(1)} ms`);
    } finally {
      net.clear();
      await a.close();
      await g.close();
    }
  });
});
