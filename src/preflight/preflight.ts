/**
 * Checks before anything starts: everything `up`, `drill` or `pulumi up` would trip over, reported as problems
 * with a property path (the I/O counterpart of the pure rules in src/model/validate.ts). `validate` runs them
 * all; `up` and `drill` run them again before the first process starts.
 */
import { accessSync, constants, existsSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { drillStateName } from "../drill/drill";
import { localLayout } from "../local/env";
import { defaultStateDir } from "../local/state";
import { busyPorts, pidAlive } from "../local/supervisor";
import type { LatticeSpec } from "../model/schema";
import { topologyOf } from "../model/topology";
import { formatProblem, type Problem } from "../model/validate";
import { REPO_ROOT } from "../paths";
import { natsServerBin, natsServerProblem } from "../tools/pins";
import { artifactProblem } from "./artifact";

/** `artifact` problems hold wherever the lattice goes; `local` ones only for `up --local` and drills on this machine. */
export type PreflightScope = "artifact" | "local";

export interface PreflightProblem extends Problem {
  readonly scope: PreflightScope;
}

/** Every workload's `.wasm` file exists and is the kind of Wasm the runtime takes. */
export function artifactProblems(spec: LatticeSpec, root = REPO_ROOT): PreflightProblem[] {
  const out: PreflightProblem[] = [];
  spec.workloads.forEach((w, i) => {
    if (!("path" in w.artifact)) return;
    const why = artifactProblem(path.resolve(root, w.artifact.path), { kv: w.kv !== undefined });
    if (why)
      out.push({
        scope: "artifact",
        path: `workloads[${i}].artifact.path`,
        message: why,
        got: w.artifact.path,
        allowed: "a WebAssembly component of the latticeform world, wit/ (the sample workloads are built by `npm run setup`)",
      });
  });
  return out;
}

/** Processes an earlier `up` of this state dir recorded that still run (their command line names the dir). */
export function livePids(stateDir: string): number[] {
  const file = path.join(stateDir, "pids");
  if (!existsSync(file)) return [];
  const pids: number[] = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const pid = Number(line.split(" ")[0]);
    if (!pid || !pidAlive(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(stateDir)) pids.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Why the state dir cannot be used, or undefined: it must be (or be creatable as) a writable folder. */
export function stateDirProblem(dir: string): string | undefined {
  let cur = dir;
  while (!existsSync(cur)) {
    const up = path.dirname(cur);
    if (up === cur) return "no existing parent folder";
    cur = up;
  }
  if (!statSync(cur).isDirectory()) return `${cur} is not a folder`;
  try {
    accessSync(cur, constants.W_OK | constants.X_OK);
  } catch {
    return `${cur} is not writable by this user`;
  }
  return undefined;
}

/** Where a local lattice would run: `up --local` keeps its state dir; a drill boots its own in a temporary one. */
export interface LocalTarget {
  readonly command: "up" | "drill";
  /** The name the ports derive from (see `defaultBasePort`). */
  readonly stack: string;
  readonly stateDir: string;
}

export const upTarget = (stack: string): LocalTarget => ({ command: "up", stack, stateDir: defaultStateDir(stack) });
export const drillTarget = (stack: string): LocalTarget => ({ command: "drill", stack: drillStateName(stack), stateDir: tmpdir() });

/** The pinned nats-server, a usable state dir and free ports: what a local lattice needs of this machine. */
export async function localProblems(spec: LatticeSpec, targets: readonly LocalTarget[]): Promise<PreflightProblem[]> {
  const out: PreflightProblem[] = [];
  const server = natsServerProblem();
  if (server) out.push({ scope: "local", path: "nats-server", message: server, got: natsServerBin(), allowed: "the pinned nats-server" });
  const seen = new Set<number>();
  for (const t of targets) {
    const dirWhy = stateDirProblem(t.stateDir);
    if (dirWhy)
      out.push({
        scope: "local",
        path: `state dir (${t.command})`,
        message: `not usable: ${dirWhy}`,
        got: t.stateDir,
        allowed: t.command === "up" ? "a writable folder (set LATTICEFORM_STATE_DIR to another)" : "a writable TMPDIR",
      });
    const running = t.command === "up" ? livePids(t.stateDir) : [];
    if (running.length) {
      out.push({
        scope: "local",
        path: `state dir (${t.command})`,
        message: `the local lattice of stack ${t.stack} is running (pids ${running.slice(0, 5).join(", ")}${running.length > 5 ? ", ..." : ""})`,
        got: t.stateDir,
        allowed: `stop it first: latticeform down --stack ${t.stack}`,
      });
      continue; // its ports are taken by itself
    }
    const layout = localLayout(spec, topologyOf(spec), t.stack, t.stateDir);
    const busy = (await busyPorts(layout.allPorts)).filter((p) => !seen.has(p));
    busy.forEach((p) => seen.add(p));
    if (busy.length)
      out.push({
        scope: "local",
        path: `local.basePort (${t.command}${spec.local.basePort === undefined ? ", default" : ""})`,
        message: `port${busy.length > 1 ? "s" : ""} ${busy.join(", ")} already in use on 127.0.0.1 (${t.command} takes ${layout.allPorts.length} ports from ${layout.basePort})`,
        got: layout.basePort,
        allowed: "a free range: stop what holds them (latticeform down --stack <name>) or set local.basePort to another",
      });
  }
  return out;
}

/** Artifacts and this machine, for one command or (`validate`) for all. */
export async function preflight(
  spec: LatticeSpec,
  stack: string,
  targets: readonly LocalTarget[] = [upTarget(stack), drillTarget(stack)],
): Promise<PreflightProblem[]> {
  return [...artifactProblems(spec), ...(await localProblems(spec, targets))];
}

/** Refused before anything starts: every problem at once (exit 2). */
export class PreflightError extends Error {
  constructor(readonly problems: readonly PreflightProblem[]) {
    super(
      problems.length === 1
        ? `cannot start: ${formatProblem(problems[0]!)}`
        : `cannot start (${problems.length} problems):\n${problems.map((p) => `  ${formatProblem(p)}`).join("\n")}`,
    );
    this.name = "PreflightError";
  }
}

/** Throw a `PreflightError` when anything would trip the command up. */
export async function assertPreflight(spec: LatticeSpec, stack: string, target: LocalTarget): Promise<void> {
  const problems = await preflight(spec, stack, [target]);
  if (problems.length) throw new PreflightError(problems);
}
