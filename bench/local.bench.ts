/**
 * Local lattice benchmark: time from `up` to ready for the production-like stack; request latency and
 * throughput through leaf -> hub -> gateway -> hub -> leaf -> host -> Wasm, beside a plain NATS responder on
 * the same path in the same run (the ratio is the host's overhead); memory per host and per server.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectLocal } from "../src/local/client";
import { upLocal } from "../src/local/lattice";
import { renderLocal } from "../src/local/state";
import { monitorJson, Supervisor, waitFor } from "../src/local/supervisor";
import { readStackConfig } from "../src/model/load";
import { parseLattice } from "../src/model/validate";
import { percentile } from "../src/lib/stats";
import { samplePayment } from "../src/lib/samples";

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

const pct = (v: number[], p: number): number => percentile(v, p) ?? NaN;

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (100 Hz)
}

/** nats-server log time ("[pid] 2026/11/30 09:18:39.713123 [INF] ...", UTC here) in ms since the epoch. */
function logTime(line: string): number | undefined {
  const m = /\] (\d{4})\/(\d\d)\/(\d\d) (\d\d:\d\d:\d\d\.\d+) /.exec(line);
  return m ? Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]!.slice(0, 12)}Z`) : undefined;
}

/**
 * The same-run floor of a lattice start, from the servers' own logs: from the first "Starting nats-server" to the
 * last meta-leader notice any server logged before the lattice reported its servers ready (or the first one
 * after, when none came before).
 */
function metaElectionFromLogs(
  logs: readonly string[],
  readyAt: number,
): { startMs: number; electedMs: number; servers: number } | undefined {
  const starts: number[] = [];
  const notices: number[] = [];
  let servers = 0;
  for (const text of logs) {
    const lines = text.split("\n");
    const s = lines.filter((l) => l.includes("Starting nats-server")).map(logTime)[0];
    if (s !== undefined) starts.push(s);
    const n = lines
      .filter((l) => /new JetStream cluster metadata leader|JetStream cluster new metadata leader/.test(l))
      .map(logTime)
      .filter((t): t is number => t !== undefined);
    if (n.length) servers++;
    notices.push(...n);
  }
  if (!starts.length || !notices.length) return undefined;
  const start = Math.min(...starts);
  const before = notices.filter((t) => t <= readyAt);
  const elected = before.length ? Math.max(...before) : Math.min(...notices);
  return { startMs: start, electedMs: elected - start, servers };
}

/** Sequential requests: latency distribution. */
async function latency(nc: NatsConnection, subject: string, payload: string, n: number): Promise<{ p50: number; p99: number }> {
  const l: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await nc.request(subject, payload, { timeout: 2000 });
    l.push(performance.now() - t);
  }
  return { p50: pct(l, 50), p99: pct(l, 99) };
}

/** `concurrency` requests in flight for `ms`: throughput. */
async function throughput(nc: NatsConnection, subject: string, payload: string, concurrency: number, ms: number): Promise<number> {
  let done = 0;
  const end = performance.now() + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await nc.request(subject, payload, { timeout: 2000 });
        done++;
      }
    }),
  );
  return done / (ms / 1000);
}

/**
 * The floor, same run: bare JetStream servers (no TLS, no accounts, no leafs, no hosts) until every one
 * reports the same meta leader over all of them. /healthz alone is not enough for a supercluster: before the
 * gateways connect (nats-server waits 1 s) each cluster elects its own leader, and they merge later.
 */
async function bareReadyMs(clusters: number): Promise<number | null> {
  const dir = mkdtempSync(path.join(tmpdir(), "lf-bench-bare-"));
  const sup = new Supervisor(dir);
  const base = 26000;
  const port = (c: number, i: number, k: number) => base + 100 * c + 10 * i + k; // k: 0 client, 1 route, 2 http, 3 gateway
  const names: string[] = [];
  try {
    const t0 = performance.now();
    for (let c = 0; c < clusters; c++) {
      const routes = [0, 1, 2].map((i) => `nats-route://127.0.0.1:${port(c, i, 1)}`).join(", ");
      const gateways = Array.from({ length: clusters }, (_, o) => `{ name: c${o}, urls: ["nats://127.0.0.1:${port(o, 0, 3)}"] }`).join(
        ", ",
      );
      for (const i of [0, 1, 2]) {
        const name = `bare-c${c}-${i}`;
        const conf = path.join(dir, `${name}.conf`);
        writeFileSync(
          conf,
          `server_name: ${name}\nlisten: 127.0.0.1:${port(c, i, 0)}\nhttp: 127.0.0.1:${port(c, i, 2)}\n` +
            `jetstream { store_dir: "${dir}/js-${name}" }\n` +
            `cluster { name: c${c}, listen: 127.0.0.1:${port(c, i, 1)}, routes: [${routes}] }\n` +
            (clusters > 1 ? `gateway { name: c${c}, listen: 127.0.0.1:${port(c, i, 3)}, gateways: [${gateways}] }\n` : ""),
        );
        sup.startServer(name, conf, port(c, i, 2));
        names.push(name);
      }
    }
    await sup.waitReady(names, 60000);
    const ports = names.map((_, n) => port(Math.floor(n / 3), n % 3, 2));
    const agreed = await waitFor(
      async () => {
        const metas = await Promise.all(
          ports.map((p) => monitorJson<{ meta_cluster?: { leader?: string } }>(p, "/jsz").catch(() => undefined)),
        );
        const leaders = new Set(metas.map((m) => m?.meta_cluster?.leader));
        // One leader for all (each cluster's early leader differs until the gateways merge them).
        return leaders.size === 1 && !leaders.has(undefined);
      },
      15000,
      20,
    );
    return agreed ? performance.now() - t0 : null;
  } finally {
    await sup.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

type Compression = { leafnodes: string; stretchedRoutes: string; hubRoutes: string };

/**
 * S2 compression's cost and effect: the small stack with a compression setting, a client on the AWS leaf, the
 * validator only in GCP (leaf -> hub -> gateway -> hub -> leaf) and ledger writes to the stretched bucket
 * (stretched routes); latency and the CPU every nats-server process used during the measurement.
 */
async function compressionRun(label: string, compression: Compression, basePort: number, jetstream: Record<string, unknown> = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), "lf-bench-s2-"));
  const raw = structuredClone(readStackConfig("stacks/Pulumi.small.yaml")) as { workloads: Record<string, unknown>[] } & Record<
    string,
    unknown
  >;
  raw.workloads = raw.workloads.map((w) => (w.name === "validator" ? { ...w, instances: { gcp: 1 } } : w));
  const spec = parseLattice({ ...raw, tuning: { compression }, jetstream, local: { basePort } });
  const r = await renderLocal(spec, `bench-s2-${label}`, dir);
  const sup = new Supervisor(dir);
  try {
    await upLocal(r, sup);
    const client = await connectLocal(r, { servers: ["aws-hosts-1-leaf"] });
    const payload = JSON.stringify({ id: "p1", amount: 1250, currency: "EUR", iban: "DE89370400440532013000".repeat(20) });
    for (let i = 0; i < 200; i++) await client.request("payments.validate", payload, { timeout: 5000 }).catch(() => {});
    const pids = [...r.nats.servers, ...r.nats.leafs].map((s) => sup.processes.get(s.name)!.pid);
    const cpu0 = pids.reduce((a, p) => a + cpuSeconds(p), 0);
    const validator = await latency(client, "payments.validate", payload, 2000);
    const l: number[] = [];
    for (let i = 0; i < 300; i++) {
      const t = performance.now();
      await client.request("ledger.apply", JSON.stringify({ id: `s2-${i}`, account: `acc-${i % 7}`, delta: 1 }), { timeout: 5000 });
      l.push(performance.now() - t);
    }
    const tput = await throughput(client, "payments.validate", payload, 64, 3000);
    const cpu = pids.reduce((a, p) => a + cpuSeconds(p), 0) - cpu0;
    await client.close();
    return { validator, ledger: { p50: pct(l, 50), p99: pct(l, 99) }, tput, cpu };
  } finally {
    await sup.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function compressionBench(): Promise<void> {
  const modes: [string, Compression][] = [
    ["off", { leafnodes: "off", stretchedRoutes: "off", hubRoutes: "off" }],
    [
      "default (s2_auto on leafs and stretched routes, accept on hub routes)",
      { leafnodes: "s2_auto", stretchedRoutes: "s2_auto", hubRoutes: "accept" },
    ],
    ["s2_fast forced on leafs and every route", { leafnodes: "s2_fast", stretchedRoutes: "s2_fast", hubRoutes: "s2_fast" }],
  ];
  console.log("S2 compression (small stack; 2,000 sequential cross-cloud validator requests, 300 ledger writes, 3 s at 64 in flight):");
  let base: Awaited<ReturnType<typeof compressionRun>> | undefined;
  for (const [i, [label, c]] of modes.entries()) {
    const m = await compressionRun(label.split(" ")[0]!, c, 27500 + i * 100);
    base ??= m;
    console.log(
      `  ${label}: validator p50 ${m.validator.p50.toFixed(3)} ms p99 ${m.validator.p99.toFixed(3)} ms; ledger p50 ${m.ledger.p50.toFixed(2)} ms p99 ${m.ledger.p99.toFixed(2)} ms; ` +
        `${m.tput.toFixed(0)} req/s; nats-server CPU ${m.cpu.toFixed(2)} s (vs off: latency p50 ${(m.validator.p50 / base.validator.p50).toFixed(2)}x, CPU ${(m.cpu / base.cpu).toFixed(2)}x)`,
    );
  }
}

/** What `sync_interval: always` (the default where RPO-0 state lives) costs the ledger, beside nats-server's 2 min. */
async function syncBench(): Promise<void> {
  const c = { leafnodes: "s2_auto", stretchedRoutes: "s2_auto", hubRoutes: "accept" };
  const always = await compressionRun("sync-always", c, 27800);
  const lazy = await compressionRun("sync-2m", c, 27900, { syncInterval: "2m" });
  console.log(
    `sync_interval on the stretched cluster (300 sequential ledger updates from the AWS leaf): always p50 ${always.ledger.p50.toFixed(2)} ms p99 ${always.ledger.p99.toFixed(2)} ms, ` +
      `2m p50 ${lazy.ledger.p50.toFixed(2)} ms p99 ${lazy.ledger.p99.toFixed(2)} ms (always / 2m p50 ${(always.ledger.p50 / lazy.ledger.p50).toFixed(2)}x)`,
  );
}

async function main(): Promise<void> {
  // `path` as an argument: just the host-vs-plain part (2); else BENCH_PARTS (default: every part).
  const onlyPath = process.argv.includes("path");
  const parts = onlyPath ? ["path"] : (process.env.BENCH_PARTS ?? "start,path,compression,sync").split(",");
  if (parts.includes("compression")) await compressionBench();
  if (parts.includes("sync")) await syncBench();
  const payload = samplePayment("p1");
  // 1. Time to ready for the production-like stack.
  if (parts.includes("start")) {
    const dir = mkdtempSync(path.join(tmpdir(), "lf-bench-prod-"));
    const raw = readStackConfig("stacks/Pulumi.prod.yaml") as Record<string, unknown>;
    const spec = parseLattice({ ...raw, local: { basePort: 28000 } });
    const r = await renderLocal(spec, "bench-prod", dir);
    const sup = new Supervisor(dir);
    let times: { serversMs: number; readyMs: number } | undefined;
    try {
      const wallStart = Date.now();
      const up = await upLocal(r, sup);
      const floor = metaElectionFromLogs(
        r.nats.servers.map((s) => readFileSync(sup.processes.get(s.name)!.logFile, "utf8")),
        wallStart + up.serversMs,
      );
      const servers = r.nats.servers.map((s) => rssMiB(sup.processes.get(s.name)!.pid));
      const leafs = r.nats.leafs.map((s) => rssMiB(sup.processes.get(s.name)!.pid));
      const hosts = r.topo.hosts.map((h) => rssMiB(sup.processes.get(`host-${h.name}`)!.pid));
      const avg = (v: number[]) => (v.reduce((a, b) => a + b, 0) / v.length).toFixed(1);
      console.log(`prod stack: ${r.nats.servers.length} servers, ${r.nats.leafs.length} leafs, ${r.topo.hosts.length} hosts`);
      console.log(`  servers ready (routes, gateways, JetStream meta leader): ${up.serversMs.toFixed(0)} ms`);
      console.log(`  everything ready (plus streams, KV, Wasm hosts, leaders placed): ${up.readyMs.toFixed(0)} ms   (target < 3000 ms)`);
      if (floor)
        console.log(
          `  floor, same run, from the servers' own logs (${floor.servers} of ${r.nats.servers.length} servers logged a meta leader): first server start to the meta leader ${floor.electedMs.toFixed(0)} ms ` +
            `(first server started ${(floor.startMs - wallStart).toFixed(0)} ms after up began); servers ready / floor ${(up.serversMs / (floor.electedMs + floor.startMs - wallStart)).toFixed(2)}x`,
        );
      else console.log("  floor from the servers' logs: not found (no meta leader notice before ready)");
      times = up;
      console.log(`  RSS per hub server ${avg(servers)} MiB, per leaf sidecar ${avg(leafs)} MiB, per Wasm host ${avg(hosts)} MiB`);
    } finally {
      await sup.stopAll();
      rmSync(dir, { recursive: true, force: true });
    }
    // Measured after the lattice is down, so nothing else competes for the cores.
    const single = await bareReadyMs(1);
    const superc = await bareReadyMs(2);
    const ms = (v: number | null) => (v === null ? "never (within 15 s)" : `${v.toFixed(0)} ms`);
    console.log(`  floor, same run: a bare 3-server JetStream cluster has one meta leader in ${ms(single)}`);
    console.log(
      `    a bare supercluster (2 x 3 servers, gateways, started at once) agrees on one meta leader: ${ms(superc)}` +
        (superc === null ? " (each cluster elects its own before the gateways connect)" : ""),
    );
    if (single !== null)
      console.log(
        `    lattice servers / single-cluster floor ${(times!.serversMs / single).toFixed(1)}x (the supercluster's meta group forms over gateways)`,
      );
  }

  // 2. Cross-cloud path: client on the AWS leaf, validator only in GCP, beside a plain responder on the GCP leaf.
  if (parts.includes("path")) {
    const dir = mkdtempSync(path.join(tmpdir(), "lf-bench-path-"));
    const raw = structuredClone(readStackConfig("stacks/Pulumi.small.yaml")) as { workloads: Record<string, unknown>[] } & Record<
      string,
      unknown
    >;
    raw.workloads = raw.workloads.map((w) => (w.name === "validator" ? { ...w, instances: { gcp: 1 } } : w));
    const spec = parseLattice({ ...raw, local: { basePort: 27000 } });
    const r = await renderLocal(spec, "bench-path", dir);
    const sup = new Supervisor(dir);
    try {
      await upLocal(r, sup);
      const client = await connectLocal(r, { servers: ["aws-hosts-1-leaf"] });
      const rssAtReady = rssMiB(sup.processes.get("host-gcp-hosts-1")!.pid);
      // Baselines on the host's leaf: a plain responder in its own process (as the host is), and one in this
      // process (no process hop to wake: the lowest the path allows).
      const responder = sup.spawnProcess(
        "plain-responder",
        process.execPath,
        ["--import", "tsx", path.join(__dirname, "plain-responder.ts"), dir, "gcp-hosts-1-leaf"],
        { pipeStdin: true },
      );
      if (!(await waitFor(() => /^ready$/m.test(readFileSync(responder.logFile, "utf8")), 30000, 50)))
        throw new Error(`the plain responder did not start: ${readFileSync(responder.logFile, "utf8")}`);
      const plainConn = await connectLocal(r, { servers: ["gcp-hosts-1-leaf"] });
      const { validatePaymentJs } = await import("./plain-validator");
      plainConn.subscribe("bench.inproc", {
        callback: (_e, m) => void m.respond(JSON.stringify(validatePaymentJs(JSON.parse(m.string())))),
      });
      await plainConn.flush();
      // Warm both paths (interest propagation across the gateway, module caches).
      for (let i = 0; i < 200; i++) {
        await client.request("payments.validate", payload, { timeout: 5000 }).catch(() => {});
        await client.request("bench.plain", payload, { timeout: 5000 }).catch(() => {});
        await client.request("bench.inproc", payload, { timeout: 5000 }).catch(() => {});
      }
      const n = 2000;
      const wasm = await latency(client, "payments.validate", payload, n);
      const plain = await latency(client, "bench.plain", payload, n);
      const inproc = await latency(client, "bench.inproc", payload, n);
      console.log(
        `cross-cloud request path (aws leaf -> aws hub -> gateway -> gcp hub -> gcp leaf -> responder), ${n} sequential requests:`,
      );
      console.log(`  Wasm host : p50 ${wasm.p50.toFixed(3)} ms, p99 ${wasm.p99.toFixed(3)} ms`);
      console.log(`  plain NATS responder, own process: p50 ${plain.p50.toFixed(3)} ms, p99 ${plain.p99.toFixed(3)} ms`);
      console.log(`  plain NATS responder in the client's process: p50 ${inproc.p50.toFixed(3)} ms, p99 ${inproc.p99.toFixed(3)} ms`);
      console.log(
        `  ratio Wasm/plain (own process) p50 ${(wasm.p50 / plain.p50).toFixed(2)}x (target <= 1.2x), p99 ${(wasm.p99 / plain.p99).toFixed(2)}x; ` +
          `vs in-process p50 ${(wasm.p50 / inproc.p50).toFixed(2)}x`,
      );
      const conc = 64;
      const hostPid = sup.processes.get("host-gcp-hosts-1")!.pid;
      // CPU each responder process spends per request while the throughput runs (where the host's time goes).
      const cpuPer = async (pid: number, subject: string) => {
        const c0 = cpuSeconds(pid);
        const rps = await throughput(client, subject, payload, conc, 5000);
        return { rps, usPerReq: ((cpuSeconds(pid) - c0) * 1e6) / (rps * 5) };
      };
      const w = await cpuPer(hostPid, "payments.validate");
      const p = await cpuPer(responder.pid, "bench.plain");
      const tw = w.rps;
      const tp = p.rps;
      const ti = await throughput(client, "bench.inproc", payload, conc, 5000);
      console.log(
        `  CPU per request in the responder's process (all threads): Wasm host ${w.usPerReq.toFixed(0)} us, plain responder ${p.usPerReq.toFixed(0)} us`,
      );
      console.log(
        `throughput through one host, ${conc} in flight for 5 s: Wasm ${tw.toFixed(0)} req/s, plain own process ${tp.toFixed(0)} req/s (ratio ${(tw / tp).toFixed(2)}; target >= 0.8), plain in-process ${ti.toFixed(0)} req/s`,
      );
      const hostRss = rssMiB(hostPid);
      const plainRss = rssMiB(responder.pid);
      console.log(
        `  RSS after the run: Wasm host ${hostRss.toFixed(0)} MiB (target <= 64 MiB; ${rssAtReady.toFixed(0)} MiB when it was ready), plain responder ${plainRss.toFixed(0)} MiB`,
      );
      await client.close();
      await plainConn.close();
    } finally {
      await sup.stopAll();
      rmSync(dir, { recursive: true, force: true });
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
