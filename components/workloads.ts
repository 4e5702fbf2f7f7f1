/**
 * `Workloads`: the spec's workloads in one cloud, each on the runtime it names: a wasmCloud
 * `WorkloadDeployment` selecting hosts by the cloud label, a Deployment onto Krustlet nodes, or a Deployment
 * with the Wasm `runtimeClassName`. Instances per cloud follow each workload's spread / failover mode
 * (active-passive: a standby cloud keeps its warm instances); a workload without instances here gets no object.
 * One component per cloud rather than per workload: a lattice of 1000 workloads stays 2 components, not 1000.
 */
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { workloadObjects } from "../src/compile/kubernetes";
import type { LatticeSpec, Workload } from "../src/model/schema";
import { instancesPerCloud } from "../src/model/topology";
import { applyObject } from "./common";

export interface WorkloadsArgs {
  /** The validated spec. */
  readonly spec: LatticeSpec;
  /** The cloud. */
  readonly cloud: string;
  /** Kubernetes provider of the cloud's cluster. */
  readonly provider: k8s.Provider;
  /** Registry that path artifacts are pushed to (`<registry>/<lattice>/<workload>`). */
  readonly registry: string;
  /**
   * Per runtime, what its workloads wait for (the operator release, the Krustlet node group, the RuntimeClass).
   * @default {}
   */
  readonly dependsOn?: Readonly<Partial<Record<Workload["runtime"], pulumi.Resource[]>>>;
}

export class Workloads extends pulumi.ComponentResource {
  /** Instances in this cloud per workload (workloads without instances here are left out). */
  public readonly instances: Record<string, number> = {};

  constructor(name: string, args: WorkloadsArgs, opts: pulumi.ComponentResourceOptions = {}) {
    // Inputs: the cloud and instances per workload (the workloads themselves are in the Lattice's spec input).
    const instances: Record<string, number> = {};
    for (const w of args.spec.workloads) {
      const n = instancesPerCloud(args.spec, w)[args.cloud] ?? 0;
      if (n > 0) instances[w.name] = n;
    }
    super("latticeform:wasm:Workloads", name, { cloud: args.cloud, instances }, opts);
    this.instances = instances;
    for (const w of args.spec.workloads) {
      for (const obj of workloadObjects(args.spec, w, args.cloud, args.registry)) {
        applyObject(`${name}-${w.name}`, obj, { parent: this, provider: args.provider, dependsOn: args.dependsOn?.[w.runtime] ?? [] });
      }
    }
    this.registerOutputs({ instances: this.instances });
  }
}
