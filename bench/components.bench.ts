/**
 * Components benchmark: evaluates the Pulumi program (one `Lattice`) under `pulumi.runtime.setMocks` for
 * synthetic lattices of 10, 100 and 1000 workloads over two clouds, each size in its own process so the peak
 * memory (max RSS) is that size's. Prints time, resources, peak memory, and the growth from size to size
 * (target: 1000 workloads in under 10 s, growth no worse than linear).
 */
import { spawnSync } from "node:child_process";
import { loadavg } from "node:os";
import { resourceUsage } from "node:process";
import { syntheticLattice } from "../src/model/synthetic";
import { evaluateLattice } from "../test/components/harness";

const SIZES = [10, 100, 1000];

interface Figures {
  workloads: number;
  resources: number;
  /** First evaluation of an empty (0-workload) lattice in the process: module loading included. */
  coldMs: number;
  validateMs: number;
  evaluateMs: number;
  peakRssMiB: number;
}

async function one(n: number): Promise<Figures> {
  // As index.ts does (see there).
  process.setSourceMapsEnabled(false);
  // Cold start: the first evaluation loads the cloud SDKs' modules (lazily, on first use).
  const c0 = performance.now();
  await evaluateLattice(syntheticLattice(0), {}, "warmup");
  const coldMs = performance.now() - c0;
  const t0 = performance.now();
  const spec = syntheticLattice(n);
  const t1 = performance.now();
  const ev = await evaluateLattice(spec, {}, `bench${n}`);
  const t2 = performance.now();
  return {
    workloads: n,
    resources: ev.resources.length,
    coldMs,
    validateMs: t1 - t0,
    evaluateMs: t2 - t1,
    peakRssMiB: resourceUsage().maxRSS / 1024,
  };
}

async function main(): Promise<void> {
  const only = process.argv.indexOf("--one");
  if (only >= 0) {
    process.stdout.write(JSON.stringify(await one(Number(process.argv[only + 1]))) + "\n");
    return;
  }
  const rows: Figures[] = [];
  for (const n of SIZES) {
    const r = spawnSync(process.execPath, ["--import", "tsx", __filename, "--one", String(n)], { encoding: "utf8", timeout: 300_000 });
    if (r.status !== 0) throw new Error(`size ${n} failed: ${r.stderr}`);
    rows.push(JSON.parse(r.stdout.trim().split("\n").pop()!) as Figures);
  }
  process.stdout.write("Pulumi program under mocks, synthetic lattices over 2 clouds (each size in its own process)\n");
  process.stdout.write("workloads  resources  validate ms  evaluate ms  ms/resource  peak RSS MiB  (cold start, 0 workloads: ms)\n");
  for (const r of rows) {
    process.stdout.write(
      `${String(r.workloads).padStart(9)}  ${String(r.resources).padStart(9)}  ${r.validateMs.toFixed(0).padStart(11)}  ${r.evaluateMs.toFixed(0).padStart(11)}  ${(r.evaluateMs / r.resources).toFixed(2).padStart(11)}  ${r.peakRssMiB.toFixed(0).padStart(12)}  (${r.coldMs.toFixed(0)})\n`,
    );
  }
  for (let i = 1; i < rows.length; i++) {
    const a = rows[i - 1]!;
    const b = rows[i]!;
    const size = b.workloads / a.workloads;
    process.stdout.write(
      `growth ${a.workloads} -> ${b.workloads} workloads (x${size}): resources x${(b.resources / a.resources).toFixed(2)}, time x${(b.evaluateMs / a.evaluateMs).toFixed(2)}, time per resource x${(b.evaluateMs / b.resources / (a.evaluateMs / a.resources)).toFixed(2)}, peak RSS x${(b.peakRssMiB / a.peakRssMiB).toFixed(2)}\n`,
    );
  }
  const last = rows[rows.length - 1]!;
  process.stdout.write(
    `target: ${last.workloads} workloads in under 10 s: ${last.evaluateMs < 10_000 ? "met" : "NOT met"} (${(last.evaluateMs / 1000).toFixed(1)} s; ` +
      `${((last.evaluateMs + last.coldMs) / 1000).toFixed(1)} s with the cold start)\n`,
  );
  process.stdout.write(
    `load average during the run: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")} (2 cores; other work on the machine slows the figures)\n`,
  );
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
