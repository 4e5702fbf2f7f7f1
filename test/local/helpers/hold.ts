/**
 * A supervisor for test/local/supervisor.test.ts to kill: starts one nats-server under a Supervisor in the
 * state dir given, optionally records and applies an nftables table and freezes the server (SIGSTOP) the way a
 * blackhole does, prints the server's pid as JSON and waits to be killed.
 * Arguments: <state dir> <port> [<nft table or "-">] ["stop"]
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { busyPorts, Supervisor, waitFor } from "../../../src/local/supervisor";

async function main(): Promise<void> {
  const [dir, port, table, stop] = process.argv.slice(2) as [string, string, string?, string?];
  const sup = new Supervisor(dir);
  const p = sup.spawnProcess("srv", sup.natsServer, ["-a", "127.0.0.1", "-p", port, "-P", path.join(dir, "srv.pid")]);
  if (!(await waitFor(async () => (await busyPorts([Number(port)])).length === 1, 30000, 50)))
    throw new Error(`nats-server did not listen: ${readFileSync(p.logFile, "utf8").slice(-500)}`);
  if (table && table !== "-") {
    sup.records.fault({ kind: "nft-table", table });
    spawnSync("nft", ["add", "table", "inet", table]);
  }
  if (stop === "stop") {
    sup.records.fault({ kind: "sigstop", processes: [{ name: "srv", pid: p.pid }] });
    process.kill(p.pid, "SIGSTOP");
  }
  process.stdout.write(JSON.stringify({ pid: p.pid }) + "\n");
  setInterval(() => {}, 1000);
}

void main();
