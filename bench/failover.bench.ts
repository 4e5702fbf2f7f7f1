/**
 * Failover benchmark: recovery time per fault and connection mode, latticeform's Wasm host beside the floor
 * of a bare NATS responder on the same path, measured in the same run under the same fault.
 *
 * Topology: the small example's servers; in GCP a leaf-connected and a direct-connected Wasm host serving the
 * validator, and two plain NATS responders (one behind the GCP leaf, one direct). Requesters in AWS: one on the
 * AWS leaf (remotes interleaved), one direct client holding every cloud's URLs. Faults hit the AWS hubs:
 * `kill` (SIGKILL, peers see a reset) and `blackhole` (SIGSTOP, only pings detect it). RTO = fault to the first
 * successful reply, requests every 5 ms with a 500 ms timeout (the definition of the shared baseline).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { NatsConnection } from "@nats-io/transport-node";
import { probeConnection } from "../src/drill/probes";
import { connectLocal } from "../src/local/client";
import { upLocal } from "../src/local/lattice";
import { renderLocal, type LocalRender } from "../src/local/state";
import { monitorJson, Supervisor, waitFor } from "../src/local/supervisor";
import { parseLattice } from "../src/model/validate";
import { validatePaymentJs } from "./plain-validator";
import { median as lowerMedian } from "../src/lib/stats";
import { samplePayment } from "../src/lib/samples";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const payment = samplePayment("p");

function spec() {
  return parseLattice({
    name: "failover-bench",
    clouds: [
      {
        name: "aws",
        provider: "aws",
        region: "eu-west-1",
        zones: ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
        hostPools: [{ name: "edge", hosts: 1, remoteOrder: "interleaved" }],
      },
      {
        name: "gcp",
        provider: "gcp",
        region: "europe-west3",
        zones: ["europe-west3-a", "europe-west3-b", "europe-west3-c"],
        hostPools: [
          { name: "edge", hosts: 1 },
          { name: "core", hosts: 1, connection: "direct" },
        ],
      },
    ],
    tieBreaker: { name: "tb", provider: "gcp", region: "europe-west4", zones: ["europe-west4-a"] },
    workloads: [
      { name: "validator", artifact: { path: "workloads/build/validator.wasm" }, subject: "payments.validate", instances: { gcp: 1 } },
    ],
    local: { basePort: 26000 },
  });
}

/** Requests every 5 ms; resolves with the time from `faultAt` to the first success after it. */
function firstSuccessAfter(
  nc: NatsConnection,
  subject: string,
  faultAt: () => number | undefined,
  limitMs: number,
): Promise<number | null> {
  return new Promise((resolve) => {
    let done = false;
    const stopAt = performance.now() + limitMs;
    const timer = setInterval(() => {
      const t0 = faultAt();
      if (done) return;
      if (performance.now() > stopAt) {
        done = true;
        clearInterval(timer);
        resolve(null);
        return;
      }
      if (t0 === undefined) return;
      const sent = performance.now();
      nc.request(subject, payment, { timeout: 500 })
        .then(() => {
          if (!done && sent >= t0) {
            done = true;
            clearInterval(timer);
            resolve(performance.now() - t0);
          }
        })
        .catch(() => {});
    }, 5);
  });
}

