/**
 * The `Lattice` component's construction context, and the steps that create only children of it (node pools,
 * workloads): split from `lattice.ts`, whose constructor calls them in order.
 */
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { NatsReleaseGroup } from "../src/compile/helm";
import type { K8sEnvOptions } from "../src/compile/k8senv";
import type { LatticeSpec } from "../src/model/schema";
import type { Topology } from "../src/model/topology";
import type { AwsSite } from "./awsSite";
import type { KubeSite } from "./common";
import type { GcpSite } from "./gcpSite";
import { KrustletPool } from "./krustletPool";
import type { LatticeArgs } from "./lattice";
import { RuntimeClassPool } from "./runtimeClassPool";
import { Workloads } from "./workloads";

export type SiteKind = { kind: "aws"; site: AwsSite } | { kind: "gcp"; site: GcpSite } | { kind: "existing" };
export type WasmDeps = Partial<Record<"wasmcloud" | "krustlet" | "wasmedge", pulumi.Resource[]>>;

/** What every construction step reads: the spec and what is derived from it once. */
export interface Ctx {
  readonly name: string;
  readonly args: LatticeArgs;
  readonly spec: LatticeSpec;
  readonly topo: Topology;
  readonly groups: NatsReleaseGroup[];
  readonly natsCidrs: string[];
  readonly o: pulumi.CustomResourceOptions;
}

export interface Sites {
  readonly sites: Record<string, KubeSite>;
  readonly kinds: Record<string, SiteKind>;
  readonly providers: Record<string, k8s.Provider>;
  readonly egress: pulumi.Output<string[]>;
}

export interface Exposure {
  readonly hubAddresses: Record<string, pulumi.Output<string[]>>;
  readonly memberAddresses: Record<string, pulumi.Output<string>>;
  readonly envOptions: pulumi.Output<K8sEnvOptions>;
}

/** Krustlet and runtime-class node pools of one cloud. */
export function createNodePools(
  { name, args, spec, o }: Ctx,
  cloud: string,
  sites: Sites,
  deps: Record<"wasmcloud" | "krustlet" | "wasmedge", pulumi.Resource[]>,
): void {
  const c = spec.clouds.find((x) => x.name === cloud)!;
  const p = sites.providers[cloud]!;
  const kind = sites.kinds[cloud]!;
  for (const pool of c.nodePools) {
    if (pool.kind === "krustlet") {
      if (kind.kind === "existing") {
        throw new Error(
          `Lattice ${name}: clouds.${c.name}.nodePools.${pool.name}: Krustlet pools need a cluster latticeform creates (not existingKubeconfig)`,
        );
      }
      const kp = new KrustletPool(`${name}-${c.name}-${pool.name}`, { spec, cloud: c.name, pool, site: kind, provider: p }, o);
      deps.krustlet.push(kp.ready);
    } else {
      const rp = new RuntimeClassPool(
        `${name}-${c.name}-${pool.name}`,
        { spec, cloud: c.name, pool, site: kind, provider: p, sha256: args.shimSha256 },
        o,
      );
      if (pool.runtime === "wasmedge") deps.wasmedge.push(rp.ready);
    }
  }
}

/** The workloads of every cloud, once their runtimes exist. */
export function createWorkloads({ name, args, spec, o }: Ctx, sites: Sites, wasmDeps: Record<string, WasmDeps>): void {
  for (const c of spec.clouds) {
    new Workloads(
      `${name}-${c.name}-workloads`,
      {
        spec,
        cloud: c.name,
        provider: sites.providers[c.name]!,
        registry: args.registry ?? "ghcr.io/latticeform",
        dependsOn: wasmDeps[c.name],
      },
      o,
    );
  }
}
