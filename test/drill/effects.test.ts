/** Faults check their own effect: a kill of a process that is not there, or one that survived, shows none. */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { after, describe, it } from "node:test";
import { checkEffect } from "../../src/drill/effects";
import { inject, type Injected } from "../../src/drill/faults";
import type { LocalRender } from "../../src/local/state";
import type { Supervisor } from "../../src/local/supervisor";
import { judge } from "../../src/drill/verdict";
import { rep, run, workload } from "../evidence/fixtures";

const children: ChildProcess[] = [];
const sleeper = () => {
  const c = spawn("sleep", ["30"], { stdio: "ignore" });
  children.push(c);
  return c;
};
const r = {} as LocalRender;

describe("fault effects", () => {
  after(() => children.forEach((c) => c.kill("SIGKILL")));

  it("a kill of a process that is not running shows no effect, and the drill is INCONCLUSIVE", async () => {
    const sup = { processes: new Map(), kill: async () => {} } as unknown as Supervisor;
    const inj = await inject(r, sup, { kind: "host-crash", cloud: "aws", host: "nope" });
    inj.effect = await checkEffect(r, inj);
    assert.deepEqual(inj.effect, { ok: false, detail: "host-nope was not running" });
    const j = judge(run([rep([workload("validator", 0, 5000)], { faults: [inj] })]));
    assert.equal(j.outcome, "inconclusive");
    assert.match(j.reason, /^fault-without-effect: repetition 1: host-crash did not take effect: host-nope was not running/);
  });

  it("a killed process is gone; one still running is reported", async () => {
    const c = sleeper();
    const step = { kind: "host-crash" as const, cloud: "aws", host: "h" };
    const alive: Injected = { step, processes: ["host-h"], action: "killed", pids: { "host-h": c.pid! } };
    assert.match((await checkEffect(r, alive)).detail, new RegExp(`host-h \\(pid ${c.pid}\\) is still running`));
    c.kill("SIGKILL");
    await new Promise((res) => c.once("exit", res));
    assert.equal((await checkEffect(r, alive)).ok, true);
  });

  it("a frozen process is stopped (state T); a running one is not", async () => {
    const c = sleeper();
    const inj: Injected = {
      step: { kind: "blackhole", cloud: "aws", durationMs: 1000 },
      processes: ["aws-1"],
      action: "frozen",
      pids: { "aws-1": c.pid! },
    };
    assert.equal((await checkEffect(r, inj)).ok, false);
    process.kill(c.pid!, "SIGSTOP");
    await new Promise((res) => setTimeout(res, 50));
    assert.deepEqual(await checkEffect(r, inj), { ok: true, detail: "1 process(es) stopped: aws-1" });
  });

  it("a skipped fault took no effect", async () => {
    const inj: Injected = { step: { kind: "latency", between: ["aws", "gcp"] }, processes: [], action: "skipped", reason: "no netem" };
    assert.deepEqual(await checkEffect(r, inj), { ok: false, detail: "not injected: no netem" });
  });
});