const median = (v: number[]): number => lowerMedian(v) ?? NaN;

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), "lf-bench-failover-"));
  const r: LocalRender = await renderLocal(spec(), "bench-failover", dir);
  const sup = new Supervisor(dir);
  const results = new Map<string, number[]>();
  const add = (k: string, v: number | null) => {
    if (!results.has(k)) results.set(k, []);
    if (v !== null) results.get(k)!.push(v);
  };
  try {
    await upLocal(r, sup);
    // Plain responders on the same paths as the Wasm hosts.
    const plainLeaf = await connectLocal(r, { servers: ["gcp-edge-1-leaf"] });
    // The same connection settings as the drills' direct clients, homed in GCP.
    const plainDirect = await probeConnection(r, "gcp", "bench plain responder");
    plainLeaf.subscribe("plain.leaf", { callback: (_e, m) => void m.respond(JSON.stringify(validatePaymentJs(JSON.parse(m.string())))) });
    plainDirect.subscribe("plain.direct", {
      callback: (_e, m) => void m.respond(JSON.stringify(validatePaymentJs(JSON.parse(m.string())))),
    });
    const awsHubs = r.nats.servers.filter((s) => s.site === "aws").map((s) => s.name);
    for (const fault of ["kill", "blackhole"] as const) {
      for (let run = 0; run < RUNS; run++) {
        // The AWS leaf must start on an AWS hub, or the fault would not bite its path: restart it (its remote
        // lists aws-1 first) and wait until its leafnode connection is to an AWS hub.
        const leaf = r.nats.leafs.find((l) => l.name === "aws-edge-1-leaf")!;
        const awsLeafPorts = r.topo.servers.filter((x) => x.site === "aws").map((x) => r.layout.env.ports(x).leafnode);
        await sup.stop(leaf.name);
        sup.startServer(leaf.name, r.confFiles[leaf.name]!, leaf.monitorPort);
        await sup.waitReady([leaf.name]);
        await waitFor(
          async () => {
            const lz = await monitorJson<{ leafs?: { port: number }[] }>(leaf.monitorPort, "/leafz");
            return (lz.leafs ?? []).some((l) => awsLeafPorts.includes(l.port));
          },
          10000,
          50,
        );
        const leafReq = await connectLocal(r, {
          servers: ["aws-edge-1-leaf"],
          options: { maxReconnectAttempts: -1, reconnectJitter: 0, reconnectJitterTLS: 0 },
        });
        const directReq = await probeConnection(r, "aws", "bench direct requester");
        // Warm: interest for every subject must have crossed the gateway before the fault.
        for (const [nc, subj] of [
          [leafReq, "plain.leaf"],
          [leafReq, "payments.validate"],
          [directReq, "plain.direct"],
          [directReq, "payments.validate"],
        ] as const) {
          for (let i = 0; i < 50; i++)
            if (
              await nc.request(subj, payment, { timeout: 1000 }).then(
                () => true,
                () => false,
              )
            )
              break;
        }
        const fault0: { at?: number } = {};
        const at = () => fault0.at;
        const probes = {
          [`${fault}/leaf/plain`]: firstSuccessAfter(leafReq, "plain.leaf", at, 60000),
          [`${fault}/leaf/wasm`]: firstSuccessAfter(leafReq, "payments.validate", at, 60000),
          [`${fault}/direct/plain`]: firstSuccessAfter(directReq, "plain.direct", at, 60000),
          [`${fault}/direct/wasm`]: firstSuccessAfter(directReq, "payments.validate", at, 60000),
        };
        await new Promise((res) => setTimeout(res, 200));
        fault0.at = performance.now();
        if (fault === "kill") await Promise.all(awsHubs.map((n) => sup.kill(n)));
        else for (const n of awsHubs) sup.signal(n, "SIGSTOP");
        for (const [k, p] of Object.entries(probes)) add(k, await p);
        // Restore the AWS hubs before the next run.
        if (fault === "kill") {
          for (const s of r.nats.servers.filter((x) => awsHubs.includes(x.name)))
            sup.startServer(s.name, r.confFiles[s.name]!, s.monitorPort);
          await sup.waitReady(awsHubs, 60000);
        } else for (const n of awsHubs) sup.signal(n, "SIGCONT");
        await leafReq.close();
        await directReq.close();
        await new Promise((res) => setTimeout(res, 3000));
      }
    }
    await plainLeaf.close();
    await plainDirect.close();
  } finally {
    await sup.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`recovery time (fault -> first successful reply), median of ${RUNS} runs [min / median / max] ms`);
  console.log("fault      mode    bare NATS floor              latticeform Wasm host         ratio (target <= 1.5)");
  for (const fault of ["kill", "blackhole"]) {
    for (const mode of ["direct", "leaf"]) {
      const p = results.get(`${fault}/${mode}/plain`) ?? [];
      const w = results.get(`${fault}/${mode}/wasm`) ?? [];
      const fmt = (v: number[]) =>
        v.length ? `${Math.min(...v).toFixed(0)} / ${median(v).toFixed(0)} / ${Math.max(...v).toFixed(0)}` : "n/a";
      const ratio = p.length && w.length ? (median(w) / Math.max(1, median(p))).toFixed(2) : "n/a";
      console.log(
        `${fault.padEnd(10)} ${mode.padEnd(7)} ${fmt(p).padEnd(28)} ${fmt(w).padEnd(29)} ${ratio}${w.length < RUNS ? ` (${RUNS - w.length} runs never recovered)` : ""}`,
      );
    }
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
