/**
 * Failover benchmark: recovery time per fault and connection mode, latticeform's Wasm host beside an
 * independent floor measured in the same run under the same fault.
 *
 * Case "responder side" (the floor that can differ): one lattice per connection mode, the validator served
 * only by a GCP host connected that way (behind its leaf sidecar, or direct to every cloud's hubs). Beside it a
 * plain NATS responder in its own process with the host's connection settings (bench/plain-responder.ts). The
 * fault hits the GCP hubs the responders use (`kill`: SIGKILL; `blackhole`: SIGSTOP); the requester, a direct
 * client in AWS, is untouched. Before each run the responders are brought back home (leaf restarted onto a GCP
 * hub; direct host and plain responder restarted) so the fault bites both.
 * Case "requester side" (labelled; both paths share the requester's failover, so the ratio is ~1 by design):
 * the AWS hubs are faulted and the requesters (on the AWS leaf, and direct) must fail over.
 * RTO = fault to the first successful reply, requests every 5 ms with a 500 ms timeout (the shared baseline's
 * definition); median of >= 5 runs.
 */
import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { NatsConnection } from "@nats-io/transport-node";
import { probeConnection } from "../src/drill/probes";
import { connectLocal } from "../src/local/client";
import { startHosts, upLocal } from "../src/local/lattice";
import { renderLocal, type LocalRender } from "../src/local/state";
import { monitorJson, Supervisor, waitFor } from "../src/local/supervisor";
import { parseLattice } from "../src/model/validate";
import { median as lowerMedian } from "../src/lib/stats";
import { samplePayment } from "../src/lib/samples";

const RUNS = Math.max(5, Number(process.env.BENCH_RUNS ?? 5));
const payment = samplePayment("p");
type Mode = "leaf" | "direct";
type Fault = "kill" | "blackhole";

