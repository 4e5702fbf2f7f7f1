/**
 * JetStream streams and KV buckets of the spec, with placement and cross-cloud mirrors, as stream
 * configurations (the JetStream API's shape). Pure; the local lattice creates them through the API and the
 * Kubernetes path through the JetStream controller's CRDs.
 */
import type { LatticeSpec } from "../model/schema";
import { defaultAccount } from "./credentials";

export interface StreamPlan {
  /** Stream name (KV buckets: `KV_<bucket>`). */
  readonly name: string;
  readonly account: string;
  readonly kind: "stream" | "kv" | "mirror";
  /** For a mirror: the source stream, and the spec item it copies. */
  readonly mirrorOf?: string;
  readonly bucket?: string;
  readonly config: {
    name: string;
    subjects?: string[];
    num_replicas: number;
    storage: "file" | "memory";
    placement: { cluster: string; tags?: string[] };
    mirror?: { name: string };
    duplicate_window?: number;
    max_age?: number;
    max_msgs_per_subject?: number;
    allow_rollup_hdrs?: boolean;
    deny_delete?: boolean;
    allow_direct?: boolean;
    mirror_direct?: boolean;
  };
}

export function durationNs(d: string): number {
  const m = /^([0-9]+)(ms|s|m)$/.exec(d);
  if (!m) throw new Error(`invalid duration ${d}`);
  return Number(m[1]) * { ms: 1e6, s: 1e9, m: 60e9 }[m[2] as "ms" | "s" | "m"];
}

/** Replicas of a mirror: as many as the target cloud's hub allows, up to the source's. */
function mirrorReplicas(spec: LatticeSpec, cloud: string, replicas: number): number {
  return Math.min(replicas, spec.clouds.find((c) => c.name === cloud)?.hub.servers ?? 1);
}

export function mirrorName(source: string, cloud: string): string {
  return `${source}_${cloud.toUpperCase().replace(/-/g, "_")}`;
}

export function planJetStream(spec: LatticeSpec): StreamPlan[] {
  const out: StreamPlan[] = [];
  const app = defaultAccount(spec);
  for (const s of spec.streams) {
    const placement = { cluster: s.placement.cluster, ...(s.placement.tags.length ? { tags: s.placement.tags } : {}) };
    out.push({
      name: s.name,
      account: s.account ?? app,
      kind: "stream",
      config: {
        name: s.name,
        subjects: s.subjects,
        num_replicas: s.replicas,
        storage: s.storage,
        placement,
        duplicate_window: durationNs(s.duplicateWindow),
        ...(s.maxAge ? { max_age: durationNs(s.maxAge) } : {}),
      },
    });
    for (const m of s.mirrors) {
      const name = mirrorName(s.name, m);
      out.push({
        name,
        account: s.account ?? app,
        kind: "mirror",
        mirrorOf: s.name,
        config: {
          name,
          num_replicas: mirrorReplicas(spec, m, s.replicas),
          storage: s.storage,
          placement: { cluster: m },
          mirror: { name: s.name },
        },
      });
    }
  }
  for (const k of spec.kv) {
    const name = `KV_${k.bucket}`;
    const placement = { cluster: k.placement.cluster, ...(k.placement.tags.length ? { tags: k.placement.tags } : {}) };
    out.push({
      name,
      account: k.account ?? app,
      kind: "kv",
      bucket: k.bucket,
      config: {
        name,
        subjects: [`$KV.${k.bucket}.>`],
        num_replicas: k.replicas,
        storage: "file",
        placement,
        max_msgs_per_subject: k.history,
        allow_rollup_hdrs: true,
        deny_delete: true,
        // wash 2.7 reads a bucket that allows direct gets with them, and direct gets do not come back across the
        // hosts' leaf connection (measured: test/local/washKv.test.ts); without, it reads from the stream leader
        // (STREAM.MSG.GET), which is also what a compare-and-set increment wants to read.
        allow_direct: !washBuckets(spec).has(k.bucket),
        duplicate_window: durationNs("2m"),
      },
    });
    for (const m of k.mirrors) {
      const mname = mirrorName(name, m);
      out.push({
        name: mname,
        account: k.account ?? app,
        kind: "mirror",
        mirrorOf: name,
        bucket: k.bucket,
        config: {
          name: mname,
          num_replicas: mirrorReplicas(spec, m, k.replicas),
          storage: "file",
          placement: { cluster: m },
          mirror: { name },
          max_msgs_per_subject: k.history,
          allow_direct: true,
          mirror_direct: true,
        },
      });
    }
  }
  return out;
}

/** Buckets a wasmCloud workload uses (through wash's keyvalue plugin in the clouds). */
export function washBuckets(spec: LatticeSpec): Set<string> {
  return new Set(spec.workloads.flatMap((w) => (w.runtime === "wasmcloud" && w.kv ? [w.kv] : [])));
}
