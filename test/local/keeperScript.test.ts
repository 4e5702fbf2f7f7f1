/**
 * The clouds' leader keeper (the compiled shell script over the `nats` CLI) against the real servers of the small
 * example: it places the stretched bucket's and the meta group's leaders at the tie-breaker site, and brings them
 * back after an election put them elsewhere. Run inside `unshare -n` (fixed loopback ports).
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import type { NatsConnection } from "@nats-io/transport-node";
import { KEEPER_ENV, leaderKeeperScript } from "../../src/compile/keeperScript";
import { stepdownRequest } from "../../src/compile/leaders";
import { connectLocal, serverUrls } from "../../src/local/client";
import { writeSecret, type LocalRender } from "../../src/local/state";
import { pidAlive, waitFor } from "../../src/local/supervisor";
import { natsCliBin } from "../../src/tools/pins";
import { leaderReader, moveLeaders } from "./helpers/leaders";
import { startSmallServers, stopSmallServers, type SmallServers } from "./helpers/servers";

let servers: SmallServers | undefined;
let r: LocalRender;
let nc: NatsConnection;
let sys: NatsConnection;
let leaders: Awaited<ReturnType<typeof leaderReader>>;
let keeper: ChildProcess | undefined;
let log = "";

function startScript(onOut: (s: string) => void = (s) => (log += s)): ChildProcess {
  const script = leaderKeeperScript(r.spec, r.topo);
  assert.ok(script);
  const tls = r.layout.env.tlsFiles("client");
  const creds = path.join(r.layout.stateDir, "keeper-client.creds");
  const sysCreds = path.join(r.layout.stateDir, "keeper-sys.creds");
  writeSecret(creds, r.creds.users.client!.creds);
  writeSecret(sysCreds, r.creds.users.sys!.creds);
  const tb = r.nats.servers.filter((s) => s.site === "tb").map((s) => s.name);
  const others = r.nats.servers.filter((s) => s.site !== "tb").map((s) => s.name);
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: r.layout.stateDir,
    [KEEPER_ENV.servers]: serverUrls(r, [...tb, ...others]).join(","),
    [KEEPER_ENV.creds]: creds,
    [KEEPER_ENV.sysCreds]: sysCreds,
    [KEEPER_ENV.tlsCert]: tls.cert_file,
    [KEEPER_ENV.tlsKey]: tls.key_file,
    [KEEPER_ENV.tlsCa]: tls.ca_file,
    [KEEPER_ENV.nats]: natsCliBin(),
  };
  const p = spawn("sh", ["-c", script], { env, stdio: ["ignore", "pipe", "pipe"] });
  p.stdout!.on("data", (d: Buffer) => onOut(d.toString()));
  p.stderr!.on("data", (d: Buffer) => onOut(d.toString()));
  return p;
}

describe("the clouds' leader keeper script (nats CLI) on the small example's servers", () => {
  before(async () => {
    servers = await startSmallServers("keeper-sh", 27000 + (process.pid % 9) * 100);
    r = servers.r;
    nc = await connectLocal(r);
    sys = await connectLocal(r, { user: "sys" });
    leaders = await leaderReader(r, nc);
  });
  after(async () => {
    if (keeper?.pid && pidAlive(keeper.pid)) keeper.kill("SIGKILL");
    await nc?.close();
    await sys?.close();
    await stopSmallServers(servers);
  });

  it("is a POSIX shell script (sh -n) that reads only its documented environment", () => {
    const script = leaderKeeperScript(r.spec, r.topo)!;
    const upper = new Set([...script.matchAll(/(?<!\\)\$\{?([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]!));
    assert.deepEqual(
      [...upper].filter((v) => !["SITE", "NATS", ...Object.values(KEEPER_ENV)].includes(v as never)),
      [],
    );
    for (const v of Object.values(KEEPER_ENV)) assert.ok(upper.has(v), `${v} is documented but never read`);
    const p = spawn("sh", ["-n", "-c", script]);
    return new Promise<void>((resolve, reject) => p.on("exit", (c) => (c === 0 ? resolve() : reject(new Error(`sh -n exit ${c}`)))));
  });

  it("places both leaders at the tie-breaker site, then brings them back after they were moved away", async () => {
    // Start from leaders in the clouds, as an election after a restart might leave them.
    const away = stepdownRequest(r.spec, "KV_balances", ["cloud:aws"]);
    if (leaders.siteOf((await leaders.read()).bucket) !== "aws") await nc.request(away.subject, away.body, { timeout: 5000 });
    keeper = startScript();
    const placed = await waitFor(() => leaders.bothAt("tb"), 20000, 200);
    assert.ok(placed, `not placed within 20 s: ${JSON.stringify(await leaders.read())}\n${log}`);
    assert.ok(await waitFor(() => /every kept leader at the site/.test(log), 5000, 100), log);
    // An election elsewhere, without anyone asking the keeper.
    await moveLeaders(r, nc, sys, "gcp", "aws");
    const t0 = Date.now();
    const back = await waitFor(() => leaders.bothAt("tb"), 20000, 200);
    assert.ok(back, `not back at tb after 20 s: ${JSON.stringify(await leaders.read())}\n${log}`);
    assert.match(log, /KV_balances: leader \S+ asked to step down to tb: done/);
    assert.match(log, /\$meta: leader \S+ asked to step down to tb: done/);
    console.log(`script keeper: leaders back at tb ${Date.now() - t0} ms after they were moved away`);
  });

  it("a second keeper (the other cloud's) running at once asks nothing once the leaders are placed", async () => {
    let out = "";
    const second = startScript((s) => (out += s));
    try {
      const before = await leaders.read();
      assert.ok(await waitFor(() => /every kept leader at the site/.test(out), 10000, 100), out);
      await new Promise((res) => setTimeout(res, 3000));
      assert.doesNotMatch(out, /asked to step down/);
      assert.deepEqual(await leaders.read(), before);
    } finally {
      second.kill("SIGKILL");
    }
  });
});
