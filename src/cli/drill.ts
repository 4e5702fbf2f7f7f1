/** `latticeform drill`: run a failover drill on the local lattice and write the evidence pack. */
import * as path from "node:path";
import type { Command } from "commander";
import { executeDrill } from "../drill/drill";
import { verifyDrillEvidence, writeDrillEvidence } from "../drill/pack";
import { plansFor } from "../drill/plans";
import type { DrillPlan } from "../drill/runner";
import { EXIT_CODES } from "../drill/verdict";
import { loadStack, REPO_ROOT } from "../model/load";
import { SpecError } from "../model/validate";
import type { LatticeSpec } from "../model/schema";
import { HEARTBEAT_MS, PRIMARY_DEAD_MS } from "../local/host/constants";
import type { CliContext } from "./commands";
import { stackOption } from "./options";

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
  const run = await executeDrill(
    spec,
    ref,
    { ...plan, repetitions: reps },
    { progress: (s) => process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${s}\n`) },
  );
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
      "run a failover drill on the local lattice and write a signed evidence pack (exit 0: MET, 1: BREACHED, 2: bad input, 3: INCONCLUSIVE)",
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
    .description("check an evidence pack's signature, every file's SHA-256 and the schema (exit 0 intact, 1 not)")
    .argument("<dir>")
    .option("--key <pub>", "the signer's public key (PEM) to trust; default: the key inside the pack, which proves integrity only")
    .action(async (dir: string, vopts: { key?: string }) => {
      try {
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
        process.exit(await drillCommand({ stack: opts.stack, scenario: DEFAULT_SCENARIO, out: opts.out, local: true }));
      } catch (e) {
        ctx.fail(e);
      }
    });
}
