/**
 * JetStream on the local lattice (pinned nats-server): conditional KV writes under concurrency
 * (nats-server#4320), and the `nats` CLI as an independent client of what the lattice wrote.
 */
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectLocal } from "../../src/local/client";
import { natsCli, writeNatsContext } from "../../src/local/natscli";
import type { LocalRender } from "../../src/local/state";
import { NATS_CLI_VERSION, natsCliBin } from "../../src/tools/pins";
import { startSmallServers, stopSmallServers, type SmallServers } from "./helpers/servers";

let servers: SmallServers | undefined;
let r: LocalRender;
const conns: NatsConnection[] = [];

describe("JetStream on the local lattice (pinned nats-server)", () => {
  before(async () => {
    servers = await startSmallServers("js", 22000 + (process.pid % 9) * 100);
    r = servers.r;
    conns.push(await connectLocal(r));
  });
  after(async () => {
    for (const c of conns) await c.close().catch(() => {});
    await stopSmallServers(servers);
  });

  it("nats-server#4320: concurrent stale conditional writes to one key of the R3 stretched bucket: exactly one wins, every round", async () => {
    // Writers in both clouds, as hosts in both clouds would be; each round all write with the same expected revision.
    const writers = await Promise.all(
      ["aws", "gcp", "aws", "gcp"].map((cloud) =>
        connectLocal(r, { servers: r.nats.servers.filter((s) => s.cluster === cloud).map((s) => s.name) }),
      ),
    );
    conns.push(...writers);
    const kvs = await Promise.all(writers.map((c) => new Kvm(jetstream(c, { domain: r.spec.jetstream.domain })).open("balances")));
    const perRound = 10;
    const wins: number[] = [];
    for (let round = 0; round < 5; round++) {
      const key = `race-${round}`;
      const rev = await kvs[0]!.put(key, "start");
      const results = await Promise.allSettled(
        Array.from({ length: perRound }, (_, i) => kvs[i % kvs.length]!.update(key, `writer-${i}`, rev)),
      );
      const won = results.filter((x) => x.status === "fulfilled").length;
      for (const x of results)
        if (x.status === "rejected") assert.match(String(x.reason), /wrong last sequence/i, "a loser fails on the expected revision");
      wins.push(won);
      const e = await kvs[1]!.get(key);
      assert.equal(e?.revision, rev + 1, "one write was applied after the revision the writers read");
    }
    // On nats-server 2.9.10 (before 2.9.21) several of these succeeded; the pinned server must refuse all but one.
    assert.deepEqual(wins, [1, 1, 1, 1, 1]);
  });

  it("the nats CLI (pinned build) checks JetStream health, reads a stream and a KV key the lattice wrote", async () => {
    const ctx = writeNatsContext(r);
    assert.equal(statSync(ctx).mode & 0o077, 0, "the context names the creds: owner only");
    const version = natsCli(r, ["--version"]);
    assert.equal(version.status, 0, version.stderr);
    assert.match(version.stdout + version.stderr, new RegExp(`v?${NATS_CLI_VERSION.replace(/\./g, "\\.")}`));
    // What the lattice writes: a payment event into PAYMENTS, a balance into the bucket.
    const nc = conns[0]!;
    const js = jetstream(nc, { domain: r.spec.jetstream.domain });
    const ack = await js.publish("payments.events.p-cli", JSON.stringify({ id: "p-cli", amount: 7 }));
    const kv = await new Kvm(js).open("balances");
    await kv.put("acc-cli", JSON.stringify({ balance: 42 }));

    const health = natsCli(r, ["server", "check", "jetstream", "--replicas"]);
    assert.equal(health.status, 0, `${health.stdout}\n${health.stderr}`);
    assert.match(health.stdout, /^OK JetStream/m);

    const msg = natsCli(r, ["stream", "get", "PAYMENTS", String(ack.seq), "--json"]);
    assert.equal(msg.status, 0, msg.stderr);
    const got = JSON.parse(msg.stdout) as { subject: string; data: string };
    assert.equal(got.subject, "payments.events.p-cli");
    assert.deepEqual(JSON.parse(Buffer.from(got.data, "base64").toString()), { id: "p-cli", amount: 7 });

    const val = natsCli(r, ["kv", "get", "balances", "acc-cli", "--raw"]);
    assert.equal(val.status, 0, val.stderr);
    assert.deepEqual(JSON.parse(val.stdout), { balance: 42 });

    // It can fail: a key nobody wrote is an error, not an empty success.
    const missing = natsCli(r, ["kv", "get", "balances", "nobody-wrote-this", "--raw"]);
    assert.notEqual(missing.status, 0);
    assert.ok(natsCliBin().length > 0);
  });
});
