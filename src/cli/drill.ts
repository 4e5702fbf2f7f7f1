/** `latticeform drill`: run a failover drill on the local lattice and write the evidence pack. */
import * as path from "node:path";
import type { Command } from "commander";
import { executeDrill } from "../drill/drill";
import { verifyDrillEvidence, writeDrillEvidence } from "../drill/pack";
import { plansFor } from "../drill/plans";
import type { DrillPlan } from "../drill/runner";
import { loadStack, REPO_ROOT } from "../model/load";
import { SpecError } from "../model/validate";
import type { LatticeSpec } from "../model/schema";
import { HEARTBEAT_MS, PRIMARY_DEAD_MS } from "../local/host/constants";
import type { CliContext } from "./commands";
import { stackOption } from "./options";

export const DEFAULT_SCENARIO = "lose-primary-cloud";
/** Exit code of a drill that could not conclude (interrupted): neither met (0) nor breached (1). */
export const EXIT_INCONCLUSIVE = 3;

/**
 * SIGINT, SIGTERM or SIGHUP during a drill: the first aborts it (the current step stops, faults are undone,
 * everything is stopped, the evidence so far is written, exit 3); a second one exits at once, and the exit
 * hooks still undo the faults, kill every process and remove the drill's state.
 */
export function interruptOnSignals(): { readonly signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  const sigs = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  const onSignal = (sig: NodeJS.Signals) => {
    const key = sig === "SIGINT" ? "Ctrl-C" : sig;
    if (!ac.signal.aborted) {
      process.stderr.write(
        `\n${sig}: undoing the faults, stopping the lattice, writing the evidence measured so far (${key} again stops at once)\n`,
      );
      ac.abort(`received ${sig}`);
      return;
    }
    process.stderr.write(`\n${sig} again: stopping at once (faults undone, processes killed); no evidence written\n`);
    process.exit(EXIT_INCONCLUSIVE);
  };
  for (const s of sigs) process.on(s, onSignal);
  return { signal: ac.signal, dispose: () => sigs.forEach((s) => process.removeListener(s, onSignal)) };
}

/** The failover-relevant settings, recorded in the evidence. */
export function tuningOf(spec: LatticeSpec): Record<string, string | number> {
  return {
    "nats ping_interval (hubs and leafs)": spec.tuning.pingInterval,
    "nats ping_max": spec.tuning.pingMax,
    "leafnodes reconnect (s)": spec.tuning.leafReconnectSeconds,
    "leaf remote order": [
      ...new Set(
        spec.clouds.flatMap((c) => c.hostPools.map((p) => `${c.name}/${p.name}: ${p.connection === "leaf" ? p.remoteOrder : "direct"}`)),
      ),
    ].join(", "),
    "host heartbeat (ms)": HEARTBEAT_MS,
    "active-passive promotion after primary silence (ms)": PRIMARY_DEAD_MS,
    "probe client":
      "every cloud's hub URLs, own cloud first, noRandomize, reconnectTimeWait 20 ms, connect timeout 250 ms, pingInterval 250 ms, maxPingOut 2",
  };
}

/** The scenarios of a stack, one per line: id, where it is declared, repetitions, faults, title. */
export function listPlans(plans: readonly DrillPlan[]): string {
  const rows = plans.map((p) => [
    p.id,
    p.source,
    String(p.repetitions),
    p.faults.map((f) => `${f.kind}(${f.cloud ?? f.between?.join("|") ?? ""})`).join(", "),
    p.name,
  ]);
  const head = ["SCENARIO", "SOURCE", "REPS", "FAULTS", "NAME"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(head), ...rows.map(line)].join("\n") + "\n";
}

