/**
 * The baseline responder in its own process, as a Wasm host is: the validator's rules in plain JavaScript,
 * on the same leaf sidecar as the host (`node --import tsx bench/plain-responder.ts <stateDir> <leaf>`).
 */
import { connectLocal } from "../src/local/client";
import { openLocal } from "../src/local/state";
import { validatePaymentJs } from "./plain-validator";

async function main(): Promise<void> {
  const [stateDir, leaf] = process.argv.slice(2);
  if (!stateDir || !leaf) throw new Error("usage: plain-responder.ts <stateDir> <leaf>");
  const nc = await connectLocal(await openLocal(stateDir), { servers: [leaf] });
  nc.subscribe("bench.plain", {
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
