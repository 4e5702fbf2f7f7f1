/**
 * What wash 2.7's keyvalue plugin (wasmCloud v2.7.0 wasi_keyvalue/nats.rs over async-nats 0.49.1) meets when it
 * opens and uses the spec's stretched R3 bucket from a host pod, on the real servers of the small example, through
 * the pod's leaf sidecar config (compiled for this machine's addresses). Without the sidecar's mappings, wash's
 * domain-less `$JS.API` and `$KV` subjects find no responders behind the leaf, and its `create_key_value` (R1
 * defaults) would be refused for the existing bucket; with them, `open` binds to the bucket as declared and puts,
 * gets and conditional updates work. Run inside `unshare -n` (fixed loopback ports).
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { connect, headers, type NatsConnection } from "@nats-io/transport-node";
import { execFileSync } from "node:child_process";
import { createServer } from "node:net";
import { hostSidecarConf, leafUpProbe } from "../../src/compile/wasmhost";
import { renderConf } from "../../src/compile/natsconf";
import type { LocalRender } from "../../src/local/state";

import { spawnNatsServer } from "./helpers/natsServer";
import { startSmallServers, stopSmallServers, type SmallServers } from "./helpers/servers";

let servers: SmallServers | undefined;
let r: LocalRender;
const sidecars: ChildProcess[] = [];

/** The stream config async-nats 0.49.1 sends for `kv::Config { bucket, ..Default::default() }` (context.rs `kv_to_stream_config`). */
function asyncNatsDefaultKv(bucket: string): Record<string, unknown> {
  return {
    name: `KV_${bucket}`,
    description: "",
    subjects: [`$KV.${bucket}.>`],
    max_msgs_per_subject: 1,
    max_bytes: -1,
    max_age: 0,
    max_msg_size: -1,
    storage: "file",
    allow_rollup_hdrs: true,
    deny_delete: true,
    deny_purge: false,
    allow_direct: true,
    num_replicas: 1,
    discard: "new",
    mirror_direct: false,
  };
}

