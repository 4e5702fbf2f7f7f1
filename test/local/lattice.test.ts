/**
 * The local lattice end to end: the small example with real nats-server processes and real Wasm hosts.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { buildCredentials } from "../../src/compile/credentials";
import { callWorkload, latticeStatus } from "../../src/cli/local";
import { WasmHost } from "../../src/local/host/host";
import { upLocal } from "../../src/local/lattice";
import { renderLocal, type LocalRender } from "../../src/local/state";
import { busyPorts, pidAlive, Supervisor, waitFor } from "../../src/local/supervisor";
import { readStackConfig } from "../../src/model/load";
import { topologyOf } from "../../src/model/topology";
import { parseLattice } from "../../src/model/validate";
import { testStateDir } from "./helpers/state";
import { samplePayment } from "../../src/lib/samples";

const stateDir = testStateDir("lf-lattice-");
let r: LocalRender;
let sup: Supervisor;
const payment = samplePayment("p1");

describe("local lattice (small example, real Wasm hosts)", () => {
  before(async () => {
    const raw = structuredClone(readStackConfig("stacks/Pulumi.small.yaml")) as { workloads: unknown[] } & Record<string, unknown>;
    // Faulty guests to prove the sandbox: one traps, one loops forever.
    raw.workloads.push(
      { name: "trap", artifact: { path: "workloads/build/trap.wasm" }, subject: "test.trap" },
      { name: "loop", artifact: { path: "workloads/build/loop.wasm" }, subject: "test.loop", limits: { timeoutMs: 200 } },
      // Another toolchain's component (JavaScript, ComponentizeJS: several core modules, the general path).
      { name: "echo-js", artifact: { path: "workloads/build/echo-js.wasm" }, subject: "test.echo-js" },
    );
    raw.local = { basePort: 31000 + (process.pid % 9) * 100 };
    r = await renderLocal(parseLattice(raw), "lattice-test", stateDir);
    sup = new Supervisor(stateDir);
    await upLocal(r, sup);
  });

  after(async () => {
    const pids = sup?.pids() ?? [];
    await sup?.stopAll();
    // Nothing left behind: no process, no port.
    for (const pid of pids) assert.equal(pidAlive(pid), false, `pid ${pid} still alive`);
    if (r) assert.deepEqual(await busyPorts(r.layout.allPorts), []);
    rmSync(stateDir, { recursive: true, force: true });
  });

  it("runs a ComponentizeJS component unchanged: served by a host of each cloud through its leaf", async () => {
    for (const cloud of ["aws", "gcp"]) {
      const v = await callWorkload(r, "echo-js", payment, { cloud });
      assert.equal(v.error, undefined, v.reply);
      const reply = JSON.parse(v.reply) as { runtime: string; subject: string; echoed: { id: string } };
      assert.deepEqual([reply.runtime, reply.subject, reply.echoed.id], ["componentize-js", "test.echo-js", "p1"]);
      assert.equal(v.cloud, cloud);
    }
  });

  it("answers every workload through a leaf in each cloud, preferring the requester's own cloud", async () => {
    for (const cloud of ["aws", "gcp"]) {
      const v = await callWorkload(r, "validator", payment, { cloud });
      assert.equal(v.error, undefined);
      assert.deepEqual(JSON.parse(v.reply).valid, true);
      // Active-active: NATS prefers the queue member in the requester's own cluster.
      assert.equal(v.cloud, cloud);
      const l = await callWorkload(r, "ledger", JSON.stringify({ id: `t-${cloud}`, account: "acc-1", delta: 10 }), { cloud });
      assert.equal(l.error, undefined, l.reply);
      // Active-passive: the primary (aws) serves while it lives.
      assert.equal(l.cloud, "aws");
    }
  });

  it("concurrent ledger updates of one account through the lattice: increments retried on conflict lose none", async () => {
    const n = 30;
    // The account exists before the storm: wash's increment of a missing key is a plain put (ARCHITECTURE.md).
    const seed = await callWorkload(r, "ledger", JSON.stringify({ id: "hot-seed", account: "hot", delta: 1 }), {
      cloud: "aws",
      timeoutMs: 10000,
    });
    assert.equal(JSON.parse(seed.reply).applied, true, seed.reply);
    const replies = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        callWorkload(r, "ledger", JSON.stringify({ id: `hot-${i}`, account: "hot", delta: 1 }), {
          cloud: i % 2 ? "aws" : "gcp",
          timeoutMs: 10000,
        }),
      ),
    );
    for (const l of replies) assert.equal(JSON.parse(l.reply).applied, true, l.reply);
    const last = await callWorkload(r, "ledger", JSON.stringify({ id: "hot-0", account: "hot", delta: 1 }), {
      cloud: "aws",
      timeoutMs: 10000,
    });
    assert.deepEqual(JSON.parse(last.reply), { account: "hot", balance: n + 1, applied: false, duplicate: true });
  });

  it("rejects a bad payment with reasons", async () => {
    const v = await callWorkload(r, "validator", JSON.stringify({ id: "p2", amount: -5, currency: "XXX", iban: "DE00" }), { cloud: "gcp" });
    const body = JSON.parse(v.reply) as { valid: boolean; reasons: string[] };
    assert.equal(body.valid, false);
    assert.ok(body.reasons.length >= 2);
  });

  it("a trapping or looping module returns an error and the host lives", async () => {
    const hostPid = sup.processes.get("host-gcp-hosts-1")!.pid;
    const t = await callWorkload(r, "trap", "{}", { cloud: "gcp" });
    assert.equal(t.error, "trap");
    const l = await callWorkload(r, "loop", "{}", { cloud: "gcp", timeoutMs: 5000 });
    assert.equal(l.error, "timeout");
    assert.ok(pidAlive(hostPid));
    const v = await callWorkload(r, "validator", payment, { cloud: "gcp" });
    assert.equal(JSON.parse(v.reply).valid, true);
  });

  it("status shows every host with its cloud and workloads", async () => {
    const rows = await latticeStatus(r);
    const hosts = rows.filter((x) => x.kind === "host");
    assert.deepEqual(
      hosts.map((h) => [h.name, h.cloud, h.health]),
      [
        ["aws-hosts-1", "aws", "ok"],
        ["gcp-hosts-1", "gcp", "ok"],
      ],
    );
    assert.match(hosts[0]!.detail, /ledger:serving/);
    assert.match(hosts[1]!.detail, /ledger:standby/);
    assert.ok(rows.filter((x) => x.kind !== "host").every((x) => x.health === "ok"));
  });

  it("refuses a host with credentials from another operator", async () => {
    const other = await buildCredentials(r.spec, topologyOf(r.spec), new Uint8Array(32).fill(5), 1_700_000_000);
    const forged: LocalRender = { ...r, creds: other };
    const host = new WasmHost(forged, r.topo.hosts[0]!);
    await assert.rejects(host.start(), /Authorization|authorization/);
    await host.stop();
  });

  it("when a host dies, the survivors serve: active-active at once, active-passive after promotion", async () => {
    await sup.kill("host-aws-hosts-1");
    const v = await callWorkload(r, "validator", payment, { cloud: "aws" });
    assert.equal(v.cloud, "gcp");
    let served: string | undefined;
    const promoted = await waitFor(
      async () => {
        const l = await callWorkload(r, "ledger", JSON.stringify({ id: `after-${Date.now()}`, account: "acc-1", delta: 1 }), {
          cloud: "aws",
          timeoutMs: 300,
        }).catch(() => undefined);
        served = l?.cloud;
        return served === "gcp" && !l?.error;
      },
      10000,
      100,
    );
    assert.ok(promoted, `the gcp standby was not promoted (last served by ${served})`);
  });
});
