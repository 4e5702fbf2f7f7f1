/**
 * The leader keeper on the small example: the stretched bucket's raft leader and the JetStream meta leader are
 * kept at the tie-breaker site, and an election that puts one elsewhere is undone by the lattice itself.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { metaStepdownRequest, stepdownRequest } from "../../src/compile/leaders";
import { connectLocal } from "../../src/local/client";
import { startLeaderKeeper } from "../../src/local/leaders";
import type { LocalRender } from "../../src/local/state";
import { monitorJson, waitFor, type Supervisor } from "../../src/local/supervisor";
import { startSmallServers, stopSmallServers, type SmallServers } from "./helpers/servers";

let servers: SmallServers | undefined;
let r: LocalRender;
let sup: Supervisor;
let nc: NatsConnection;
let sys: NatsConnection;
let jsm: JetStreamManager;

const siteOf = (server: string | undefined) => r.topo.servers.find((s) => s.name === server)?.site;
const bucketLeader = async () => (await jsm.streams.info("KV_balances").catch(() => undefined))?.cluster?.leader;
const metaLeader = async () =>
  (await monitorJson<{ meta_cluster?: { leader?: string } }>(r.nats.servers[0]!.monitorPort, "/jsz").catch(() => undefined))?.meta_cluster
    ?.leader;

describe("leader keeper (small example)", () => {
  before(async () => {
    servers = await startSmallServers("leaders", 23000 + (process.pid % 9) * 100);
    ({ r, sup } = servers);
    nc = await connectLocal(r);
    sys = await connectLocal(r, { user: "sys" });
    jsm = await jetstreamManager(nc, { domain: r.spec.jetstream.domain });
  });
  after(async () => {
    await nc?.close();
    await sys?.close();
    await stopSmallServers(servers);
  });

  it("once started, the bucket's and the meta group's leaders are at the tie-breaker site", async () => {
    const keeper = await startLeaderKeeper(r, sup);
    assert.ok(keeper);
    assert.equal(siteOf(await bucketLeader()), "tb");
    assert.equal(siteOf(await metaLeader()), "tb");
    assert.match(readFileSync(keeper.logFile, "utf8"), /every kept leader at the site after \d+ ms/);
  });

  it("an election elsewhere is undone: the leaders return to the tie-breaker site without anyone asking", async () => {
    // Move both leaders into a cloud, as an election after a restart might.
    const away = stepdownRequest(r.spec, "KV_balances", ["cloud:aws"]);
    const res = JSON.parse((await nc.request(away.subject, away.body, { timeout: 5000 })).string()) as { success?: boolean };
    assert.equal(res.success, true, JSON.stringify(res));
    const meta = metaStepdownRequest(["cloud:gcp"]);
    const mres = JSON.parse((await sys.request(meta.subject, meta.body, { timeout: 5000 })).string()) as { success?: boolean };
    assert.equal(mres.success, true, JSON.stringify(mres));
    // The keeper waits for the moved-away groups to settle, then asks them back.
    const t0 = Date.now();
    const back = await waitFor(async () => siteOf(await bucketLeader()) === "tb" && siteOf(await metaLeader()) === "tb", 20000, 100);
    const log = readFileSync(sup.processes.get("leader-keeper")!.logFile, "utf8");
    assert.ok(back, `leaders not back at tb after 20 s: bucket ${await bucketLeader()}, meta ${await metaLeader()}\n${log}`);
    assert.match(log, /KV_balances: leader \S+ \(aws\) asked to step down to tb: done/);
    assert.match(log, /\$meta: leader \S+ \(gcp\) asked to step down to tb: done/);
    console.log(`leaders back at tb ${Date.now() - t0} ms after they were moved away`);
  });
});
