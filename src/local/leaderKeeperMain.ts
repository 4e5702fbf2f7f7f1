/** Entry point of the leader keeper process: `node leaderKeeperMain.ts <stateDir>` (see leaders.ts). */
import { LeaderKeeper } from "./leaders";
import { openLocal } from "./state";

async function main(): Promise<void> {
  const [stateDir] = process.argv.slice(2);
  if (!stateDir) throw new Error("usage: leaderKeeperMain.ts <stateDir>");
  const r = await openLocal(stateDir);
  const log = (line: string) => process.stdout.write(`${new Date().toISOString()} [leaders] ${line}\n`);
  const keeper = new LeaderKeeper(r, undefined, { log });
  const stop = async () => {
    await keeper.stop();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop());
  process.on("SIGINT", () => void stop());
  // The supervisor closing our stdin (its own exit) stops us too.
  process.stdin.on("end", () => void stop());
  process.stdin.resume();
  const t0 = Date.now();
  await keeper.start();
  const placed = await keeper.placed(15000);
  log(placed ? `every kept leader at the site after ${Date.now() - t0} ms` : "not every kept leader could be placed yet; still trying");
  log(
    `keeping ${keeper.plan.streams.map((s) => s.stream).join(", ")}${keeper.plan.meta ? " and the meta leader" : ""} at ${keeper.plan.site}`,
  );
  log("ready");
}

main().catch((e: unknown) => {
  process.stderr.write(`leader keeper failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