/** A loopback port nothing listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

/** The pod's startup probe, run here against the sidecar's monitor port: true when it passes. */
function probe(command: string[]): boolean {
  try {
    execFileSync(command[0]!, command.slice(1), { stdio: "ignore", timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * Start a host's sidecar (as the pod runs it, on free loopback ports); resolves with a client connected like wash
 * and the sidecar's monitor port. `hub: false` points its leaf remotes at a port nothing listens on.
 */
async function sidecar(mapped: boolean, hub = true): Promise<NatsConnection & { monitor: number }> {
  const host = r.topo.hosts.find((h) => h.cloud === "aws")!;
  const conf = hostSidecarConf(r.spec, r.topo, r.layout.env, r.creds, host);
  conf.listen = "127.0.0.1:-1";
  const monitor = await freePort();
  conf.http = `127.0.0.1:${monitor}`;
  if (!mapped) for (const a of Object.values(conf.accounts as Record<string, Record<string, unknown>>)) delete a.mappings;
  if (!hub) {
    const closed = await freePort();
    const leafnodes = conf.leafnodes as { remotes: { urls: string[] }[] };
    for (const remote of leafnodes.remotes) remote.urls = remote.urls.map(() => `tls://127.0.0.1:${closed}`);
  }
  const file = path.join(r.layout.stateDir, `sidecar-${mapped}-${hub}.conf`);
  writeFileSync(file, renderConf(conf, "test sidecar"));
  const { proc, port } = await spawnNatsServer(file, hub ? /Leafnode connection created/ : undefined);
  sidecars.push(proc);
  const tls = r.layout.env.tlsFiles("client");
  // wash: TLS, no credentials (the sidecar's no_auth_user binds it to the account).
  const nc = await connect({
    servers: `tls://127.0.0.1:${port}`,
    tls: { caFile: tls.ca_file, certFile: tls.cert_file, keyFile: tls.key_file },
    timeout: 5000,
  });
  return Object.assign(nc, { monitor });
}

/**
 * The leaf reports "connection created" before the hub's subscription interest has crossed it, so a request made at
 * once can find no responders. Wait (bounded: 50 tries, 200 ms apart) until the lattice's JetStream answers in its
 * own domain, which needs no mapping: only then does "no responders" on another subject mean the subject is unserved.
 */
async function untilJetStreamAnswers(nc: NatsConnection): Promise<void> {
  const subject = `$JS.${r.spec.jetstream.domain}.API.INFO`;
  let last: unknown;
  for (let i = 0; i < 50; i++) {
    try {
      await nc.request(subject, "", { timeout: 1000 });
      return;
    } catch (e) {
      last = e;
      await new Promise((res) => setTimeout(res, 200));
    }
  }
  throw new Error(`${subject} never answered through the sidecar: ${String(last)}`);
}

async function createAsWash(nc: NatsConnection, bucket: string): Promise<Record<string, unknown>> {
  // create_key_value asks for the account info first, then creates the stream.
  const info = JSON.parse((await nc.request("$JS.API.INFO", "", { timeout: 5000 })).string()) as { error?: unknown };
  assert.equal(info.error, undefined, JSON.stringify(info));
  const m = await nc.request(`$JS.API.STREAM.CREATE.KV_${bucket}`, JSON.stringify(asyncNatsDefaultKv(bucket)), { timeout: 5000 });
  return JSON.parse(m.string()) as Record<string, unknown>;
}

describe("wash 2.7 keyvalue open of the stretched bucket, through the host's leaf sidecar", () => {
  before(async () => {
    servers = await startSmallServers("washkv", 28000 + (process.pid % 9) * 100);
    r = servers.r;
  });
  after(async () => {
    for (const p of sidecars) p.kill("SIGKILL");
    await stopSmallServers(servers);
  });

  it("the pod's startup probe passes once the leaf is up, and not while the hub is out of reach (healthz alone would)", async () => {
    const cut = await sidecar(true, false);
    try {
      const healthz = ["wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${cut.monitor}/healthz`];
      assert.equal(probe(healthz), true, "healthz is already green without a leaf connection");
      assert.equal(probe(leafUpProbe(cut.monitor)), false);
    } finally {
      await cut.close();
    }
    const up = await sidecar(true);
    try {
      assert.equal(probe(leafUpProbe(up.monitor)), true);
    } finally {
      await up.close();
    }
  });

  it("without the mappings wash reaches no JetStream, and its create would be refused: the bucket exists with the spec's settings", async () => {
    const nc = await sidecar(false);
    try {
      await untilJetStreamAnswers(nc);
      await assert.rejects(nc.request("$JS.API.INFO", "", { timeout: 2000 }), /no responders/);
      await assert.rejects(nc.request("$KV.balances.k", "1", { timeout: 2000 }), /no responders/);
      // The same create in the lattice's domain, as if wash could address it.
      const d = r.spec.jetstream.domain;
      const res = JSON.parse(
        (
          await nc.request(`$JS.${d}.API.STREAM.CREATE.KV_balances`, JSON.stringify(asyncNatsDefaultKv("balances")), { timeout: 5000 })
        ).string(),
      ) as { error?: { err_code?: number; description?: string } };
      assert.equal(res.error?.err_code, 10058, JSON.stringify(res));
      assert.match(res.error!.description!, /already in use with a different configuration/);
      // Direct gets do not come back across the leaf, even in the domain: why the bucket does not allow them.
      await assert.rejects(nc.request(`$JS.${d}.API.DIRECT.GET.KV_balances.$KV.balances.k`, "", { timeout: 2000 }), /timeout/);
    } finally {
      await nc.close();
    }
  });

  it("with it, open gets the bucket as the spec declared it (R3, stretched), which async-nats reads as created", async () => {
    const nc = await sidecar(true);
    try {
      await untilJetStreamAnswers(nc);
      const res = (await createAsWash(nc, "balances")) as {
        error?: unknown;
        config?: { name: string; num_replicas: number; subjects: string[]; allow_direct?: boolean };
        created?: string;
        state?: unknown;
        cluster?: { name: string };
      };
      assert.equal(res.error, undefined, JSON.stringify(res));
      // The fields async-nats' `Info` needs, and the spec's settings rather than the defaults it asked for.
      assert.equal(res.config?.name, "KV_balances");
      assert.equal(res.config?.num_replicas, 3);
      assert.deepEqual(res.config?.subjects, ["$KV.balances.>"]);
      assert.ok(res.created && res.state);
      assert.equal(res.cluster?.name, r.spec.kv.find((k) => k.bucket === "balances")?.placement.cluster);
      // Then what the bound store does (async-nats 0.49.1 kv/mod.rs): puts and updates on `$KV.<bucket>.<key>`
      // (no JetStream prefix: the context's prefix is `$JS.API`), gets of a key's last message.
      const put = JSON.parse((await nc.request("$KV.balances.wash-open-test", "1", { timeout: 5000 })).string()) as {
        stream?: string;
        seq?: number;
      };
      assert.equal(put.stream, "KV_balances", JSON.stringify(put));
      // No direct gets on this bucket: async-nats reads the last message of the key from the leader.
      assert.equal((res.config as { allow_direct?: boolean }).allow_direct, false);
      const got = JSON.parse(
        (
          await nc.request("$JS.API.STREAM.MSG.GET.KV_balances", JSON.stringify({ last_by_subj: "$KV.balances.wash-open-test" }), {
            timeout: 5000,
          })
        ).string(),
      ) as { message?: { data: string; seq: number } };
      assert.equal(Buffer.from(got.message!.data, "base64").toString(), "1");
      assert.equal(got.message!.seq, put.seq);
      // increment: an update conditional on the revision read; a stale one is refused (wash reports the conflict).
      const upd = (seq: number) => {
        const h = headers();
        h.set("Nats-Expected-Last-Subject-Sequence", String(seq));
        return nc
          .request("$KV.balances.wash-open-test", "2", { timeout: 5000, headers: h })
          .then((m) => JSON.parse(m.string()) as { seq?: number; error?: { err_code?: number } });
      };
      assert.ok((await upd(put.seq!)).seq! > put.seq!);
      assert.equal((await upd(put.seq!)).error?.err_code, 10071);
      // A bucket the host's workloads do not declare is not mapped: it stays out of reach.
      await assert.rejects(nc.request("$KV.other.k", "1", { timeout: 2000 }), /no responders/);
    } finally {
      await nc.close();
    }
  });
});
