/**
 * `Workload`: one workload of the spec in every cloud it has instances in, on the runtime it names: a
 * wasmCloud `WorkloadDeployment` selecting hosts by the cloud label, a Deployment onto Krustlet nodes, or a
 * Deployment with the Wasm `runtimeClassName`. Instances per cloud follow its spread / failover mode
 * (active-passive: the standby clouds keep their warm instances).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { workloadObjects } from "../src/compile/kubernetes";
import type { LatticeSpec, Workload as WorkloadSpec } from "../src/spec/schema";
import { instancesPerCloud } from "../src/spec/topology";
import { applyObject } from "./common";

export interface WorkloadArgs {
  /** The validated spec (the workload's clouds and defaults). */
  readonly spec: LatticeSpec;
  /** The workload, from `spec.workloads`. */
  readonly workload: WorkloadSpec;
  /** Kubernetes provider per cloud. */
  readonly providers: Readonly<Record<string, k8s.Provider>>;
  /** Registry that path artifacts are pushed to (`<registry>/<lattice>/<workload>`). */
  readonly registry: string;
  /**
   * Per cloud, what the workload's objects wait for (the operator release or node pool).
   * @default {}
   */
  readonly dependsOn?: Readonly<Record<string, pulumi.Resource[]>>;
}

export class Workload extends pulumi.ComponentResource {
  /** Instances per cloud. */
  public readonly instances: Record<string, number>;

  constructor(name: string, args: WorkloadArgs, opts: pulumi.ComponentResourceOptions = {}) {
    const w = args.workload;
    // Only the workload itself is registered as input: passing the whole spec would cost O(workloads²).
    super("latticeform:wasm:Workload", name, { workload: w }, opts);
    this.instances = instancesPerCloud(args.spec, w);
    for (const cloud of args.spec.clouds.map((c) => c.name)) {
      const provider = args.providers[cloud];
      if (!provider) throw new Error(`Workload ${name}: no Kubernetes provider for cloud ${cloud}`);
      for (const obj of workloadObjects(args.spec, w, cloud, args.registry)) {
        applyObject(`${name}-${cloud}`, obj, { parent: this, provider, dependsOn: args.dependsOn?.[cloud] ?? [] });
      }
    }
    this.registerOutputs({ instances: this.instances });
  }
}
