/**
 * Synthetic lattices for benchmarks and scale tests: two clouds (AWS eu-west-1, GCP europe-west3), a tie-breaker
 * site with a stretched JetStream cluster, host pools, Krustlet and runtime-class node pools, a KV bucket and a
 * mirrored stream, and `workloads` workloads cycling through every runtime, placement and failover mode. Pure.
 */
import type { LatticeInput, LatticeSpec } from "./schema";
import { parseLattice } from "./validate";

export interface SyntheticOptions {
  /**
   * Lattice name.
   * @default "synthetic"
   */
  readonly name?: string;
  /**
   * Wasm hosts per host pool (two pools per cloud).
   * @default 2
   */
  readonly hostsPerPool?: number;
}

/** The raw stack config value (`latticeform:lattice`) of a synthetic lattice with `workloads` workloads. */
export function syntheticLatticeInput(workloads: number, opts: SyntheticOptions = {}): LatticeInput {
  if (!Number.isInteger(workloads) || workloads < 0) throw new Error(`workloads: a whole number >= 0 (got ${workloads})`);
  const hosts = opts.hostsPerPool ?? 2;
  const cloud = (name: "aws" | "gcp", region: string, zones: string[]) => ({
    name,
    provider: name,
    region,
    zones,
    hostPools: [
      { name: "edge", hosts, remoteOrder: "interleaved" as const },
      { name: "core", hosts, connection: "direct" as const },
    ],
    nodePools: [
      { name: "wasmedge", kind: "runtime-class" as const, runtime: "wasmedge" as const, nodes: 2 },
      {
        name: "krustlet",
        kind: "krustlet" as const,
        nodes: 1,
        krustletBuild: { url: "https://example.com/krustlet-wasi.tar.gz", sha256: "0".repeat(64), vouchedBy: "bench" },
      },
    ],
  });
  const runtimes = ["wasmcloud", "wasmcloud", "wasmcloud", "wasmedge", "krustlet"] as const;
  return {
    name: opts.name ?? "synthetic",
    tags: { owner: "bench", "data-classification": "internal" },
    clouds: [
      cloud("aws", "eu-west-1", ["eu-west-1a", "eu-west-1b", "eu-west-1c"]),
      cloud("gcp", "europe-west3", ["europe-west3-a", "europe-west3-b", "europe-west3-c"]),
    ],
    tieBreaker: { name: "tb", provider: "gcp", region: "europe-west4", zones: ["europe-west4-a"] },
    stretched: { name: "stretch" },
    kv: [{ bucket: "state", replicas: 3, placement: { cluster: "stretch" } }],
    streams: [{ name: "EVENTS", subjects: ["events.>"], replicas: 3, placement: { cluster: "aws" }, mirrors: ["gcp"] }],
    workloads: Array.from({ length: workloads }, (_, i) => {
      const name = `w-${String(i).padStart(5, "0")}`;
      const base = {
        name,
        artifact: { oci: `ghcr.io/synthetic/${name}:1` },
        runtime: runtimes[i % runtimes.length],
        subject: `svc.${name}`,
      };
      switch (i % 4) {
        case 0:
          return base;
        case 1:
          return { ...base, instances: { aws: 2, gcp: 1 } };
        case 2:
          return { ...base, spread: { total: 4, weights: { aws: 50, gcp: 50 } } };
        default:
          return {
            ...base,
            failover: { mode: "active-passive" as const, primary: i % 8 === 3 ? "aws" : "gcp", warmStandby: 1 },
            kv: "state",
          };
      }
    }),
  };
}

/** A validated synthetic lattice with `workloads` workloads over two clouds. */
export function syntheticLattice(workloads: number, opts: SyntheticOptions = {}): LatticeSpec {
  return parseLattice(syntheticLatticeInput(workloads, opts));
}
