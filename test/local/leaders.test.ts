/**
 * The leader keeper on the small example: the stretched bucket's raft leader and the JetStream meta leader are
 * kept at the tie-breaker site, and an election that puts one elsewhere is undone by the lattice itself.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectLocal } from "../../src/local/client";
import { startLeaderKeeper } from "../../src/local/leaders";
import type { LocalRender } from "../../src/local/state";
import { waitFor, type Supervisor } from "../../src/local/supervisor";
import { leaderReader, moveLeaders } from "./helpers/leaders";
import { startSmallServers, stopSmallServers, type SmallServers } from "./helpers/servers";

let servers: SmallServers | undefined;
let r: LocalRender;
let sup: Supervisor;
let nc: NatsConnection;
let sys: NatsConnection;
let leaders: Awaited<ReturnType<typeof leaderReader>>;

describe("leader keeper (small example)", () => {
  before(async () => {
    servers = await startSmallServers("leaders", 23000 + (process.pid % 9) * 100);
    ({ r, sup } = servers);
    nc = await connectLocal(r);
    sys = await connectLocal(r, { user: "sys" });
    leaders = await leaderReader(r, nc);
  });
  after(async () => {
    await nc?.close();
    await sys?.close();
    await stopSmallServers(servers);
  });

  it("once started, the bucket's and the meta group's leaders are at the tie-breaker site", async () => {
    const keeper = await startLeaderKeeper(r, sup);
    assert.ok(keeper);
    const l = await leaders.read();
    assert.equal(leaders.siteOf(l.bucket), "tb");
    assert.equal(leaders.siteOf(l.meta), "tb");
    assert.match(readFileSync(keeper.logFile, "utf8"), /every kept leader at the site after \d+ ms/);
  });

  it("an election elsewhere is undone: the leaders return to the tie-breaker site without anyone asking", async () => {
    // Move both leaders into a cloud, as an election after a restart might.
    await moveLeaders(r, nc, sys, "aws", "gcp");
    // The keeper waits for the moved-away groups to settle, then asks them back.
    const t0 = Date.now();
    const back = await waitFor(() => leaders.bothAt("tb"), 20000, 100);
    const log = readFileSync(sup.processes.get("leader-keeper")!.logFile, "utf8");
    assert.ok(back, `leaders not back at tb after 20 s: ${JSON.stringify(await leaders.read())}\n${log}`);
    assert.match(log, /KV_balances: leader \S+ \(aws\) asked to step down to tb: done/);
    assert.match(log, /\$meta: leader \S+ \(gcp\) asked to step down to tb: done/);
    console.log(`leaders back at tb ${Date.now() - t0} ms after they were moved away`);
  });
});
