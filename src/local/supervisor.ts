/**
 * Starts nats-server processes from rendered configs on loopback, waits until each is ready (monitoring
 * endpoint), and stops them by process id on any exit of this process: normal exit, an uncaught error,
 * SIGINT/SIGTERM, or a failed test. A pid file lets the next run kill what a hard-killed run left behind.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync, closeSync } from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";
import { natsServerBin } from "../tools/pins";
import { sleep } from "../lib/time";

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
  // Synchronous kill on exit: the only thing that still runs when the process is going away.
  process.on("exit", () => {
    for (const s of live) s.killAllSync();
  });
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(sig, () => {
      for (const s of live) s.killAllSync();
      process.exit(128 + (sig === "SIGINT" ? 2 : sig === "SIGTERM" ? 15 : 1));
    });
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
  private readonly pidFile: string;

  constructor(
    private readonly stateDir: string,
    readonly natsServer = natsServerBin(),
  ) {
    mkdirSync(path.join(stateDir, "logs"), { recursive: true, mode: 0o700 });
    this.pidFile = path.join(stateDir, "pids");
    installExitHooks();
    live.add(this);
  }

  /** Kill processes a previous run recorded but did not stop (it was killed itself). */
  reapStale(): number {
    if (!existsSync(this.pidFile)) return 0;
    let n = 0;
    for (const line of readFileSync(this.pidFile, "utf8").split("\n")) {
      const pid = Number(line.split(" ")[0]);
      if (!pid) continue;
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
        if (cmd.includes(this.stateDir)) {
          process.kill(pid, "SIGKILL");
          n++;
        }
      } catch {
        // already gone
      }
    }
    writeFileSync(this.pidFile, "");
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
    const logFile = this.logFileOf(name);
    const fd = openSync(logFile, "a", 0o600);
    // A piped stdin closes when we die, however we die: children that watch it never outlive us.
    const child = spawn(command, args as string[], {
      stdio: [opts.pipeStdin ? "pipe" : "ignore", fd, fd],
      env: opts.env ?? process.env,
      ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
    });
    closeSync(fd);
    if (child.pid === undefined) throw new Error(`could not start ${command} for ${name}`);
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const mp: ManagedProcess = { name, pid: child.pid, child, monitorPort: opts.monitorPort, logFile, exited };
    this.procs.set(name, mp);
    appendFileSync(this.pidFile, `${child.pid} ${name}\n`, { mode: 0o600 });
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

  async stopAll(graceMs = 3000): Promise<void> {
    await Promise.all([...this.procs.keys()].map((n) => this.stop(n, graceMs)));
    writeFileSync(this.pidFile, "");
    live.delete(this);
  }

  killAllSync(): void {
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
