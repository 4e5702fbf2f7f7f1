/** `up --local`, `down`, `call` and `status`: the local lattice from the command line. */
import { existsSync, rmSync } from "node:fs";
import * as path from "node:path";
import { Option, type Command } from "commander";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectLocal } from "../local/client";
import { collectHeartbeats, upLocal } from "../local/lattice";
import { defaultStateDir, openLocal, renderLocal, type LocalRender } from "../local/state";
import { httpGet, sleep, Supervisor } from "../local/supervisor";
import { loadStack, resolveStack } from "../model/load";
import { HEARTBEAT_MS } from "../local/host/constants";
import type { Heartbeat } from "../local/host/host";
import { assertPreflight, livePids, upTarget } from "../preflight/preflight";
import { EXIT_FAILED, EXIT_OK, isConnectionRefused, UserError } from "./errors";
import { formatTable } from "./format";
import { stackOption, type CliContext } from "./options";
import { progress } from "./progress";

/** Request one workload through the lattice from a client in `cloud`; returns reply, serving host and cloud. */
export async function callWorkload(
  r: LocalRender,
  workload: string,
  payload: string,
  opts: { cloud?: string; timeoutMs?: number } = {},
): Promise<{ reply: string; host?: string; cloud?: string; error?: string; ms: number }> {
  const w = r.spec.workloads.find((x) => x.name === workload);
  if (!w) throw new UserError(`no workload ${workload}`, `name one of ${r.spec.workloads.map((x) => x.name).join(", ")}`);
  const cloud = opts.cloud ?? r.spec.clouds[0]!.name;
  if (!r.spec.clouds.some((c) => c.name === cloud))
    throw new UserError(`no cloud ${cloud}`, `give --cloud one of ${r.spec.clouds.map((c) => c.name).join(", ")}`);
  // Enter where a client of that cloud would: a leaf sidecar of the cloud if there is one, else its hubs.
  const leaf = r.nats.leafs.find((l) => l.site === cloud);
  const servers = leaf ? [leaf.name] : r.nats.servers.filter((s) => s.cluster === cloud).map((s) => s.name);
  let nc: NatsConnection;
  try {
    nc = await connectLocal(r, { servers, name: "latticeform call" });
  } catch (e) {
    if (isConnectionRefused(e)) throw notRunning(r.stack, `no server of cloud ${cloud} answered`);
    throw e;
  }
  try {
    const t0 = performance.now();
    const m = await nc.request(w.subject, payload, { timeout: opts.timeoutMs ?? 5000 });
    return {
      reply: m.string(),
      host: m.headers?.get("lf-host"),
      cloud: m.headers?.get("lf-cloud"),
      error: m.headers?.get("lf-error") || undefined,
      ms: performance.now() - t0,
    };
  } finally {
    await nc.close();
  }
}

export interface StatusRow {
  readonly kind: string;
  readonly name: string;
  readonly cloud: string;
  readonly health: string;
  readonly detail: string;
}

/** Healthy means every server, leaf sidecar and host answers. */
export const allHealthy = (rows: readonly StatusRow[]): boolean => rows.length > 0 && rows.every((r) => r.health === "ok");

export async function latticeStatus(r: LocalRender): Promise<StatusRow[]> {
  const rows: StatusRow[] = [];
  for (const s of [...r.nats.servers, ...r.nats.leafs]) {
    let health = "down";
    try {
      const h = await httpGet(s.monitorPort, "/healthz", 500);
      health = h.status === 200 ? "ok" : `unhealthy (${h.status})`;
    } catch {
      health = "down";
    }
    rows.push({
      kind: s.kind,
      name: s.name,
      cloud: s.site,
      health,
      detail: s.kind === "leaf" ? `client :${s.clientPort}` : `cluster ${s.cluster}, client :${s.clientPort}`,
    });
  }
  let beats = new Map<string, Heartbeat>();
  try {
    const nc = await connectLocal(r, { servers: r.nats.servers.map((s) => s.name), name: "latticeform status" });
    try {
      beats = await collectHeartbeats(r, nc, HEARTBEAT_MS * 3);
    } finally {
      await nc.close();
    }
  } catch {
    // no hub reachable: every host shows as silent
  }
  for (const h of r.topo.hosts) {
    const hb = beats.get(h.name);
    rows.push({
      kind: "host",
      name: h.name,
      cloud: h.cloud,
      health: hb ? "ok" : "silent",
      detail: hb
        ? hb.workloads
            .map(
              (w) =>
                `${w.name}:${w.runnable ? (w.serving ? "serving" : "standby") : "not runnable"} (${w.served} served, ${w.errors} errors)`,
            )
            .join(", ") + ` via ${h.connection}`
        : "no heartbeat",
    });
  }
  return rows;
}

