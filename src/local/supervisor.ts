/**
 * Starts nats-server processes from rendered configs on loopback, waits until each is ready (monitoring
 * endpoint), and stops them by process id on any exit of this process: normal exit, an uncaught error,
 * SIGINT/SIGTERM, or a failed test. Every child is recorded in the state dir before it is spawned
 * (`records.ts`) and started with a parent-death signal (`launcher.ts`), so it dies with this process even
 * when this process is SIGKILLed, and the next command reaps whatever is left.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, openSync, readFileSync, closeSync } from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";
import { natsServerBin } from "../tools/pins";
import { sleep } from "../lib/time";
import { launchCommand } from "./launcher";
import { reapDir, RunRecords } from "./records";

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  readonly monitorPort?: number;
  readonly logFile: string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<number | null>;
}

const live = new Set<Supervisor>();
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  // Synchronous kill and fault undo on exit: the only thing that still runs when the process is going away.
  process.on("exit", () => {
    for (const s of live) s.killAllSync();
  });
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const onSignal = () => {
      // A command that handles the signal itself (a drill undoing its faults and writing evidence) decides.
      if (process.listeners(sig).some((l) => l !== onSignal)) return;
      for (const s of live) s.killAllSync();
      process.exit(128 + (sig === "SIGINT" ? 2 : sig === "SIGTERM" ? 15 : 1));
    };
    process.on(sig, onSignal);
  }
}

export function httpGet(port: number, pathName: string, timeoutMs = 1000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path: pathName, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

export async function monitorJson<T>(port: number, pathName: string): Promise<T> {
  const r = await httpGet(port, pathName);
  return JSON.parse(r.body) as T;
}

export { sleep };

/** Poll `check` every `everyMs` until it returns true or `timeoutMs` passes; bounded in count and time. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 25): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < Math.ceil(timeoutMs / everyMs) + 1; i++) {
    try {
      if (await check()) return true;
    } catch {
      // not ready yet
    }
    if (Date.now() >= deadline) break;
    await sleep(everyMs);
  }
  return false;
}

/** Ports already taken on loopback, with who needs them. */
export async function busyPorts(ports: readonly number[]): Promise<number[]> {
  const busy: number[] = [];
  await Promise.all(
    ports.map(
      (port) =>
        new Promise<void>((resolve) => {
          const srv = net.createServer();
          srv.once("error", () => {
            busy.push(port);
            resolve();
          });
          srv.listen({ host: "127.0.0.1", port, exclusive: true }, () => srv.close(() => resolve()));
        }),
    ),
  );
  return busy.sort((a, b) => a - b);
}

export class Supervisor {
  private readonly procs = new Map<string, ManagedProcess>();
  /** What this supervisor started and the faults applied through it, recorded before they happen. */
  readonly records: RunRecords;
  private closed = false;
  private staleKilled = 0;

  constructor(
    private readonly stateDir: string,
    readonly natsServer = natsServerBin(),
  ) {
    mkdirSync(path.join(stateDir, "logs"), { recursive: true, mode: 0o700 });
    this.staleKilled = reapDir(stateDir).killed.length;
    this.records = new RunRecords(stateDir);
    installExitHooks();
    live.add(this);
  }

  /** Processes a previous run recorded but did not stop (it was killed itself): reaped when this supervisor was made. */
  reapStale(): number {
    const n = this.staleKilled + reapDir(this.stateDir).killed.length;
    this.staleKilled = 0;
    return n;
  }

  get processes(): ReadonlyMap<string, ManagedProcess> {
    return this.procs;
  }

  /** Spawn any program under supervision (used for Wasm host processes too). */
  spawnProcess(
    name: string,
    command: string,
    args: readonly string[],
    opts: { monitorPort?: number; env?: NodeJS.ProcessEnv; pipeStdin?: boolean; gid?: number } = {},
  ): ManagedProcess {
    if (this.procs.has(name)) throw new Error(`process ${name} is already running (pid ${this.procs.get(name)!.pid})`);
    if (this.closed) throw new Error(`not starting ${name}: the supervisor of ${this.stateDir} was stopped`);
    const logFile = this.logFileOf(name);
    const fd = openSync(logFile, "a", 0o600);
    const id = this.records.process(name);
    const launch = launchCommand(command, args);
    // A piped stdin closes when we die, however we die: children that watch it never outlive us.
    const child = spawn(launch.command, launch.args, {
      stdio: [opts.pipeStdin ? "pipe" : "ignore", fd, fd],
      env: opts.env ?? process.env,
      // Own process group: a terminal's Ctrl-C reaches the command, which stops its children in order.
      detached: true,
      ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
    });
    closeSync(fd);
    if (child.pid === undefined) throw new Error(`could not start ${command} for ${name}`);
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const mp: ManagedProcess = { name, pid: child.pid, child, monitorPort: opts.monitorPort, logFile, exited };
    this.procs.set(name, mp);
    this.records.spawned(id, child.pid);
    void exited.then(() => {
      if (this.procs.get(name) === mp) this.procs.delete(name);
    });
    return mp;
  }

