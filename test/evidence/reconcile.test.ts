/**
 * The drill's measurements can see failure: against a real nats-server (the pinned version, JetStream on,
 * loopback; run in a network namespace), an acknowledged message deleted from the copy is counted lost and the
 * drill BREACHED; a message stored twice is a duplicate; a ledger balance short of its acknowledged updates is
 * loss even when every marker survived; an update applied twice is a duplicate; an unreachable bucket is no
 * measurement (INCONCLUSIVE, never MET).
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { judge } from "../../src/drill/verdict";
import { reconcileAgainst, reconcileLedger, reconcileStream, type PublishRecord } from "../../src/drill/probes";
import { natsServerBin } from "../../src/tools/pins";
import { rep, run, workload } from "./fixtures";

const tmp = mkdtempSync(path.join(tmpdir(), "lf-reconcile-"));
const port = 24000 + (process.pid % 1000);
let server: ChildProcess;
let nc: NatsConnection;

async function publishAll(subject: string, n: number, prefix: string): Promise<PublishRecord[]> {
  const js = jetstream(nc);
  const acked: PublishRecord[] = [];
  for (let i = 0; i < n; i++) {
    const id = `${prefix}-${i}`;
    const pa = await js.publish(subject, id, { msgID: id });
    acked.push({ msgId: id, seq: pa.seq, t: i });
  }
  return acked;
}

describe("reconciliation sees failure (real nats-server)", () => {
  before(async () => {
    server = spawn(natsServerBin(), ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", tmp], { stdio: "ignore" });
    for (let i = 0; i < 100 && !nc; i++) {
      nc = await connect({ servers: `127.0.0.1:${port}`, timeout: 500 }).catch(async () => {
        await new Promise((r) => setTimeout(r, 100));
        return undefined as unknown as NatsConnection;
      });
    }
    assert.ok(nc, "nats-server did not start");
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "PAYMENTS", subjects: ["payments.events.>"] });
  });
  after(async () => {
    await nc?.close().catch(() => {});
    server?.kill("SIGKILL");
    rmSync(tmp, { recursive: true, force: true });
  });

  it("a complete copy reconciles with nothing lost, duplicated or out of order", async () => {
    const acked = await publishAll("payments.events.ok", 30, "ok");
    const rec = await reconcileStream(nc, undefined, "PAYMENTS", "PAYMENTS", "payments.events.ok", acked);
    assert.deepEqual([rec.acked, rec.recovered, rec.lost, rec.duplicated, rec.outOfOrder], [30, 30, 0, 0, 0]);
  });

  it("an acknowledged message deleted from the copy is lost, and the drill BREACHED", async () => {
    const acked = await publishAll("payments.events.del", 20, "del");
    const jsm = await jetstreamManager(nc);
    await jsm.streams.deleteMessage("PAYMENTS", acked[7]!.seq);
    const rec = await reconcileStream(nc, undefined, "PAYMENTS", "PAYMENTS", "payments.events.del", acked);
    assert.equal(rec.lost, 1);
    assert.deepEqual(rec.lostIds, ["del-7"]);
    const clean = rep([workload("validator", 100, 5000)]);
    const j = judge(run([{ ...clean, streams: [{ ...clean.streams[0]!, ...rec }] }]));
    assert.equal(j.outcome, "breached");
    assert.match(j.reason, /^acknowledged-loss: .*1 of 20 acknowledged message\(s\) missing from PAYMENTS/);
  });

  it("a message stored twice is counted as a duplicate (the copy is scanned, not looked up by sequence)", async () => {
    const acked = await publishAll("payments.events.dup", 10, "dup");
    // The same message again without its Nats-Msg-Id: JetStream cannot de-duplicate it.
    await jetstream(nc).publish("payments.events.dup", "dup-3");
    const rec = await reconcileStream(nc, undefined, "PAYMENTS", "PAYMENTS", "payments.events.dup", acked);
    assert.equal(rec.duplicated, 1);
    assert.equal(rec.lost, 0);
  });

  it("order is measured in the copy: a message stored before one acknowledged earlier is out of order", () => {
    const acked = [1, 2, 3].map((seq) => ({ msgId: `m${seq}`, seq, t: seq }));
    assert.equal(reconcileAgainst("S", "S", ["m1", "m3", "m2"], acked).outOfOrder, 1);
    assert.equal(reconcileAgainst("S", "S", ["m1", "m2", "m3"], acked).outOfOrder, 0);
  });

  it("a copy that cannot be read is an error, not zero lost", async () => {
    await assert.rejects(
      reconcileStream(nc, undefined, "PAYMENTS", "NO_SUCH_COPY", "payments.events.ok", [], { timeoutMs: 1500 }),
      /could not read NO_SUCH_COPY/,
    );
  });

  describe("ledger", () => {
    const ids = (acct: string, n: number) => Array.from({ length: n }, (_, i) => `${acct}-${i}`);
    /** The ledger's layout: credit/debit counters (u64 big-endian) and one marker per applied update. */
    async function account(acct: string, balance: number, markers: string[]): Promise<void> {
      const kv = await new Kvm(nc).create("balances", { history: 1 });
      const u64 = (n: number) => {
        const b = Buffer.alloc(8);
        b.writeBigUInt64BE(BigInt(n));
        return b;
      };
      await kv.put(`credit.drill-${acct}`, u64(balance + 2));
      await kv.put(`debit.drill-${acct}`, u64(2));
      for (const m of markers) await kv.put(`applied.${m}`, JSON.stringify({ account: `drill-${acct}`, delta: 1 }));
    }
    const reconcile = (acct: string, acked: string[]) =>
      reconcileLedger(nc, undefined, "balances", [{ account: `drill-${acct}`, ackedIds: acked, idPrefix: `${acct}-`, sent: 10 }]);

    it("a balance equal to its acknowledged updates reconciles; unacknowledged but applied updates count as applied", async () => {
      const all = ids("good", 10);
      await account("good", 10, all);
      const rec = await reconcile("good", all.slice(0, 8));
      assert.deepEqual([rec.acked, rec.lost, rec.duplicated, rec.balanceShortfall], [8, 0, 0, 0]);
    });

    it("a lost balance update whose marker survived is counted lost, and the drill BREACHED", async () => {
      const all = ids("short", 10);
      await account("short", 9, all);
      const rec = await reconcile("short", all);
      assert.deepEqual([rec.lost, rec.balanceShortfall, rec.lostIds.length], [1, 1, 0]);
      const w = { ...workload("ledger", 900, 10000), ledger: rec };
      assert.equal(judge(run([rep([w])])).outcome, "breached");
    });

    it("a balance within the updates that could have been applied is no duplicate (a crashed host may lose a marker)", async () => {
      const all = ids("unknown", 10);
      // 0-7 acknowledged and marked; 8 and 9 failed at the client, and one of them was applied without a marker.
      await account("unknown", 9, all.slice(0, 8));
      const rec = await reconcile("unknown", all.slice(0, 8));
      assert.deepEqual([rec.lost, rec.duplicated], [0, 0]);
      assert.deepEqual(rec.accounts, [{ account: "drill-unknown", balance: 9, knownApplied: 8, unknownFate: 2 }]);
    });

    it("an update applied twice is counted as a duplicate", async () => {
      const all = ids("twice", 10);
      await account("twice", 11, all);
      const rec = await reconcile("twice", all);
      assert.deepEqual([rec.lost, rec.duplicated], [0, 1]);
      const w = { ...workload("ledger", 900, 10000), ledger: rec };
      assert.match(judge(run([rep([w])])).reason, /^integrity: .*1 update\(s\) applied more than once/);
    });

    it("a bucket that cannot be reached during reconciliation is no measurement: INCONCLUSIVE, not MET", async () => {
      await assert.rejects(
        reconcileLedger(nc, undefined, "no_such_bucket", [{ account: "drill-x", ackedIds: ["x-1"], idPrefix: "x-", sent: 2 }]),
        /KV bucket no_such_bucket: stream not found/,
      );
      const w = { ...workload("ledger", 900, 10000), ledgerError: "could not open KV bucket no_such_bucket" };
      const j = judge(run([rep([w])]));
      assert.equal(j.outcome, "inconclusive");
      assert.match(j.reason, /^measurement-failed: /);
    });
  });
});
