/** Entry point of one Wasm host process: `node --import tsx src/local/host/main.ts <stateDir> <host>`. */
import { openLocal } from "../state";
import { WasmHost } from "./host";

async function main(): Promise<void> {
  const [stateDir, hostName] = process.argv.slice(2);
  if (!stateDir || !hostName) throw new Error("usage: main.ts <stateDir> <host>");
  const r = await openLocal(stateDir);
  const node = r.topo.hosts.find((h) => h.name === hostName);
  if (!node) throw new Error(`no host ${hostName} in the lattice (have ${r.topo.hosts.map((h) => h.name).join(", ")})`);
  const log = (line: string) => process.stdout.write(`${new Date().toISOString()} [${hostName}] ${line}\n`);
  const host = new WasmHost(r, node, log);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await host.stop();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop());
  process.on("SIGINT", () => void stop());
  // The supervisor closing our stdin (its own exit) stops us too: no orphaned hosts.
  process.stdin.on("end", () => void stop());
  process.stdin.resume();
  await host.start();
  log("ready");
}

main().catch((e: unknown) => {
  process.stderr.write(`host failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
