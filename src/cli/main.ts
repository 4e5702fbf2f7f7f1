/** The `latticeform` command line. Every entry point validates the spec the same way before doing anything. */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { randomBytes } from "node:crypto";
import * as path from "node:path";
import { Command } from "commander";
import { stackOption } from "./options";
import { loadStack, validateStack } from "../model/load";
import { formatProblem, SpecError } from "../model/validate";
import { topologyOf } from "../model/topology";
import { renderArtifacts } from "../render/render";
import { defaultStateDir, writeSecret } from "../local/state";
import { registerDrillCommands, registerStartCommand } from "./drill";
import { registerLocalCommands } from "./local";
import { registerReviewCommand } from "./review";

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_BAD_INPUT = 2;

function fail(e: unknown): never {
  if (e instanceof SpecError) {
    process.stderr.write(e.message + "\n");
    process.exit(EXIT_BAD_INPUT);
  }
  process.stderr.write(`latticeform: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(EXIT_FAILED);
}

/** The master secret from which every nkey is derived, kept in the stack's state dir (mode 0600). */
export function stackMaster(stack: string): { master: Uint8Array; issuedAt: number } {
  const dir = defaultStateDir(stack);
  const keyFile = path.join(dir, "master.key");
  const iatFile = path.join(dir, "issued-at");
  if (!existsSync(keyFile)) writeSecret(keyFile, randomBytes(32));
  if (!existsSync(iatFile)) writeSecret(iatFile, String(Math.floor(Date.now() / 1000)));
  return { master: readFileSync(keyFile), issuedAt: Number(readFileSync(iatFile, "utf8")) };
}

export function buildProgram(): Command {
  const program = new Command("latticeform")
    .description("Multi-cloud WebAssembly lattices on one NATS supercluster, with declared and proven failover")
    .showHelpAfterError()
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : EXIT_BAD_INPUT));

  program
    .command("validate")
    .description("validate a stack's lattice spec; prints every problem and exits 2 when there is one")
    .addOption(stackOption())
    .action((opts: { stack: string }) => {
      try {
        const { ref, result } = validateStack(opts.stack);
        if (!result.ok) {
          process.stderr.write(`${ref.file}: ${result.problems.length} problem(s)\n`);
          for (const p of result.problems) process.stderr.write(`  ${formatProblem(p)}\n`);
          process.exit(EXIT_BAD_INPUT);
        }
        const t = topologyOf(result.spec);
        process.stdout.write(
          `stack ${ref.name}: valid — lattice ${result.spec.name}, ${result.spec.clouds.length} clouds, ${t.clusters.length} NATS clusters, ` +
            `${t.servers.length} JetStream servers, ${t.hosts.length} Wasm hosts, ${result.spec.workloads.length} workloads\n`,
        );
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

if (require.main === module || process.argv[1]?.endsWith("latticeform.js")) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((e) => fail(e));
}
