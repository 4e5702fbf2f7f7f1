/** The `latticeform` command line. Every entry point validates the spec the same way before doing anything. */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { randomBytes } from "node:crypto";
import * as path from "node:path";
import { Command } from "commander";
import { stackOption } from "./options";
import { resolveStack, readStackConfig } from "../model/load";
import { formatProblem, validateLattice, type Problem } from "../model/validate";
import { topologyOf } from "../model/topology";
import { renderArtifacts } from "../render/render";
import { defaultStateDir, writeSecret } from "../local/state";
import { preflight } from "../preflight/preflight";
import { loadStack } from "../model/load";
import { registerDrillCommands, registerStartCommand } from "./drill";
import { EXIT_BAD_INPUT, EXIT_CODES_HELP, fail } from "./errors";
import { registerLocalCommands } from "./local";
import { registerReviewCommand } from "./review";

/** The master secret from which every nkey is derived, kept in the stack's state dir (mode 0600). */
export function stackMaster(stack: string): { master: Uint8Array; issuedAt: number } {
  const dir = defaultStateDir(stack);
  const keyFile = path.join(dir, "master.key");
  const iatFile = path.join(dir, "issued-at");
  if (!existsSync(keyFile)) writeSecret(keyFile, randomBytes(32));
  if (!existsSync(iatFile)) writeSecret(iatFile, String(Math.floor(Date.now() / 1000)));
  return { master: readFileSync(keyFile), issuedAt: Number(readFileSync(iatFile, "utf8")) };
}

/** `validate`: the spec's rules, then what `up`, `drill` or `pulumi up` would trip over on this machine. */
async function validateCommand(opts: { stack: string; json?: boolean }): Promise<number> {
  const ref = resolveStack(opts.stack);
  const result = validateLattice(readStackConfig(ref.file));
  const problems: (Problem & { scope: string })[] = result.ok
    ? await preflight(result.spec, ref.name)
    : result.problems.map((p) => ({ ...p, scope: "spec" }));
  const t = result.ok ? topologyOf(result.spec) : undefined;
  const summary =
    result.ok && t
      ? `lattice ${result.spec.name}, ${result.spec.clouds.length} clouds, ${t.clusters.length} NATS clusters, ` +
        `${t.servers.length} JetStream servers, ${t.hosts.length} Wasm hosts, ${result.spec.workloads.length} workloads`
      : undefined;
  if (opts.json) {
    process.stdout.write(JSON.stringify({ stack: ref.name, file: ref.file, ok: problems.length === 0, summary, problems }, null, 2) + "\n");
  } else if (problems.length) {
    process.stderr.write(`${ref.file}: ${problems.length} problem(s)\n`);
    for (const p of problems) process.stderr.write(`  ${formatProblem(p)}\n`);
  } else {
    process.stdout.write(
      `stack ${ref.name}: valid — ${summary}; artifacts, nats-server, state dir and ports ready for up --local and drill\n`,
    );
  }
  return problems.length ? EXIT_BAD_INPUT : 0;
}

export function buildProgram(): Command {
  const program = new Command("latticeform")
    .description("Multi-cloud WebAssembly lattices on one NATS supercluster, with declared and proven failover")
    .option("--debug", "print the stack trace of an error")
    .addHelpText("after", `\n${EXIT_CODES_HELP}`)
    .configureOutput({
      // commander's own errors (unknown option, missing argument): one line, then where to look.
      outputError: (str, write) => write(`latticeform: ${str.replace(/^error: /, "").trim()} (see --help)\n`),
    })
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : EXIT_BAD_INPUT));

  program
    .command("validate")
    .description(
      "validate a stack's lattice spec, its artifacts and this machine's readiness (nats-server, state dir, ports); every problem at once, exit 2 when there is one",
    )
    .addOption(stackOption())
    .option("--json", "machine-readable output: { stack, file, ok, summary, problems }")
    .action(async (opts: { stack: string; json?: boolean }) => {
      try {
        process.exit(await validateCommand(opts));
      } catch (e) {
        fail(e);
      }
    });

  program
    .command("render")
    .description("write every generated artifact (NATS configs, Kubernetes objects, boot scripts) to a folder")
    .addOption(stackOption())
    .requiredOption("-o, --out <dir>", "output folder")
    .action(async (opts: { stack: string; out: string }) => {
      try {
        const { ref, spec } = loadStack(opts.stack);
        const { master, issuedAt } = stackMaster(ref.name);
        const artifacts = await renderArtifacts(spec, master, issuedAt);
        for (const a of artifacts) {
          const file = path.join(opts.out, a.path);
          mkdirSync(path.dirname(file), { recursive: true });
          if (a.secret) writeSecret(file, a.content);
          else writeFileSync(file, a.content);
        }
        process.stdout.write(`rendered ${artifacts.length} files for stack ${ref.name} into ${opts.out}\n`);
      } catch (e) {
        fail(e);
      }
    });

  const ctx = { fail };
  registerLocalCommands(program, ctx);
  registerDrillCommands(program, ctx);
  registerStartCommand(program, ctx);
  registerReviewCommand(program, ctx);
  return program;
}

/** Run the command line (bin/latticeform.js calls this; however it is reached: npx, a symlink, node bin/...). */
export function main(argv: readonly string[]): void {
  buildProgram()
    .parseAsync(argv as string[])
    .catch((e) => fail(e));
}

if (require.main === module) main(process.argv);
