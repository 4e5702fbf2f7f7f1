/**
 * A whole drill on the local lattice: reap what a killed drill of the stack left, boot a fresh lattice in the
 * stack's state dir, run each repetition of the plan, stop everything (also on failure or interruption), and
 * hand the measurements over for the evidence pack, with the step an interruption stopped it at.
 */
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import * as path from "node:path";
import { upLocal } from "../local/lattice";
import { drillStackName, drillStateDir, reapStack, renderLocal } from "../local/state";
import { Supervisor } from "../local/supervisor";
import { REPO_ROOT } from "../model/load";
import type { LatticeSpec } from "../model/schema";
import { runRepetition, type DrillPlan, type Interrupted, type Progress, type RepetitionResult } from "./runner";
import { natsServerBin } from "../tools/pins";

export interface DrillRunRaw {
  readonly plan: DrillPlan;
  readonly stack: { readonly name: string; readonly file: string; readonly configHash: string; readonly lattice: string };
  readonly versions: { readonly tool: string; readonly natsServer: string; readonly node: string; readonly gitCommit: string };
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly readyMs: number;
  readonly repetitions: readonly RepetitionResult[];
  /** Set when the run stopped before its last repetition for a reason other than a stop condition. */
  readonly interrupted?: Interrupted;
}

/** Thrown inside `executeDrill` to stop at once: the run ends with `interrupted` set. */
class DrillInterrupted extends Error {
  constructor(readonly why: Interrupted) {
    super(`interrupted during ${why.step}`);
  }
}

/** Resolves when `signal` aborts (never without one). */
function whenAborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) resolve();
    else signal?.addEventListener("abort", () => resolve(), { once: true });
  });
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
export const drillStateName = drillStackName;

/**
 * Boot, run every repetition, and stop everything. The lattice lives in the stack's state dir
 * (`.latticeform/<stack>/drill/`), removed at the end; what a killed drill left there is reaped first.
 * When `signal` aborts, the current step stops, faults are undone, everything is stopped, and the result
 * holds what was measured so far with `interrupted` set.
 */
export async function executeDrill(
  spec: LatticeSpec,
  stack: { name: string; file: string },
  plan: DrillPlan,
  opts: { progress?: Progress; basePort?: number; signal?: AbortSignal } = {},
): Promise<DrillRunRaw> {
  const progress = opts.progress ?? (() => {});
  const { signal } = opts;
  const reaped = reapStack(stack.name);
  for (const line of reaped.lines) progress(`reaped ${line}`);
  if (reaped.busyDrill)
    throw new Error(
      `a drill of stack ${stack.name} is already running (pid ${reaped.busyDrill.pid}); wait for it, or stop it with latticeform down --stack ${stack.name}`,
    );
  const dir = drillStateDir(stack.name);
  let sup: Supervisor | undefined;
  // The drill's state goes even when a second Ctrl-C exits at once: kill (and undo) first, then remove.
  const removeState = () => {
    sup?.killAllSync();
    rmSync(dir, { recursive: true, force: true });
  };
  process.on("exit", removeState);
  const runSpec: LatticeSpec = opts.basePort ? { ...spec, local: { basePort: opts.basePort } } : spec;
  const startedAt = new Date().toISOString();
  const reps: RepetitionResult[] = [];
  let step = "boot";
  let readyMs = 0;
  let interrupted: Interrupted | undefined;
  const operator = (at: string): Interrupted => ({
    by: "operator",
    step: at,
    ...(typeof signal?.reason === "string" ? { detail: signal.reason } : {}),
  });
  try {
    const r = await renderLocal(runSpec, drillStackName(stack.name), dir);
    sup = new Supervisor(dir);
    progress(
      `booting the local lattice of stack ${stack.name} (${r.nats.servers.length} servers, ${r.nats.leafs.length} leafs, ${r.topo.hosts.length} hosts)`,
    );
    const booting = upLocal(r, sup, (s) => progress(`  ${s}`));
    booting.catch(() => {}); // an interrupted boot fails once everything is stopped: that is expected
    const up = await Promise.race([booting, whenAborted(signal).then(() => undefined)]);
    if (!up) throw new DrillInterrupted(operator(step));
    readyMs = up.readyMs;
    for (let i = 0; i < plan.repetitions; i++) {
      step = `repetition ${i + 1}/${plan.repetitions}`;
      if (signal?.aborted) throw new DrillInterrupted(operator(`before ${step}`));
      progress(`repetition ${i + 1}/${plan.repetitions}: ${plan.name}`);
      const rep = await runRepetition(r, sup, plan, i, progress, { signal });
      reps.push(rep);
      if (rep.interrupted) throw new DrillInterrupted({ ...rep.interrupted, step: `${step}: ${rep.interrupted.step}` });
      for (const w of rep.workloads) {
        progress(
          `  ${w.workload}: recovery ${w.recoveryMs === null ? "never" : `${w.recoveryMs.toFixed(0)} ms`} (objective ${w.objectiveRtoMs} ms), ${w.failed} of ${w.ok + w.failed} requests failed`,
        );
      }
      for (const s of rep.streams) progress(`  stream ${s.stream}: ${s.acked} acked, ${s.lost} lost (copy ${s.copy})`);
    }
  } catch (e) {
    // An error while interrupted (a connection closing under a probe) is part of the interruption.
    if (!(e instanceof DrillInterrupted) && !signal?.aborted) throw e;
    interrupted = e instanceof DrillInterrupted ? e.why : operator(step);
    step = interrupted.step;
  } finally {
    if (signal?.aborted) progress(`interrupted during ${step}: stopping everything`);
    await sup?.stopAll();
    removeState();
    process.removeListener("exit", removeState);
  }
  return {
    plan,
    stack: { name: stack.name, file: stack.file, configHash: configHash(stack.file), lattice: spec.name },
    versions: toolVersions(),
    startedAt,
    finishedAt: new Date().toISOString(),
    readyMs,
    repetitions: reps,
    ...(interrupted ? { interrupted } : {}),
  };
}