  logFileOf(name: string): string {
    return path.join(this.stateDir, "logs", `${name}.log`);
  }

  startServer(name: string, confFile: string, monitorPort: number, gid?: number): ManagedProcess {
    return this.spawnProcess(name, this.natsServer, ["-c", confFile], { monitorPort, gid });
  }

  /** Wait until /healthz answers 200 (JetStream servers: once they reached the meta leader). */
  async waitReady(names: readonly string[], timeoutMs = 20000, healthPath = "/healthz"): Promise<void> {
    const gone = names.filter((n) => !this.procs.has(n));
    if (gone.length) throw new Error(`servers exited while starting: ${gone.map((n) => `${n} (log ${this.logFileOf(n)})`).join(", ")}`);
    const pending = names.map((n) => this.procs.get(n)!);
    const results = await Promise.all(
      pending.map(async (p) => {
        let exited = false;
        void p.exited.then(() => (exited = true));
        const ok = await waitFor(async () => {
          if (exited) throw new Error("exited");
          return (await httpGet(p.monitorPort!, healthPath, 500)).status === 200;
        }, timeoutMs);
        return { p, ok: ok && !exited, exited };
      }),
    );
    const bad = results.filter((r) => !r.ok);
    if (bad.length) {
      const detail = bad
        .map((b) => {
          const tail = existsSync(b.p.logFile) ? readFileSync(b.p.logFile, "utf8").trim().split("\n").slice(-3).join(" | ") : "";
          return `${b.p.name} (pid ${b.p.pid}) ${b.exited ? "exited" : `not ready after ${timeoutMs} ms`}: ${tail}`;
        })
        .join("\n  ");
      throw new Error(`servers not ready:\n  ${detail}`);
    }
  }

  signal(name: string, sig: NodeJS.Signals): void {
    const p = this.procs.get(name);
    if (!p) throw new Error(`no process ${name}`);
    process.kill(p.pid, sig);
  }

  /** Stop one process: SIGTERM, then SIGKILL after `graceMs`. */
  async stop(name: string, graceMs = 3000): Promise<void> {
    const p = this.procs.get(name);
    if (!p) return;
    try {
      process.kill(p.pid, "SIGCONT");
      process.kill(p.pid, "SIGTERM");
    } catch {
      return;
    }
    const t = setTimeout(() => {
      try {
        process.kill(p.pid, "SIGKILL");
      } catch {
        // gone
      }
    }, graceMs);
    await p.exited;
    clearTimeout(t);
  }

  /** Kill one process at once (a crash, as a fault). */
  async kill(name: string): Promise<void> {
    const p = this.procs.get(name);
    if (!p) return;
    try {
      process.kill(p.pid, "SIGKILL");
    } catch {
      return;
    }
    await p.exited;
  }

  /** Stop every process; no process starts after this. Faults still recorded as in force are undone first. */
  async stopAll(graceMs = 3000): Promise<void> {
    this.closed = true;
    this.records.undoOpenSync();
    await Promise.all([...this.procs.keys()].map((n) => this.stop(n, graceMs)));
    this.records.close();
    live.delete(this);
  }

  /** At once, synchronously (exit hooks, a second Ctrl-C): undo the faults in force, SIGKILL every process. */
  killAllSync(): void {
    this.closed = true;
    this.records.undoOpenSync();
    for (const p of this.procs.values()) {
      try {
        process.kill(p.pid, "SIGKILL");
      } catch {
        // gone
      }
    }
  }

  pids(): number[] {
    return [...this.procs.values()].map((p) => p.pid);
  }
}

/** True when a process with this pid exists (and is not a zombie). */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}