/** Stop whatever processes a running `up` of this stack recorded, then remove its state dir. */
export function downLocal(stack: string): { killed: number[]; removed: boolean } {
  const dir = defaultStateDir(stack);
  const killed: number[] = [];
  for (const pid of livePids(dir)) {
    try {
      process.kill(pid, "SIGKILL");
      killed.push(pid);
    } catch {
      // already gone
    }
  }
  const existed = existsSync(dir);
  rmSync(dir, { recursive: true, force: true });
  return { killed, removed: existed };
}

const notRunning = (stack: string, why: string) =>
  new UserError(`the local lattice of stack ${stack} is not running (${why})`, `start it with \`latticeform up --local --stack ${stack}\``);

/** The rendered lattice of a running (or stopped) `up`, or a one-line error saying how to start one. */
async function openStack(stack: string): Promise<LocalRender> {
  const dir = defaultStateDir(stack);
  if (!existsSync(path.join(dir, "spec.json"))) throw notRunning(stack, `nothing in ${dir}`);
  return openLocal(dir);
}

const STATUS_COLUMNS = ["kind", "name", "cloud", "health", "detail"];
const statusTable = (rows: readonly StatusRow[]) => formatTable(rows as unknown as Record<string, string>[], STATUS_COLUMNS);

/** `status`: 0 when every server, leaf and host is healthy (waiting up to `wait` seconds for it), else 1. */
async function statusCommand(opts: { stack: string; json?: boolean; wait?: string }): Promise<number> {
  const waitS = opts.wait === undefined ? 0 : Number(opts.wait);
  if (!Number.isFinite(waitS) || waitS < 0 || waitS > 3600)
    throw new UserError(`--wait ${opts.wait} is not a number of seconds`, "give 0 to 3600");
  const ref = resolveStack(opts.stack);
  const dir = defaultStateDir(ref.name);
  const say = progress();
  const deadline = Date.now() + waitS * 1000;
  let rows: StatusRow[] = [];
  let running = false;
  for (let i = 0; i < 3600; i++) {
    running = existsSync(path.join(dir, "spec.json"));
    rows = running ? await latticeStatus(await openLocal(dir)) : [];
    if (allHealthy(rows) || Date.now() >= deadline) break;
    say(
      `waiting for stack ${ref.name}: ${running ? `${rows.filter((r) => r.health === "ok").length} of ${rows.length} healthy` : "no lattice yet"}`,
    );
    await sleep(Math.min(1000, Math.max(0, deadline - Date.now())));
  }
  const healthy = allHealthy(rows);
  if (opts.json) process.stdout.write(JSON.stringify({ stack: ref.name, stateDir: dir, running, healthy, rows }, null, 2) + "\n");
  else if (!running)
    process.stdout.write(
      `stack ${ref.name}: no local lattice (nothing in ${dir}); start it with \`latticeform up --local --stack ${ref.name}\`\n`,
    );
  else process.stdout.write(statusTable(rows) + "\n");
  if (!healthy && !opts.json && running)
    process.stderr.write(`stack ${ref.name}: ${rows.filter((r) => r.health !== "ok").length} of ${rows.length} not healthy\n`);
  return healthy ? EXIT_OK : EXIT_FAILED;
}

