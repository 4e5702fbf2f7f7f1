/** Entry point of one Wasm host process: `node --import tsx src/local/host/main.ts <stateDir> <host>`. */
import { runMain, stopWithSupervisor } from "../childProcess";
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
  stopWithSupervisor(() => host.stop());
  await host.start();
  log("ready");
}

runMain("host", main);
