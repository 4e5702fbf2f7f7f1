/**
 * Review benchmark: the offline policy review (program under mocks + every policy) of a 1000-workload lattice
 * over 2 clouds, beside a 10-workload one in the same run (the ratio shows how the review grows).
 * Each size runs in its own process: Pulumi's runtime is global.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { syntheticLatticeInput } from "../src/model/synthetic";

const dir = mkdtempSync(path.join(tmpdir(), "lf-bench-review-"));
const results: Record<number, { ms: number; resources: number; rssMiB: number }> = {};
try {
  for (const n of [10, 1000]) {
    const file = path.join(dir, `Pulumi.synthetic${n}.yaml`);
    writeFileSync(file, stringify({ config: { "latticeform:lattice": syntheticLatticeInput(n) } }));
    const script = `const t0 = performance.now(); const { reviewStack } = require("./src/review/review"); reviewStack(${JSON.stringify(file)}).then((r) => { console.log(JSON.stringify({ ms: performance.now() - t0, resources: r.resources, rssMiB: process.resourceUsage().maxRSS / 1024 })); process.exit(0); });`;
    const r = spawnSync(process.execPath, ["--import", "tsx", "-e", script], { encoding: "utf8", cwd: path.resolve(__dirname, "..") });
    if (r.status !== 0) throw new Error(r.stderr);
    results[n] = JSON.parse(r.stdout.trim().split("\n").pop()!) as (typeof results)[number];
    console.log(
      `review of a ${n}-workload lattice: ${results[n]!.resources} resources in ${(results[n]!.ms / 1000).toFixed(2)} s, peak RSS ${results[n]!.rssMiB.toFixed(0)} MiB`,
    );
  }
  console.log(
    `ratio 1000/10 workloads: time ${(results[1000]!.ms / results[10]!.ms).toFixed(2)}x for ${(results[1000]!.resources / results[10]!.resources).toFixed(2)}x resources`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
