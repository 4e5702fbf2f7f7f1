/** `latticeform drill`: run a failover drill on the local lattice and write the evidence pack. */
import { existsSync } from "node:fs";
import * as path from "node:path";
import { Option, type Command } from "commander";
import { executeDrill } from "../drill/drill";
import { verifyDrillEvidence, writeDrillEvidence } from "../drill/pack";
import { plansFor } from "../drill/plans";
import type { DrillPlan } from "../drill/runner";
import { EXIT_CODES } from "../drill/verdict";
import { reapStack } from "../local/state";
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
    process.exit(EXIT_CODES.inconclusive);
  };
  for (const s of sigs) process.on(s, onSignal);
  return { signal: ac.signal, dispose: () => sigs.forEach((s) => process.removeListener(s, onSignal)) };
}

/** Before a drill's checks: reap what a killed drill (or `up`) of the stack left, and say what (always: not progress). */
function reapBeforeDrill(stack: string): void {
  for (const line of reapStack(stack).lines) process.stderr.write(`reaped ${line}\n`);
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
  reapBeforeDrill(ref.name);
  await assertPreflight(spec, ref.name, drillTarget(ref.name));
  const interrupt = interruptOnSignals();
  let run: Awaited<ReturnType<typeof executeDrill>>;
  try {
    run = await executeDrill(spec, ref, { ...plan, repetitions: reps }, { progress: progress(), signal: interrupt.signal });
  } finally {
    interrupt.dispose();
  }
  const result = await writeDrillEvidence(out, run, tuningOf(spec));
  process.stdout.write(
    `\n${result.summary}\n\nevidence pack: ${path.relative(process.cwd(), out) || "."}\n  report: ${path.join(path.relative(process.cwd(), out), "report.html")}\n  signed with Ed25519 key ${result.keyFingerprint} (public key in the pack: signing-key.pub)\n\nVERDICT: ${result.evidence.verdict.toUpperCase()} — ${result.evidence.verdictReason}\n`,
  );
  return EXIT_CODES[result.outcome];
}

export function registerDrillCommands(program: Command, ctx: CliContext): void {
  const drill = program
    .command("drill")
    .description(
      "run a failover drill on the local lattice and write a signed evidence pack (exit 0: MET, 1: BREACHED, 2: bad scenario or a check before start, 3: INCONCLUSIVE)",
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
    .description("check an evidence pack's signature, every file's SHA-256 and the schema (exit 0 intact, 1 not)")
    .argument("<dir>")
    .option("--key <pub>", "the signer's public key (PEM) to trust; default: the key inside the pack, which proves integrity only")
    .action(async (dir: string, vopts: { key?: string }) => {
      try {
        if (!existsSync(dir))
          throw new UserError(`no evidence pack at ${dir}`, "give the folder a drill wrote (out/drills/<stack>-<scenario>-<time>)");
        const problems = verifyDrillEvidence(dir, { key: vopts.key });
        if (problems.length) {
          process.stderr.write(`evidence pack ${dir} FAILED verification:\n${problems.map((p) => `  ${p}`).join("\n")}\n`);
          process.exit(1);
        }
        process.stdout.write(
          `evidence pack ${dir}: intact (signature, every file and schema verified with ${vopts.key ? `key ${vopts.key}` : "the pack's own key; pass --key to check who signed"})\n`,
        );
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
