/**
 * Children that never outlive their supervisor, however it dies (SIGKILL included): each is started through
 * util-linux's `setpriv --pdeathsig KILL`, which sets PR_SET_PDEATHSIG and execs the program in its place, so
 * the kernel sends SIGKILL when the process that spawned it (this one) exits. A stopped (SIGSTOPped) child is
 * killed too. nats-server has no such option and Node cannot call prctl; hosts also watch a piped stdin.
 */
import { spawnSync } from "node:child_process";

let cached: string | null | undefined;

/** Absolute path of a `setpriv` that supports `--pdeathsig` (util-linux >= 2.33), or undefined. */
export function setprivBin(): string | undefined {
  if (cached === undefined) {
    cached = null;
    if (process.platform === "linux" && process.env.LATTICEFORM_NO_PDEATHSIG !== "1") {
      const where = spawnSync("sh", ["-c", "command -v setpriv"], { encoding: "utf8" });
      const bin = where.status === 0 ? where.stdout.trim() : "";
      if (bin && spawnSync(bin, ["--pdeathsig", "KILL", "true"], { stdio: "ignore" }).status === 0) cached = bin;
    }
  }
  return cached ?? undefined;
}

/** Why children could outlive a SIGKILLed supervisor here (then the next command reaps them); undefined when they cannot. */
export function pdeathsigUnavailable(): string | undefined {
  return setprivBin() ? undefined : "setpriv --pdeathsig (util-linux >= 2.33, Linux) is not available";
}

/** The command line that runs `command args` with the parent-death signal set, when the platform allows it. */
export function launchCommand(command: string, args: readonly string[]): { command: string; args: string[] } {
  const setpriv = setprivBin();
  // The gid Node sets before exec does not clear the death signal: setpriv sets it after, then execs.
  return setpriv ? { command: setpriv, args: ["--pdeathsig", "KILL", "--", command, ...args] } : { command, args: [...args] };
}
