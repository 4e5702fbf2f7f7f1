/**
 * The leader keeper on the small example: the stretched bucket's raft leader and the JetStream meta leader are
 * kept at the tie-breaker site, and an election that puts one elsewhere is undone by the lattice itself.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { metaStepdownRequest, stepdownRequest } from "../../src/compile/leaders";
import { connectLocal } from "../../src/local/client";
import { ensureJetStream, startServers } from "../../src/local/lattice";
import { startLeaderKeeper } from "../../src/local/leaders";
import { renderLocal, type LocalRender } from "../../src/local/state";
import { monitorJson, pidAlive, Supervisor, waitFor } from "../../src/local/supervisor";
import { readStackConfig } from "../../src/model/load";
import { parseLattice } from "../../src/model/validate";

const stateDir = mkdtempSync(path.join(tmpdir(), "lf-leaders-"));
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
    const raw = readStackConfig("stacks/Pulumi.small.yaml") as Record<string, unknown>;
    raw.local = { basePort: 23000 + (process.pid % 9) * 100 };
    r = await renderLocal(parseLattice(raw), "leaders-test", stateDir);
    sup = new Supervisor(stateDir);
    await startServers(r, sup, { leafs: false });
    nc = await connectLocal(r);
    sys = await connectLocal(r, { user: "sys" });
    await ensureJetStream(r, nc);
    jsm = await jetstreamManager(nc, { domain: r.spec.jetstream.domain });
  });
  after(async () => {
    await nc?.close();
    await sys?.close();
    const pids = sup?.pids() ?? [];
    await sup?.stopAll();
    for (const pid of pids) assert.equal(pidAlive(pid), false, `pid ${pid} still alive`);
    rmSync(stateDir, { recursive: true, force: true });
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
