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

async function main(): Promise<void> {
  const payload = samplePayment("p1");

  // `--only path`: just the host-vs-plain part (2).
  const onlyPath = process.argv.includes("path");
  // 1. Time to ready for the production-like stack.
  if (!onlyPath) {
    const dir = mkdtempSync(path.join(tmpdir(), "lf-bench-prod-"));
    const raw = readStackConfig("stacks/Pulumi.prod.yaml") as Record<string, unknown>;
    const spec = parseLattice({ ...raw, local: { basePort: 28000 } });
    const r = await renderLocal(spec, "bench-prod", dir);
    const sup = new Supervisor(dir);
    let times: { serversMs: number; readyMs: number } | undefined;
    try {
      const up = await upLocal(r, sup);
      const servers = r.nats.servers.map((s) => rssMiB(sup.processes.get(s.name)!.pid));
      const leafs = r.nats.leafs.map((s) => rssMiB(sup.processes.get(s.name)!.pid));
      const hosts = r.topo.hosts.map((h) => rssMiB(sup.processes.get(`host-${h.name}`)!.pid));
      const avg = (v: number[]) => (v.reduce((a, b) => a + b, 0) / v.length).toFixed(1);
      console.log(`prod stack: ${r.nats.servers.length} servers, ${r.nats.leafs.length} leafs, ${r.topo.hosts.length} hosts`);
      console.log(`  servers ready (routes, gateways, JetStream meta leader): ${up.serversMs.toFixed(0)} ms`);
      console.log(`  everything ready (plus streams, KV, Wasm hosts):        ${up.readyMs.toFixed(0)} ms   (target < 3000 ms)`);
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
        (superc === null ? " (each cluster elects its own before the gateways connect; on nats-server 2.9.10 they need not merge)" : ""),
    );
    if (single !== null)
      console.log(
        `    lattice servers / single-cluster floor ${(times!.serversMs / single).toFixed(1)}x (the supercluster's meta group forms over gateways)`,
      );
  }

  // 2. Cross-cloud path: client on the AWS leaf, validator only in GCP, beside a plain responder on the GCP leaf.
  {
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
      const tw = await throughput(client, "payments.validate", payload, conc, 5000);
      const tp = await throughput(client, "bench.plain", payload, conc, 5000);
      const ti = await throughput(client, "bench.inproc", payload, conc, 5000);
      console.log(
        `throughput through one host, ${conc} in flight for 5 s: Wasm ${tw.toFixed(0)} req/s, plain own process ${tp.toFixed(0)} req/s (ratio ${(tw / tp).toFixed(2)}; target >= 0.8), plain in-process ${ti.toFixed(0)} req/s`,
      );
      const hostRss = rssMiB(sup.processes.get("host-gcp-hosts-1")!.pid);
      const plainRss = rssMiB(responder.pid);
      console.log(
        `  RSS after the run: Wasm host ${hostRss.toFixed(0)} MiB (target <= 64 MiB), plain responder ${plainRss.toFixed(0)} MiB`,
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
