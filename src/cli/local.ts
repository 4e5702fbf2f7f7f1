/** `up --local`, `down`, `call` and `status`: the local lattice from the command line. */
import { existsSync } from "node:fs";
import type { Command } from "commander";
import { connectLocal } from "../local/client";
import { collectHeartbeats, upLocal } from "../local/lattice";
import { defaultStateDir, openLocal, reapStack, renderLocal, type LocalRender } from "../local/state";
import { httpGet, Supervisor } from "../local/supervisor";
import type { LatticeSpec } from "../model/schema";
import { loadStack } from "../model/load";
import { HEARTBEAT_MS } from "../local/host/constants";
import type { Heartbeat } from "../local/host/host";
import type { CliContext } from "./commands";
import { stackOption } from "./options";

/** Request one workload through the lattice from a client in `cloud`; returns reply, serving host and cloud. */
export async function callWorkload(
  r: LocalRender,
  workload: string,
  payload: string,
  opts: { cloud?: string; timeoutMs?: number } = {},
): Promise<{ reply: string; host?: string; cloud?: string; error?: string; ms: number }> {
  const w = r.spec.workloads.find((x) => x.name === workload);
  if (!w) throw new Error(`no workload ${workload} (have ${r.spec.workloads.map((x) => x.name).join(", ")})`);
  const cloud = opts.cloud ?? r.spec.clouds[0]!.name;
  // Enter where a client of that cloud would: a leaf sidecar of the cloud if there is one, else its hubs.
  const leaf = r.nats.leafs.find((l) => l.site === cloud);
  const servers = leaf ? [leaf.name] : r.nats.servers.filter((s) => s.cluster === cloud).map((s) => s.name);
  const nc = await connectLocal(r, { servers, name: "latticeform call" });
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

export function formatTable(rows: readonly Record<string, string>[], columns: readonly string[]): string {
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? "").length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => v.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...rows.map((r) => line(columns.map((c) => r[c] ?? "")))].join("\n");
}

/**
 * Stop whatever any command left for this stack (a running `up` or drill, or one that was killed): processes,
 * faults still in force (nftables tables, tc qdiscs, processes stopped by a blackhole); then remove its state,
 * secrets included. One line per thing done.
 */
export function downLocal(stack: string, spec?: LatticeSpec): { lines: string[]; killed: number; removed: boolean } {
  const existed = existsSync(defaultStateDir(stack));
  const reaped = reapStack(stack, { force: true, spec });
  return { lines: reaped.lines, killed: reaped.killed, removed: existed };
}

/** Before `up`: reap what a killed `up` or drill of this stack left, say so, and refuse a second live `up`. */
export function reapBeforeUp(stack: string, log: (line: string) => void): void {
  const reaped = reapStack(stack);
  for (const line of reaped.lines) log(`reaped ${line}`);
  if (reaped.busyUp)
    throw new Error(
      `stack ${stack} is already up (pid ${reaped.busyUp.pid}); stop it with Ctrl-C there, or run latticeform down --stack ${stack}`,
    );
}

export function registerLocalCommands(program: Command, ctx: CliContext): void {
  program
    .command("up")
    .description("boot the stack's lattice; --local runs it on this machine with real nats-server processes and Wasm hosts")
    .addOption(stackOption())
    .option("--local", "run on this machine (the only target without a cloud; `pulumi up` deploys to the clouds)")
    .option("--once", "exit after the lattice is ready and one status is printed (for scripts)")
    .action(async (opts: { stack: string; local?: boolean; once?: boolean }) => {
      try {
        if (!opts.local) throw new Error("only --local is supported here; deploy to the clouds with `pulumi up --stack <name>`");
        const { ref, spec } = loadStack(opts.stack);
        reapBeforeUp(ref.name, (line) => process.stdout.write(line + "\n"));
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
        try {
          await upLocal(r, sup, (s) => process.stdout.write(s + "\n"));
        } catch (e) {
          await sup.stopAll();
          throw e;
        }
        const print = async () => {
          const rows = await latticeStatus(r);
          process.stdout.write(`\n${new Date().toISOString()} lattice ${spec.name} (stack ${ref.name}, state ${r.layout.stateDir})\n`);
          process.stdout.write(
            formatTable(rows as unknown as Record<string, string>[], ["kind", "name", "cloud", "health", "detail"]) + "\n",
          );
        };
        await print();
        if (opts.once) return stop(0);
        process.stdout.write("\nCtrl-C stops everything this command started.\n");
        setInterval(() => void print().catch(() => {}), 10000);
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
        const { ref, spec } = loadStack(opts.stack);
        const { lines, killed, removed } = downLocal(ref.name, spec);
        for (const line of lines) process.stdout.write(line + "\n");
        process.stdout.write(`stack ${ref.name}: stopped ${killed} process(es); ${removed ? "removed" : "no"} state dir\n`);
      } catch (e) {
        ctx.fail(e);
      }
    });

  program
    .command("call")
    .description("send one request to a workload through the local lattice; prints the reply and who served it")
    .addOption(stackOption())
    .option("--cloud <cloud>", "cloud the request enters from (default: the first)")
    .argument("<workload>")
    .argument("<payload>")
    .action(async (workload: string, payload: string, opts: { stack: string; cloud?: string }) => {
      try {
        const { ref } = loadStack(opts.stack);
        const r = await openLocal(defaultStateDir(ref.name));
        const res = await callWorkload(r, workload, payload, { cloud: opts.cloud });
        process.stdout.write(`${res.reply}\n`);
        process.stderr.write(
          `served by ${res.host ?? "?"} in ${res.cloud ?? "?"} (${res.ms.toFixed(1)} ms)${res.error ? `, error: ${res.error}` : ""}\n`,
        );
        if (res.error) process.exit(1);
      } catch (e) {
        ctx.fail(e);
      }
    });

  program
    .command("status")
    .description("every server and Wasm host of a local lattice, its cloud, workloads and health")
    .addOption(stackOption())
    .option("--json", "machine-readable output")
    .action(async (opts: { stack: string; json?: boolean }) => {
      try {
        const { ref } = loadStack(opts.stack);
        const r = await openLocal(defaultStateDir(ref.name));
        const rows = await latticeStatus(r);
        if (opts.json) process.stdout.write(JSON.stringify(rows, null, 2) + "\n");
        else
          process.stdout.write(
            formatTable(rows as unknown as Record<string, string>[], ["kind", "name", "cloud", "health", "detail"]) + "\n",
          );
      } catch (e) {
        ctx.fail(e);
      }
    });
}
