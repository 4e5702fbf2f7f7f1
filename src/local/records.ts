/**
 * Run records: what a command started or changed on this machine, written to its state dir BEFORE the process
 * is spawned or the fault applied, so whatever happens to the command (Ctrl-C, an error, SIGKILL, a closed
 * terminal), the next command can find and undo it. One file per supervising process under `<state dir>/run/`:
 * the owner (pid and kernel start time), each process (name, then its pid once spawned) and each fault still in
 * force (nftables table, tc qdisc, processes stopped by SIGSTOP), each marked when undone.
 *
 * Reaping (`reapDir`) undoes the faults and kills the processes of every record whose owner is gone; processes
 * are matched by pid AND by their command line naming the state dir (pids get reused), and a process recorded
 * before its pid was known is found by its command line alone.
 */
import { spawnSync } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import * as path from "node:path";

export type FaultRecord =
  | { readonly kind: "nft-table"; readonly table: string }
  | { readonly kind: "tc-qdisc"; readonly dev: string }
  | { readonly kind: "sigstop"; readonly processes: readonly { readonly name: string; readonly pid: number }[] };

type Line =
  | { t: "owner"; pid: number; start: string; argv: string[]; at: string }
  | { t: "process"; id: number; name: string }
  | { t: "pid"; id: number; pid: number }
  | { t: "fault"; id: number; fault: FaultRecord }
  | { t: "undone"; id: number };

/** The arguments of a running process, or undefined when it is gone (or a zombie). */
export function procArgs(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    if (/^\d+ \(.*\) Z/s.test(stat)) return undefined;
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  } catch {
    return undefined;
  }
}

/** Kernel start time of a process (field 22 of /proc/<pid>/stat): with the pid, names one process for good. */
export function procStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/** True when one of the process's arguments is `dir` or a path under it. */
export function mentions(pid: number, dir: string): boolean {
  const args = procArgs(pid);
  return !!args?.some((a) => a === dir || a.startsWith(dir + path.sep));
}

/** Every process (but this one) whose command line names `dir`. */
export function processesMentioning(dir: string): number[] {
  let entries: string[] = [];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  return entries.map(Number).filter((pid) => Number.isInteger(pid) && pid > 0 && pid !== process.pid && mentions(pid, dir));
}

function sh(cmd: string, args: string[]): boolean {
  return spawnSync(cmd, args, { stdio: "ignore" }).status === 0;
}

/** Undo one fault now (synchronously: this also runs from an exit hook). Returns what was undone, if anything. */
export function undoFault(f: FaultRecord, dir: string): string | undefined {
  switch (f.kind) {
    case "nft-table":
      return sh("nft", ["delete", "table", "inet", f.table]) ? `deleted nftables table inet ${f.table}` : undefined;
    case "tc-qdisc":
      return sh("tc", ["qdisc", "del", "dev", f.dev, "root"]) ? `deleted the tc qdisc on ${f.dev}` : undefined;
    case "sigstop": {
      const thawed = f.processes.filter(({ pid }) => {
        if (!mentions(pid, dir)) return false;
        try {
          process.kill(pid, "SIGCONT");
          return true;
        } catch {
          return false;
        }
      });
      return thawed.length ? `resumed ${thawed.map((p) => `${p.name} (${p.pid})`).join(", ")} left stopped by a blackhole` : undefined;
    }
  }
}

let fileCounter = 0;

/** This process's records in one state dir. */
export class RunRecords {
  readonly file: string;
  private nextId = 1;
  private readonly open = new Map<number, FaultRecord>();

  constructor(readonly dir: string) {
    mkdirSync(path.join(dir, "run"), { recursive: true, mode: 0o700 });
    this.file = path.join(dir, "run", `${process.pid}-${fileCounter++}.jsonl`);
    this.write({ t: "owner", pid: process.pid, start: procStart(process.pid) ?? "", argv: process.argv, at: new Date().toISOString() });
  }

  private write(l: Line): void {
    appendFileSync(this.file, JSON.stringify(l) + "\n", { mode: 0o600 });
  }

  /** Call before spawning: the process's name (its pid follows with `spawned`). */
  process(name: string): number {
    const id = this.nextId++;
    this.write({ t: "process", id, name });
    return id;
  }

  spawned(id: number, pid: number): void {
    this.write({ t: "pid", id, pid });
  }

  /** Call before applying a fault; `undone` when it has been undone. */
  fault(fault: FaultRecord): number {
    const id = this.nextId++;
    this.write({ t: "fault", id, fault });
    this.open.set(id, fault);
    return id;
  }

  undone(id: number): void {
    if (!this.open.delete(id)) return;
    this.write({ t: "undone", id });
  }

  get openFaults(): readonly FaultRecord[] {
    return [...this.open.values()];
  }

  /** Undo every fault still in force, synchronously (exit hooks, a second Ctrl-C). */
  undoOpenSync(): string[] {
    const done: string[] = [];
    for (const [id, f] of [...this.open].reverse()) {
      const what = undoFault(f, this.dir);
      if (what) done.push(what);
      this.undone(id);
    }
    return done;
  }

  /** Everything recorded is stopped and undone: the record has nothing left to tell. */
  close(): void {
    if (this.open.size === 0) rmSync(this.file, { force: true });
  }
}

export interface Reaped {
  /** Processes killed: name (when recorded) and pid. */
  readonly killed: { readonly name: string; readonly pid: number }[];
  /** Faults undone, in words. */
  readonly undone: string[];
  /** A live command that owns records here (not reaped unless forced). */
  readonly busy?: { readonly pid: number; readonly argv: readonly string[] };
}