function spec(mode: Mode) {
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
        hostPools: [mode === "leaf" ? { name: "edge", hosts: 1 } : { name: "core", hosts: 1, connection: "direct" }],
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

const results = new Map<string, number[]>();
const never = new Map<string, number>();
function add(k: string, v: number | null): void {
  if (!results.has(k)) results.set(k, []);
  if (v !== null) results.get(k)!.push(v);
  else never.set(k, (never.get(k) ?? 0) + 1);
}

/** Restart a leaf and wait until its leafnode connection is to a hub of `home` (the fault must bite its path). */
async function leafHome(r: LocalRender, sup: Supervisor, leafName: string, home: string): Promise<void> {
  const leaf = r.nats.leafs.find((l) => l.name === leafName)!;
  const ports = r.topo.servers.filter((x) => x.site === home).map((x) => r.layout.env.ports(x).leafnode);
  await sup.stop(leaf.name);
  sup.startServer(leaf.name, r.confFiles[leaf.name]!, leaf.monitorPort);
  await sup.waitReady([leaf.name]);
  const ok = await waitFor(
    async () =>
      ((await monitorJson<{ leafs?: { port: number }[] }>(leaf.monitorPort, "/leafz")).leafs ?? []).some((l) => ports.includes(l.port)),
    10000,
    50,
  );
  if (!ok) throw new Error(`${leafName} did not connect to a ${home} hub`);
}

async function startPlain(r: LocalRender, sup: Supervisor, dir: string, mode: Mode): Promise<void> {
  const host = r.topo.hosts.find((h) => h.cloud === "gcp")!;
  if (sup.processes.has("plain-responder")) await sup.stop("plain-responder");
  const target = mode === "leaf" ? [`${host.name}-leaf`] : ["--direct", host.name];
  const p = sup.spawnProcess(
    "plain-responder",
    process.execPath,
    ["--import", "tsx", path.join(__dirname, "plain-responder.ts"), dir, ...target, "bench.plain"],
    {
      pipeStdin: true,
    },
  );
  if (!(await waitFor(() => /^ready$/m.test(readFileSync(p.logFile, "utf8")), 30000, 50)))
    throw new Error(`the plain responder did not start: ${readFileSync(p.logFile, "utf8")}`);
}

/** Bring the responders home before a run: they must be on the GCP hubs the fault hits. */
async function respondersHome(r: LocalRender, sup: Supervisor, dir: string, mode: Mode): Promise<void> {
  const host = r.topo.hosts.find((h) => h.cloud === "gcp")!;
  if (mode === "leaf") await leafHome(r, sup, `${host.name}-leaf`, "gcp");
  else {
    await sup.stop(`host-${host.name}`);
    await startHosts(r, sup, [host.name]);
  }
  await startPlain(r, sup, dir, mode);
}

async function warm(pairs: readonly (readonly [NatsConnection, string])[]): Promise<void> {
  for (const [nc, subj] of pairs)
    for (let i = 0; i < 100; i++)
      if (
        await nc.request(subj, payment, { timeout: 1000 }).then(
          () => true,
          () => false,
        )
      )
        break;
}

async function faultHubs(r: LocalRender, sup: Supervisor, site: string, fault: Fault): Promise<() => Promise<void>> {
  const hubs = r.nats.servers.filter((s) => s.site === site).map((s) => s.name);
  if (fault === "kill") await Promise.all(hubs.map((n) => sup.kill(n)));
  else for (const n of hubs) sup.signal(n, "SIGSTOP");
  return async () => {
    if (fault === "kill") {
      for (const s of r.nats.servers.filter((x) => hubs.includes(x.name))) sup.startServer(s.name, r.confFiles[s.name]!, s.monitorPort);
      await sup.waitReady(hubs, 60000);
    } else for (const n of hubs) sup.signal(n, "SIGCONT");
  };
}

/** One run: probes on every (label, connection, subject), the fault, and the first success after it on each. */
async function measure(
  probes: Record<string, readonly [NatsConnection, string]>,
  inject: () => Promise<() => Promise<void>>,
): Promise<void> {
  const fault0: { at?: number } = {};
  const running = Object.entries(probes).map(([k, [nc, subj]]) => [k, firstSuccessAfter(nc, subj, () => fault0.at, 60000)] as const);
  await new Promise((res) => setTimeout(res, 200));
  fault0.at = performance.now();
  const undo = await inject();
  for (const [k, p] of running) add(k, await p);
  await undo();
}

async function benchMode(mode: Mode): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), `lf-bench-failover-${mode}-`));
  const r = await renderLocal(spec(mode), `bench-failover-${mode}`, dir);
  const sup = new Supervisor(dir);
  try {
    await upLocal(r, sup);
    for (const fault of ["kill", "blackhole"] as const) {
      // Responder side: the GCP hubs the responders use; the requester (direct, AWS) is untouched.
      for (let run = 0; run < RUNS; run++) {
        await respondersHome(r, sup, dir, mode);
        const req = await probeConnection(r, "aws", "bench requester");
        await warm([
          [req, "bench.plain"],
          [req, "payments.validate"],
        ]);
        await measure(
          { [`responder/${fault}/${mode}/plain`]: [req, "bench.plain"], [`responder/${fault}/${mode}/wasm`]: [req, "payments.validate"] },
          () => faultHubs(r, sup, "gcp", fault),
        );
        await req.close();
        await new Promise((res) => setTimeout(res, 2000));
      }
      // Requester side (labelled): the AWS hubs; requesters on the AWS leaf and direct must fail over.
      await respondersHome(r, sup, dir, mode);
      for (let run = 0; run < RUNS; run++) {
        await leafHome(r, sup, "aws-edge-1-leaf", "aws");
        const leafReq = await connectLocal(r, {
          servers: ["aws-edge-1-leaf"],
          options: { maxReconnectAttempts: -1, reconnectJitter: 0, reconnectJitterTLS: 0 },
        });
        const directReq = await probeConnection(r, "aws", "bench direct requester");
        await warm([
          [leafReq, "bench.plain"],
          [leafReq, "payments.validate"],
          [directReq, "bench.plain"],
          [directReq, "payments.validate"],
        ]);
        await measure(
          {
            [`requester-leaf/${fault}/${mode}/plain`]: [leafReq, "bench.plain"],
            [`requester-leaf/${fault}/${mode}/wasm`]: [leafReq, "payments.validate"],
            [`requester-direct/${fault}/${mode}/plain`]: [directReq, "bench.plain"],
            [`requester-direct/${fault}/${mode}/wasm`]: [directReq, "payments.validate"],
          },
          () => faultHubs(r, sup, "aws", fault),
        );
        await leafReq.close();
        await directReq.close();
        await new Promise((res) => setTimeout(res, 2000));
      }
    }
  } finally {
    await sup.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

function report(): void {
  const fmt = (v: number[]) => (v.length ? `${Math.min(...v).toFixed(0)} / ${median(v).toFixed(0)} / ${Math.max(...v).toFixed(0)}` : "n/a");
  console.log(`recovery time (fault -> first successful reply), ${RUNS} runs each [min / median / max] ms, same run, same fault`);
  console.log(
    "case                 fault      responder  plain NATS responder (floor)   latticeform Wasm host          ratio wasm/floor (medians)",
  );
  for (const c of ["responder", "requester-leaf", "requester-direct"])
    for (const fault of ["kill", "blackhole"])
      for (const mode of ["leaf", "direct"]) {
        const k = `${c}/${fault}/${mode}`;
        const p = results.get(`${k}/plain`) ?? [];
        const w = results.get(`${k}/wasm`) ?? [];
        const ratio = p.length && w.length ? (median(w) / Math.max(1, median(p))).toFixed(2) : "n/a";
        const lost = [
          never.get(`${k}/plain`) ? `floor never recovered in ${never.get(`${k}/plain`)}` : "",
          never.get(`${k}/wasm`) ? `wasm never recovered in ${never.get(`${k}/wasm`)}` : "",
        ]
          .filter(Boolean)
          .join(", ");
        console.log(
          `${c.padEnd(20)} ${fault.padEnd(10)} ${mode.padEnd(10)} ${fmt(p).padEnd(30)} ${fmt(w).padEnd(30)} ${ratio}${lost ? ` (${lost})` : ""}`,
        );
      }
  console.log("requester-* rows: the fault is on the requester's side, which both paths share (ratio ~1 by construction).");
}

async function main(): Promise<void> {
  for (const mode of (process.env.BENCH_MODES ?? "leaf,direct").split(",") as Mode[]) await benchMode(mode);
  report();
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
