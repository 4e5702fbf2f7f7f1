/**
 * The baseline responder in its own process, as a Wasm host is: the validator's rules in plain JavaScript,
 * connected as a host of the lattice connects.
 *   node --import tsx bench/plain-responder.ts <stateDir> <leaf> [subject]            on a host's leaf sidecar
 *   node --import tsx bench/plain-responder.ts <stateDir> --direct <host> [subject]   as that direct host does
 */
import { hubUrlsFor } from "../src/compile/nats";
import { connectLocal, HOST_CONNECTION } from "../src/local/client";
import { openLocal, type LocalRender } from "../src/local/state";
import { validatePaymentJs } from "./plain-validator";

/** A direct host's connection settings (src/local/host/host.ts, Host.start): every cloud's hubs in the pool's order. */
function directOptions(r: LocalRender, hostName: string) {
  const host = r.topo.hosts.find((h) => h.name === hostName);
  if (!host) throw new Error(`no host ${hostName}`);
  return {
    servers: hubUrlsFor(r.spec, r.topo, r.layout.env, host.cloud, host.remoteOrder, "client", "tls"),
    ...HOST_CONNECTION,
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const [stateDir] = args;
  const direct = args[1] === "--direct";
  const target = direct ? args[2] : args[1];
  const subject = (direct ? args[3] : args[2]) ?? "bench.plain";
  if (!stateDir || !target) throw new Error("usage: plain-responder.ts <stateDir> (<leaf> | --direct <host>) [subject]");
  const r = await openLocal(stateDir);
  const nc = await connectLocal(r, direct ? { name: "plain responder", options: directOptions(r, target) } : { servers: [target] });
  nc.subscribe(subject, {
    queue: "plain",
    callback: (_e, m) => void m.respond(JSON.stringify(validatePaymentJs(JSON.parse(m.string())))),
  });
  await nc.flush();
  process.stdout.write("ready\n");
  process.stdin.on("end", () => void nc.close().then(() => process.exit(0)));
  process.stdin.resume();
}

main().catch((e: unknown) => {
  process.stderr.write(`${String(e)}\n`);
  process.exit(1);
});
