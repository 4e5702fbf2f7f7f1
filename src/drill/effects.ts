/**
 * Every fault checks its own effect right after injection, and the check goes into the evidence: a fault
 * that did nothing must never read as "the lattice survived it". Killed processes are gone, frozen ones are
 * stopped, a partition's rules are in place and a connection across them is refused, a delay is measurable.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { siteGid, sitePorts } from "../local/sites";
import type { LocalRender } from "../local/state";
import { pidAlive } from "../local/supervisor";
import type { Injected } from "./faults";

export interface Effect {
  readonly ok: boolean;
  readonly detail: string;
}

/** Process state letter from /proc (R, S, T for stopped, ...), or undefined when gone. */
function procState(pid: number): string | undefined {
  try {
    return /^\d+ \(.*\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, "utf8"))?.[1];
  } catch {
    return undefined;
  }
}

/** A signal is delivered when the process is next scheduled: on a busy machine, give it a moment (bounded). */
async function processesEffect(inj: Injected, want: "gone" | "stopped", waitMs = 2000): Promise<Effect> {
  const deadline = Date.now() + waitMs;
  let e = processesNow(inj, want);
  while (!e.ok && Date.now() < deadline) {
    await new Promise((res) => setTimeout(res, 20));
    e = processesNow(inj, want);
  }
  return e;
}

function processesNow(inj: Injected, want: "gone" | "stopped"): Effect {
  const bad: string[] = [];
  const pids = inj.pids ?? {};
  if (inj.processes.length === 0) return { ok: false, detail: "no process was targeted" };
  for (const name of inj.processes) {
    const pid = pids[name];
    if (pid === undefined || pid === null) bad.push(`${name} was not running`);
    else if (want === "gone" && pidAlive(pid)) bad.push(`${name} (pid ${pid}) is still running`);
    else if (want === "stopped" && !/^[Tt]$/.test(procState(pid) ?? ""))
      bad.push(`${name} (pid ${pid}) is ${procState(pid) ? `in state ${procState(pid)}, not stopped` : "gone"}`);
  }
  return bad.length
    ? { ok: false, detail: bad.join("; ") }
    : { ok: true, detail: `${inj.processes.length} process(es) ${want}: ${inj.processes.join(", ")}` };
}

/** Connect from a process running as `gid` to 127.0.0.1:port; how long it took, or why it failed. */
export function connectAs(gid: number | undefined, port: number, timeoutMs: number): { ok: boolean; ms: number; error?: string } {
  const script = `const s=require("net").connect(${port},"127.0.0.1");const t=performance.now();const end=(o)=>{console.log(JSON.stringify({...o,ms:+(performance.now()-t).toFixed(1)}));process.exit(0)};s.on("connect",()=>{s.destroy();end({ok:true})});s.on("error",(e)=>end({ok:false,error:e.code||e.message}));setTimeout(()=>end({ok:false,error:"timed out"}),${timeoutMs});`;
  const r = spawnSync(process.execPath, ["-e", script], {
    encoding: "utf8",
    timeout: timeoutMs + 5000,
    ...(gid !== undefined ? { gid } : {}),
  });
  try {
    return JSON.parse(r.stdout.trim()) as { ok: boolean; ms: number; error?: string };
  } catch {
    return { ok: false, ms: 0, error: `probe did not run: ${(r.stderr || String(r.error ?? "")).trim().slice(0, 120)}` };
  }
}

function networkEffect(r: LocalRender, inj: Injected): Effect {
  const [a, b] = inj.processes as [string, string];
  const port = sitePorts(r, b)[0];
  const gid = siteGid(r, a);
  if (port === undefined || gid === undefined) return { ok: false, detail: `no port of ${b} or no group id of ${a} to probe across` };
  if (inj.step.kind === "partition") {
    const rules = inj.net?.listRules() ?? "";
    const drops = (rules.match(/\bdrop\b/g) ?? []).length;
    if (drops < 2) return { ok: false, detail: `expected a drop rule each way between ${a} and ${b}, found ${drops}` };
    const probe = connectAs(gid, port, 1000);
    return probe.ok
      ? { ok: false, detail: `a connection from ${a} to ${b}:${port} still succeeded in ${probe.ms} ms` }
      : { ok: true, detail: `${drops} drop rules in place; a connection from ${a} to ${b}:${port} failed (${probe.error})` };
  }
  const delay = inj.step.delayMs ?? 100;
  const probe = connectAs(gid, port, delay * 4 + 1000);
  return probe.ok && probe.ms >= delay * 0.8
    ? { ok: true, detail: `a connection from ${a} to ${b}:${port} took ${probe.ms} ms (delay ${delay} ms injected)` }
    : {
        ok: false,
        detail: `a connection from ${a} to ${b}:${port} ${probe.ok ? `took only ${probe.ms} ms` : `failed (${probe.error})`}; expected at least ${delay} ms`,
      };
}

/** The fault's own check that it took effect (skipped faults took none). */
export async function checkEffect(r: LocalRender, inj: Injected): Promise<Effect> {
  switch (inj.action) {
    case "skipped":
      return { ok: false, detail: `not injected: ${inj.reason ?? "no reason given"}` };
    case "killed":
      return processesEffect(inj, "gone");
    case "frozen":
      return processesEffect(inj, "stopped");
    case "network":
      return networkEffect(r, inj);
  }
}