/** `up --local`: refuse before any process starts when anything would trip the boot, then run in the foreground. */
async function upCommand(opts: { stack: string; local?: boolean; target?: string; once?: boolean }): Promise<void> {
  if (!opts.local && opts.target !== "local")
    throw new UserError(
      "up needs a target",
      `add --local to run the lattice on this machine (latticeform up --local --stack ${opts.stack}); the clouds deploy with \`pulumi up --stack ${opts.stack}\``,
    );
  const { ref, spec } = loadStack(opts.stack);
  const say = progress();
  say(`checking artifacts, nats-server, state dir and ports of stack ${ref.name}`);
  await assertPreflight(spec, ref.name, upTarget(ref.name));
  const r = await renderLocal(spec, ref.name);
  const sup = new Supervisor(r.layout.stateDir);
  const stop = async (code: number) => {
    process.stdout.write("\nstopping the lattice...\n");
    await sup.stopAll();
    process.exit(code);
  };
  process.removeAllListeners("SIGINT");
  process.removeAllListeners("SIGTERM");
  process.once("SIGINT", () => void stop(0));
  process.once("SIGTERM", () => void stop(0));
  say(`booting ${r.nats.servers.length} servers, ${r.nats.leafs.length} leaf sidecars and ${r.topo.hosts.length} Wasm hosts`);
  try {
    await upLocal(r, sup, say);
  } catch (e) {
    await sup.stopAll();
    throw e;
  }
  const print = async () => {
    const rows = await latticeStatus(r);
    process.stdout.write(`\n${new Date().toISOString()} lattice ${spec.name} (stack ${ref.name}, state ${r.layout.stateDir})\n`);
    process.stdout.write(statusTable(rows) + "\n");
  };
  await print();
  if (opts.once) return stop(0);
  process.stdout.write("\nCtrl-C stops everything this command started.\n");
  setInterval(() => void print().catch(() => {}), 10000);
}

export function registerLocalCommands(program: Command, ctx: CliContext): void {
  program
    .command("up")
    .description("boot the stack's lattice on this machine (--local) with real nats-server processes and Wasm hosts, in the foreground")
    .addOption(stackOption())
    .option("--local", "run on this machine (the only target of `up`; `pulumi up` deploys to the clouds)")
    .addOption(new Option("--target <where>", "same as --local").choices(["local"]))
    .option("--once", "exit after the lattice is ready and one status is printed (for scripts)")
    .action(async (opts: { stack: string; local?: boolean; target?: string; once?: boolean }) => {
      try {
        await upCommand(opts);
      } catch (e) {
        ctx.fail(e);
      }
    });

  program
    .command("down")
    .description("stop a local lattice's processes and remove its state dir")
    .addOption(stackOption())
    .action((opts: { stack: string }) => {
      try {
        const ref = resolveStack(opts.stack);
        const { killed, removed } = downLocal(ref.name);
        process.stdout.write(
          `stack ${ref.name}: stopped ${killed.length} process(es)${killed.length ? ` (${killed.join(", ")})` : ""}; ${removed ? "removed" : "no"} state dir\n`,
        );
      } catch (e) {
        ctx.fail(e);
      }
    });

  program
    .command("call")
    .description(
      "send one request to a workload through the local lattice; prints the reply and who served it (exit 1: no reply or an error reply)",
    )
    .addOption(stackOption())
    .option("--cloud <cloud>", "cloud the request enters from (default: the first)")
    .argument("<workload>")
    .argument("<payload>")
    .action(async (workload: string, payload: string, opts: { stack: string; cloud?: string }) => {
      try {
        const ref = resolveStack(opts.stack);
        const r = await openStack(ref.name);
        const res = await callWorkload(r, workload, payload, { cloud: opts.cloud });
        process.stdout.write(`${res.reply}\n`);
        process.stderr.write(
          `served by ${res.host ?? "?"} in ${res.cloud ?? "?"} (${res.ms.toFixed(1)} ms)${res.error ? `, error: ${res.error}` : ""}\n`,
        );
        if (res.error) process.exit(EXIT_FAILED);
      } catch (e) {
        ctx.fail(e);
      }
    });

  program
    .command("status")
    .description("every server, leaf and Wasm host of a local lattice, its cloud, workloads and health (exit 0: all healthy, 1: not)")
    .addOption(stackOption())
    .option("--json", "machine-readable output: { stack, stateDir, running, healthy, rows }")
    .option("--wait <seconds>", "wait up to this long for every server, leaf and host to be healthy")
    .action(async (opts: { stack: string; json?: boolean; wait?: string }) => {
      try {
        process.exit(await statusCommand(opts));
      } catch (e) {
        ctx.fail(e);
      }
    });
}
