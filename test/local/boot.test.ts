/**
 * Boots the small example (two clouds of 3 hubs, a one-server tie-breaker site, one leaf per cloud) from
 * compiled configs with real nats-server processes, and checks what the topology promises.
 */
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { jetstreamManager } from "@nats-io/jetstream";
import { buildCredentials } from "../../src/compile/credentials";
import { renderConf, type NatsConf } from "../../src/compile/natsconf";
import { connectLocal } from "../../src/local/client";
import { startServers } from "../../src/local/lattice";
import { renderLocal, type LocalRender } from "../../src/local/state";
import { monitorJson, pidAlive, Supervisor, waitFor } from "../../src/local/supervisor";
import { readStackConfig } from "../../src/model/load";
import { topologyOf } from "../../src/model/topology";
import { parseLattice } from "../../src/model/validate";
import { testStateDir } from "./helpers/state";

const stateDir = testStateDir("lf-boot-");
let r: LocalRender;
let sup: Supervisor;

describe("local boot of the small example", () => {
  before(async () => {
    const raw = readStackConfig("stacks/Pulumi.small.yaml") as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    // A second account with an export/import, to show traffic crosses accounts only where declared.
    raw.security = {
      accounts: [
        { name: "APP", exports: [{ subject: "shared.>", type: "stream" }] },
        { name: "OTHER", users: [{ name: "bob" }], imports: [{ account: "APP", subject: "shared.>", type: "stream" }] },
      ],
    };
    raw.local = { basePort: 30000 + (process.pid % 9) * 100 };
    const spec = parseLattice(raw);
    r = await renderLocal(spec, "boot-test", stateDir);
    sup = new Supervisor(stateDir);
    await startServers(r, sup);
  });
  after(async () => {
    const pids = sup?.pids() ?? [];
    await sup?.stopAll();
    for (const pid of pids) assert.equal(pidAlive(pid), false, `pid ${pid} still alive`);
    rmSync(stateDir, { recursive: true, force: true });
  });

  it("routes and gateways are up: every hub sees every other cluster", async () => {
    for (const s of r.nats.servers) {
      const gz = await monitorJson<{ outbound_gateways: Record<string, unknown> }>(s.monitorPort, "/gatewayz");
      assert.deepEqual(
        Object.keys(gz.outbound_gateways).sort(),
        r.topo.clusters
          .map((c) => c.name)
          .filter((c) => c !== s.cluster)
          .sort(),
      );
    }
  });

  it("a message published on the AWS leaf reaches a subscriber on the GCP leaf", async () => {
    const a = await connectLocal(r, { servers: ["aws-hosts-1-leaf"] });
    const g = await connectLocal(r, { servers: ["gcp-hosts-1-leaf"] });
    try {
      const sub = g.subscribe("hello.world", { max: 1 });
      await g.flush();
      let got: string | undefined;
      const reader = (async () => {
        for await (const m of sub) got = m.string();
      })();
      // Interest crosses leaf -> hub -> gateway -> hub -> leaf asynchronously: publish until it arrives (bounded).
      const ok = await waitFor(
        () => {
          a.publish("hello.world", "from aws");
          return got !== undefined;
        },
        10000,
        50,
      );
      assert.ok(ok, "no message crossed the clouds within 10 s");
      assert.equal(got, "from aws");
      await reader;
    } finally {
      await a.close();
      await g.close();
    }
  });

  it("a stream placed by cluster and tags lands on the named cloud's tagged server", async () => {
    const nc = await connectLocal(r, { servers: ["aws-hosts-1-leaf"] });
    try {
      const jsm = await jetstreamManager(nc, { domain: r.spec.jetstream.domain });
      const zone = r.spec.clouds[1]!.zones[1]!;
      const si = await jsm.streams.add({
        name: "PLACED",
        subjects: ["placed.>"],
        num_replicas: 1,
        placement: { cluster: "gcp", tags: [`az:${zone}`] },
      });
      assert.equal(si.cluster?.name, "gcp");
      const expected = r.topo.servers.find((s) => s.cluster === "gcp" && s.zone === zone)!.name;
      assert.equal(si.cluster?.leader, expected);
      const r3 = await jsm.streams.add({
        name: "PLACED3",
        subjects: ["placed3.>"],
        num_replicas: 3,
        placement: { cluster: "aws", tags: [] },
      });
      assert.equal(r3.cluster?.name, "aws");
      assert.deepEqual([r3.cluster!.leader!, ...(r3.cluster!.replicas ?? []).map((x) => x.name)].sort(), ["aws-1", "aws-2", "aws-3"]);
    } finally {
      await nc.close();
    }
  });

  it("refuses a client and a leaf with credentials from another operator", async () => {
    const other = await buildCredentials(r.spec, topologyOf(r.spec), new Uint8Array(32).fill(9), 1_700_000_000);
    await assert.rejects(connectLocal(r, { servers: ["aws-1"], creds: other.users["client"]!.creds }), /Authorization|authorization/);
    // A leaf sidecar whose remote presents foreign creds never gets a leafnode connection on the hubs.
    const credsFile = path.join(stateDir, "creds", "foreign.creds");
    writeFileSync(credsFile, other.users["leaf:aws-hosts-1"]!.creds, { mode: 0o600 });
    const base = r.nats.leafs.find((l) => l.host === "aws-hosts-1")!;
    const port = r.layout.basePort + 95;
    const conf = structuredClone(base.conf) as NatsConf & { leafnodes: { remotes: { credentials: string }[] } };
    conf.server_name = "rogue-leaf";
    conf.listen = `127.0.0.1:${port}`;
    conf.http = `127.0.0.1:${port + 1}`;
    conf.leafnodes.remotes[0]!.credentials = credsFile;
    const confFile = path.join(stateDir, "nats", "rogue-leaf.conf");
    writeFileSync(confFile, renderConf(conf), { mode: 0o600 });
    const rogue = sup.startServer("rogue-leaf", confFile, port + 1);
    await sup.waitReady(["rogue-leaf"]);
    const { readFileSync } = await import("node:fs");
    const refused = await waitFor(() => /authorization violation/i.test(readFileSync(rogue.logFile, "utf8")), 8000, 100);
    assert.ok(refused, "the rogue leaf was not refused");
    const lz = await monitorJson<{ leafnodes: number }>(port + 1, "/leafz");
    assert.equal(lz.leafnodes, 0);
    await sup.stop("rogue-leaf");
  });

  it("traffic crosses accounts only through a declared export/import", async () => {
    const app = await connectLocal(r, { servers: ["aws-1"] });
    const bob = await connectLocal(r, { servers: ["aws-2"], user: "user:OTHER:bob" });
    try {
      const seen: string[] = [];
      const subs = [bob.subscribe("secret.x"), bob.subscribe("shared.x")];
      for (const s of subs)
        void (async () => {
          for await (const m of s) seen.push(m.subject);
        })();
      await bob.flush();
      const ok = await waitFor(
        () => {
          app.publish("secret.x", "no");
          app.publish("shared.x", "yes");
          return seen.includes("shared.x");
        },
        5000,
        50,
      );
      assert.ok(ok, "the imported subject did not arrive");
      await app.flush();
      assert.equal(seen.includes("secret.x"), false);
    } finally {
      await app.close();
      await bob.close();
    }
  });
});