export async function drillCommand(opts: {
  stack?: string;
  scenario?: string;
  out?: string;
  repetitions?: string;
  local?: boolean;
  list?: boolean;
}): Promise<number> {
  if (!opts.stack)
    throw new SpecError([
      { path: "--stack", message: "required", got: undefined, allowed: "a stack name in stacks/ or a path to a stack config file" },
    ]);
  const { ref, spec } = loadStack(opts.stack);
  const plans = plansFor(spec);
  if (opts.list) {
    process.stdout.write(listPlans(plans));
    return 0;
  }
  const id = opts.scenario ?? DEFAULT_SCENARIO;
  const plan = plans.find((p) => p.id === id);
  if (!plan)
    throw new SpecError([{ path: "--scenario", message: "no such scenario", got: id, allowed: plans.map((p) => p.id).join(", ") }]);
  const reps = opts.repetitions ? Number(opts.repetitions) : plan.repetitions;
  if (!Number.isInteger(reps) || reps < 1 || reps > 20)
    throw new SpecError([{ path: "--repetitions", message: "not a whole number from 1 to 20", got: opts.repetitions, allowed: "1..20" }]);
  const out = path.resolve(
    opts.out ?? path.join(REPO_ROOT, "out", "drills", `${ref.name}-${plan.id}-${new Date().toISOString().replace(/[:.]/g, "-")}`),
  );
  const started = Date.now();
  const interrupt = interruptOnSignals();
  try {
    const run = await executeDrill(
      spec,
      ref,
      { ...plan, repetitions: reps },
      { progress: (s) => process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${s}\n`), signal: interrupt.signal },
    );
    const result = await writeDrillEvidence(out, run, tuningOf(spec));
    process.stdout.write(`\n${result.summary}\n\nevidence pack: ${out}\n  report: ${path.join(out, "report.html")}\n`);
    return result.evidence.verdict === "inconclusive" ? EXIT_INCONCLUSIVE : result.allMet ? 0 : 1;
  } finally {
    interrupt.dispose();
  }
}

export function registerDrillCommands(program: Command, ctx: CliContext): void {
  const drill = program
    .command("drill")
    .description(
      "run a failover drill on the local lattice and write an evidence pack (exit 0: every objective met, 1: one breached, 2: bad scenario, 3: inconclusive, e.g. interrupted by Ctrl-C)",
    )
    .addOption(stackOption().makeOptionMandatory(false))
    .option("--local", "run on the local lattice (the only target here)")
    .option("--scenario <id>", `scenario id (default ${DEFAULT_SCENARIO})`)
    .option("--repetitions <n>", "repetitions (default from the scenario)")
    .option("--list", "list the stack's scenarios (built-in and declared under drills) and exit")
    .option("--out <dir>", "evidence pack folder (default out/drills/<stack>-<scenario>-<time>)")
    .action(async (opts: { stack?: string; scenario?: string; out?: string; repetitions?: string; local?: boolean; list?: boolean }) => {
      try {
        process.exit(await drillCommand(opts));
      } catch (e) {
        ctx.fail(e);
      }
    });
  drill
    .command("verify")
    .description("check an evidence pack against its manifest and schema")
    .argument("<dir>")
    .action(async (dir: string) => {
      try {
        const problems = await verifyDrillEvidence(dir);
        if (problems.length) {
          process.stderr.write(`evidence pack ${dir} FAILED verification:\n${problems.map((p) => `  ${p}`).join("\n")}\n`);
          process.exit(1);
        }
        process.stdout.write(`evidence pack ${dir}: intact (manifest and schema verified)\n`);
      } catch (e) {
        ctx.fail(e);
      }
    });
}

/** `npm start`: the default drill (lose the primary cloud) on the small example's local lattice. */
export function registerStartCommand(program: Command, ctx: CliContext): void {
  program
    .command("start")
    .description(
      "the main job: boot the small example's local lattice, drill losing its primary cloud, print the verdicts, stop everything",
    )
    .option("-s, --stack <name>", "stack", "small")
    .option("--out <dir>", "evidence pack folder")
    .action(async (opts: { stack: string; out?: string }) => {
      try {
        process.exit(await drillCommand({ stack: opts.stack, scenario: DEFAULT_SCENARIO, out: opts.out, local: true }));
      } catch (e) {
        ctx.fail(e);
      }
    });
}
