// A workload in JavaScript, built with ComponentizeJS for the stateless world: it answers with the
// validator's verdict shape for any payment, proving another toolchain's component runs unchanged.
import { publish } from "wasmcloud:messaging/consumer@0.2.0";

const enc = new TextEncoder();
const dec = new TextDecoder();

export const handler = {
  handleMessage(msg) {
    if (msg.replyTo === undefined) return;
    let body;
    try {
      const req = JSON.parse(dec.decode(msg.body));
      body = { id: req.id ?? null, echoed: req, subject: msg.subject, runtime: "componentize-js" };
    } catch (e) {
      body = { error: String(e.message ?? e) };
    }
    publish({ subject: msg.replyTo, body: enc.encode(JSON.stringify(body)), replyTo: undefined });
  },
};
