/**
 * A whole drill on the local lattice: boot a fresh lattice for the stack, run each repetition of the plan,
 * stop everything (also on failure or Ctrl-C), and hand the measurements over for the evidence pack.
 */
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { upLocal } from "../local/lattice";
import { renderLocal } from "../local/state";
import { Supervisor } from "../local/supervisor";
import { REPO_ROOT } from "../model/load";
import type { LatticeSpec } from "../model/schema";
import { runRepetition, type DrillPlan, type Progress, type RepetitionResult } from "./runner";
import { natsServerBin } from "../tools/pins";

export interface DrillRunRaw {
  readonly plan: DrillPlan;
  readonly stack: { readonly name: string; readonly file: string; readonly configHash: string; readonly lattice: string };
  readonly versions: { readonly tool: string; readonly natsServer: string; readonly node: string; readonly gitCommit: string };
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly readyMs: number;
  readonly repetitions: readonly RepetitionResult[];
}

export function toolVersions(): DrillRunRaw["versions"] {
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { version: string };
  const nats = spawnSync(natsServerBin(), ["--version"], { encoding: "utf8" });
  const git = spawnSync("git", ["rev-parse", "HEAD"], { cwd: REPO_ROOT, encoding: "utf8" });
  return {
    tool: `latticeform ${pkg.version}`,
    natsServer: (nats.stdout || nats.stderr || "unknown").trim(),
    node: process.version,
    gitCommit: git.status === 0 ? git.stdout.trim() : "unknown (not a git checkout)",
  };
}

export function configHash(file: string): string {
  return "sha256:" + createHash("sha256").update(readFileSync(file)).digest("hex");
}

/** The name a drill's own lattice runs under (its ports derive from it), so a drill never clashes with `up`. */
export const drillStateName = (stack: string): string => `${stack}-drill`;

/** Boot, run every repetition, and stop everything. The lattice lives in a temporary state dir. */
export async function executeDrill(
  spec: LatticeSpec,
  stack: { name: string; file: string },
  plan: DrillPlan,
  opts: { progress?: Progress; basePort?: number } = {},
): Promise<DrillRunRaw> {
  const progress = opts.progress ?? (() => {});
  const dir = mkdtempSync(path.join(tmpdir(), `lf-drill-${stack.name}-`));
  const runSpec: LatticeSpec = opts.basePort ? { ...spec, local: { basePort: opts.basePort } } : spec;
  const r = await renderLocal(runSpec, drillStateName(stack.name), dir);
  const sup = new Supervisor(dir);
  const startedAt = new Date().toISOString();
  try {
    progress(
      `booting the local lattice of stack ${stack.name} (${r.nats.servers.length} servers, ${r.nats.leafs.length} leafs, ${r.topo.hosts.length} hosts)`,
    );
    const up = await upLocal(r, sup, (s) => progress(`  ${s}`));
    const reps: RepetitionResult[] = [];
    for (let i = 0; i < plan.repetitions; i++) {
      progress(`repetition ${i + 1}/${plan.repetitions}: ${plan.name}`);
      const rep = await runRepetition(r, sup, plan, i, progress);
      for (const w of rep.workloads) {
        progress(
          `  ${w.workload}: recovery ${w.recoveryMs === null ? "never" : `${w.recoveryMs.toFixed(0)} ms`} (objective ${w.objectiveRtoMs} ms), ${w.failed} of ${w.ok + w.failed} requests failed`,
        );
      }
      for (const s of rep.streams) progress(`  stream ${s.stream}: ${s.acked} acked, ${s.lost} lost (copy ${s.copy})`);
      reps.push(rep);
    }
    return {
      plan,
      stack: { name: stack.name, file: stack.file, configHash: configHash(stack.file), lattice: spec.name },
      versions: toolVersions(),
      startedAt,
      finishedAt: new Date().toISOString(),
      readyMs: up.readyMs,
      repetitions: reps,
    };
  } finally {
    await sup.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}
