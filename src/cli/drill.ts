/** `latticeform drill`: run a failover drill on the local lattice and write the evidence pack. */
import { existsSync } from "node:fs";
import * as path from "node:path";
import { Option, type Command } from "commander";
import { executeDrill } from "../drill/drill";
import { verifyDrillEvidence, writeDrillEvidence } from "../drill/pack";
import { plansFor } from "../drill/plans";
import type { DrillPlan } from "../drill/runner";
import { loadStack, REPO_ROOT } from "../model/load";
import { SpecError } from "../model/validate";
import type { LatticeSpec } from "../model/schema";
import { HEARTBEAT_MS, PRIMARY_DEAD_MS } from "../local/host/constants";
import { assertPreflight, drillTarget } from "../preflight/preflight";
import { UserError } from "./errors";
import { formatTable } from "./format";
import { stackOption, type CliContext } from "./options";
import { progress } from "./progress";

export const DEFAULT_SCENARIO = "lose-primary-cloud";

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
  const rows = plans.map((p) => ({
    scenario: p.id,
    source: p.source,
    reps: String(p.repetitions),
    faults: p.faults.map((f) => `${f.kind}(${f.cloud ?? f.between?.join("|") ?? ""})`).join(", "),
    name: p.name,
  }));
  return formatTable(rows, ["scenario", "source", "reps", "faults", "name"]) + "\n";
}

export interface DrillOptions {
  stack?: string;
  scenario?: string;
  out?: string;
  repetitions?: string;
  /** Where the drill runs; `local` (the default) is the only target so far. `--local` is its alias. */
  target?: string;
  local?: boolean;
  list?: boolean;
  json?: boolean;
}

export async function drillCommand(opts: DrillOptions): Promise<number> {
  if (!opts.stack)
    throw new SpecError([
      { path: "--stack", message: "required", got: undefined, allowed: "a stack name in stacks/ or a path to a stack config file" },
    ]);
  if (opts.json && !opts.list)
    throw new UserError("--json goes with --list", "a drill's machine-readable result is the evidence.json of its pack");
  const { ref, spec } = loadStack(opts.stack);
  const plans = plansFor(spec);
  if (opts.list) {
    process.stdout.write(opts.json ? JSON.stringify({ stack: ref.name, scenarios: plans }, null, 2) + "\n" : listPlans(plans));
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
  await assertPreflight(spec, ref.name, drillTarget(ref.name));
  const run = await executeDrill(spec, ref, { ...plan, repetitions: reps }, { progress: progress() });
  const result = await writeDrillEvidence(out, run, tuningOf(spec));
  process.stdout.write(`\n${result.summary}\n\nevidence pack: ${out}\n  report: ${path.join(out, "report.html")}\n`);
  return result.allMet ? 0 : 1;
}

export function registerDrillCommands(program: Command, ctx: CliContext): void {
  const drill = program
    .command("drill")
    .description(
      "run a failover drill on the local lattice and write an evidence pack (exit 0: every objective met, 1: one breached, 2: bad scenario or a check before start, 3: inconclusive)",
    )
    .addOption(stackOption().makeOptionMandatory(false))
    .addOption(new Option("--target <where>", "where the drill runs: a lattice booted on this machine").choices(["local"]).default("local"))
    .option("--local", "alias of --target local")
    .option("--scenario <id>", `scenario id (default ${DEFAULT_SCENARIO})`)
    .option("--repetitions <n>", "repetitions (default from the scenario)")
    .option("--list", "list the stack's scenarios (built-in and declared under drills) and exit")
    .option("--json", "with --list: machine-readable output")
    .option("--out <dir>", "evidence pack folder (default out/drills/<stack>-<scenario>-<time>)")
    .action(async (opts: DrillOptions) => {
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
        if (!existsSync(dir))
          throw new UserError(`no evidence pack at ${dir}`, "give the folder a drill wrote (out/drills/<stack>-<scenario>-<time>)");
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
        process.exit(await drillCommand({ stack: opts.stack, scenario: DEFAULT_SCENARIO, out: opts.out, target: "local" }));
      } catch (e) {
        ctx.fail(e);
      }
    });
}
