/**
 * `RuntimeClassPool`: the maintained path for Wasm pods: a node pool (EKS managed node group or GKE node pool)
 * whose nodes carry the runtime's label and taint, the runwasi containerd shim installed on them, and a
 * `RuntimeClass` whose scheduling rules send its pods there (and only them). On an existing cluster only the
 * RuntimeClass and installer are created; the team labels and taints its own nodes.
 */
import * as aws from "@pulumi/aws";
import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { shimInstallScript } from "../src/compile/boot";
import { LABEL, runtimeClass, runtimeTaint, shimInstaller } from "../src/compile/kubernetes";
import type { LatticeSpec, NodePool } from "../src/model/schema";
import type { AwsSite } from "./awsSite";
import { applyObject, awsTags, gcpLabels, objectResourceName } from "./common";
import type { GcpSite } from "./gcpSite";

export interface RuntimeClassPoolArgs {
  /** The validated spec. */
  readonly spec: LatticeSpec;
  /** Cloud of the pool. */
  readonly cloud: string;
  /** The node pool (kind `runtime-class`, with a runtime). */
  readonly pool: NodePool;
  /** The cloud's site; `existing` creates no nodes. */
  readonly site:
    { readonly kind: "aws"; readonly site: AwsSite } | { readonly kind: "gcp"; readonly site: GcpSite } | { readonly kind: "existing" };
  /** Kubernetes provider of the cloud's cluster. */
  readonly provider: k8s.Provider;
  /**
   * SHA-256 of the shim release tarball, checked by the installer.
   * @default undefined (not checked; a warning is logged)
   */
  readonly sha256?: string;
}

export class RuntimeClassPool extends pulumi.ComponentResource {
  public readonly runtimeClassName: string;
  /** The RuntimeClass: what workloads of this runtime wait for. */
  public readonly ready: pulumi.Resource;

  constructor(name: string, args: RuntimeClassPoolArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("latticeform:wasm:RuntimeClassPool", name, { cloud: args.cloud, pool: args.pool.name, runtime: args.pool.runtime }, opts);
    const { spec, pool } = args;
    if (pool.kind !== "runtime-class" || !pool.runtime)
      throw new Error(`RuntimeClassPool ${name}: node pool ${pool.name} is not a runtime-class pool with a runtime`);
    const cloud = spec.clouds.find((c) => c.name === args.cloud)!;
    const taint = runtimeTaint(pool.runtime);
    const nodeLabels = { [LABEL.runtime]: pool.runtime, [LABEL.pool]: pool.name };
    const base = { parent: this };
    if (args.site.kind === "aws") {
      const site = args.site.site;
      const region = cloud.region;
      new aws.eks.NodeGroup(
        `${name}-nodes`,
        {
          region,
          clusterName: site.clusterName,
          nodeRoleArn: site.nodeRoleArn,
          subnetIds: site.privateSubnetIds,
          instanceTypes: [pool.machineType ?? "t3.medium"],
          amiType: "AL2023_x86_64_STANDARD",
          scalingConfig: { desiredSize: pool.nodes, minSize: pool.nodes, maxSize: pool.nodes * 2 },
          labels: nodeLabels,
          taints: [{ key: taint.key, value: taint.value, effect: "NO_SCHEDULE" }],
          tags: awsTags(spec.tags, spec.name, `wasm-${pool.runtime}-nodes`),
        },
        base,
      );
    } else if (args.site.kind === "gcp") {
      const site = args.site.site;
      const project = site.project;
      new gcp.container.NodePool(
        `${name}-nodes`,
        {
          project,
          cluster: site.clusterName,
          location: cloud.region,
          nodeCount: Math.max(1, Math.ceil(pool.nodes / cloud.zones.length)),
          management: { autoRepair: true, autoUpgrade: true },
          nodeConfig: {
            machineType: pool.machineType ?? "e2-standard-2",
            // Ubuntu nodes: the shim installer writes to containerd's config (COS has a read-only root).
            imageType: "UBUNTU_CONTAINERD",
            serviceAccount: site.nodeServiceAccount,
            oauthScopes: ["https://www.googleapis.com/auth/cloud-platform"],
            shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
            workloadMetadataConfig: { mode: "GKE_METADATA" },
            labels: nodeLabels,
            taints: [{ key: taint.key, value: taint.value, effect: "NO_SCHEDULE" }],
            resourceLabels: gcpLabels(spec.tags, spec.name, `wasm-${pool.runtime}-nodes`),
          },
        },
        base,
      );
    }
    const k = { ...base, provider: args.provider };
    const rc = runtimeClass(spec, args.cloud, pool);
    this.ready = applyObject(objectResourceName(name, rc), rc, k);
    for (const obj of shimInstaller(spec, args.cloud, pool, shimInstallScript(spec, pool, { sha256: args.sha256 }))) {
      applyObject(objectResourceName(name, obj), obj, k);
    }
    this.runtimeClassName = rc.metadata.name;
    this.registerOutputs({ runtimeClassName: this.runtimeClassName });
  }
}
