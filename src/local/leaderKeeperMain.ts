/** Entry point of the leader keeper process: `node leaderKeeperMain.ts <stateDir>` (see leaders.ts). */
import { runMain, stopWithSupervisor } from "./childProcess";
import { LeaderKeeper } from "./leaders";
import { openLocal } from "./state";

async function main(): Promise<void> {
  const [stateDir] = process.argv.slice(2);
  if (!stateDir) throw new Error("usage: leaderKeeperMain.ts <stateDir>");
  const r = await openLocal(stateDir);
  const log = (line: string) => process.stdout.write(`${new Date().toISOString()} [leaders] ${line}\n`);
  const keeper = new LeaderKeeper(r, undefined, { log });
  stopWithSupervisor(() => keeper.stop());
  const t0 = Date.now();
  await keeper.start();
  const placed = await keeper.placed(15000);
  log(placed ? `every kept leader at the site after ${Date.now() - t0} ms` : "not every kept leader could be placed yet; still trying");
  log(
    `keeping ${keeper.plan.streams.map((s) => s.stream).join(", ")}${keeper.plan.meta ? " and the meta leader" : ""} at ${keeper.plan.site}`,
  );
  log("ready");
}

runMain("leader keeper", main);
