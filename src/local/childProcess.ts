/** What every process the local supervisor starts (Wasm hosts, the leader keeper) does about stopping. */

/**
 * Run `stop` once, then exit 0, on SIGTERM, SIGINT, or when the supervisor closes our stdin (its own exit), so
 * no process outlives the lattice that started it.
 */
export function stopWithSupervisor(stop: () => Promise<void>): void {
  let stopping = false;
  const once = async () => {
    if (stopping) return;
    stopping = true;
    await stop();
    process.exit(0);
  };
  process.on("SIGTERM", () => void once());
  process.on("SIGINT", () => void once());
  process.stdin.on("end", () => void once());
  process.stdin.resume();
}

/** The process's entry: `main`, and exit 1 with the error's stack when it fails. */
export function runMain(what: string, main: () => Promise<void>): void {
  main().catch((e: unknown) => {
    process.stderr.write(`${what} failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