function readLines(file: string): Line[] {
  const out: Line[] = [];
  for (const s of readFileSync(file, "utf8").split("\n")) {
    try {
      if (s.trim()) out.push(JSON.parse(s) as Line);
    } catch {
      // a line cut short by a kill: the rest still counts
    }
  }
  return out;
}

function kill(pid: number): boolean {
  try {
    process.kill(pid, "SIGKILL");
    return true;
  } catch {
    return false;
  }
}

/** Reap one record file, unless its owner still runs (a zombie does not) and `force` is not set. */
function reapFile(file: string, dir: string, force: boolean, out: Reaped): void {
  const lines = readLines(file);
  const owner = lines.find((l): l is Extract<Line, { t: "owner" }> => l.t === "owner");
  const ownerAlive =
    !!owner && owner.pid !== process.pid && !!owner.start && procArgs(owner.pid) !== undefined && procStart(owner.pid) === owner.start;
  const mine = owner?.pid === process.pid;
  if ((ownerAlive || mine) && !force) {
    if (ownerAlive && !out.busy) (out as { busy?: Reaped["busy"] }).busy = { pid: owner.pid, argv: owner.argv };
    return;
  }
  const undone = new Set(lines.filter((l) => l.t === "undone").map((l) => (l as { id: number }).id));
  const faults = lines.filter((l): l is Extract<Line, { t: "fault" }> => l.t === "fault" && !undone.has(l.id));
  // Thaw first, so stopped processes can be killed cleanly; then lift the network faults.
  for (const f of [...faults].sort((a, b) => Number(b.fault.kind === "sigstop") - Number(a.fault.kind === "sigstop"))) {
    const what = undoFault(f.fault, dir);
    if (what) out.undone.push(what);
  }
  const pids = new Map(lines.filter((l) => l.t === "pid").map((l) => [(l as { id: number }).id, (l as { pid: number }).pid]));
  let unknownPid = false;
  for (const p of lines.filter((l): l is Extract<Line, { t: "process" }> => l.t === "process")) {
    const pid = pids.get(p.id);
    if (pid === undefined) unknownPid = true;
    else if (pid !== process.pid && mentions(pid, dir) && kill(pid)) out.killed.push({ name: p.name, pid });
  }
  // Recorded but killed before its pid was written: found by its command line naming the state dir.
  if (unknownPid)
    for (const pid of processesMentioning(dir))
      if (!out.killed.some((k) => k.pid === pid) && kill(pid)) out.killed.push({ name: "?", pid });
  if (!mine) rmSync(file, { force: true });
}

/**
 * Reap what commands that are gone left in `dir`: undo their faults, kill their processes, drop their records.
 * `force` (what `down` does) also reaps live owners' records and kills any process whose command line names `dir`.
 */
export function reapDir(dir: string, opts: { force?: boolean } = {}): Reaped {
  const out: Reaped = { killed: [], undone: [] };
  const runDir = path.join(dir, "run");
  if (existsSync(runDir))
    for (const f of readdirSync(runDir).filter((n) => n.endsWith(".jsonl"))) reapFile(path.join(runDir, f), dir, opts.force === true, out);
  if (opts.force)
    for (const pid of processesMentioning(dir)) {
      try {
        process.kill(pid, "SIGCONT");
      } catch {
        // gone
      }
      if (!out.killed.some((k) => k.pid === pid) && kill(pid)) out.killed.push({ name: "?", pid });
    }
  waitGone(
    out.killed.map((k) => k.pid),
    5000,
  );
  return out;
}

/** Wait (bounded) until killed processes are gone, so their ports are free for what comes next. */
function waitGone(pids: readonly number[], timeoutMs: number): void {
  const tick = new Int32Array(new SharedArrayBuffer(4));
  for (let waited = 0; waited < timeoutMs && pids.some((p) => procArgs(p) !== undefined); waited += 20) Atomics.wait(tick, 0, 0, 20);
}

/** One line per thing reaped, for the user. */
export function describeReaped(r: Reaped, what: string): string[] {
  const lines: string[] = [];
  if (r.killed.length)
    lines.push(
      `${what}: killed ${r.killed.length} process(es) left running (${r.killed.map((k) => (k.name === "?" ? `${k.pid}` : `${k.name} ${k.pid}`)).join(", ")})`,
    );
  for (const u of r.undone) lines.push(`${what}: ${u}`);
  return lines;
}

/** Processes recorded in `dir` by every supervisor (live or not) that still run with the dir on their command line. */
export function recordedProcesses(dir: string): { readonly name: string; readonly pid: number }[] {
  const runDir = path.join(dir, "run");
  if (!existsSync(runDir)) return [];
  return readdirSync(runDir)
    .filter((n) => n.endsWith(".jsonl"))
    .flatMap((f) => {
      const lines = readLines(path.join(runDir, f));
      const names = new Map(lines.filter((l) => l.t === "process").map((l) => [(l as { id: number }).id, (l as { name: string }).name]));
      return lines
        .filter((l): l is Extract<Line, { t: "pid" }> => l.t === "pid")
        .map((l) => ({ name: names.get(l.id) ?? "?", pid: l.pid }));
    })
    .filter((p) => mentions(p.pid, dir));
}

/** Pids of `recordedProcesses`. */
export function recordedPids(dir: string): number[] {
  return recordedProcesses(dir).map((p) => p.pid);
}
