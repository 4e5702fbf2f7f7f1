/**
 * `Workloads`: the spec's workloads in one cloud, each on the runtime it names: a wasmCloud
 * `WorkloadDeployment` per host pool (hosts selected by `hostgroup`, `hostInterfaces` for what the component
 * imports), a Deployment onto Krustlet nodes, or a Deployment with the Wasm `runtimeClassName`. Path
 * artifacts are pushed to the registry as OCI artifacts (`OciArtifact`) and referenced by digest. Instances per cloud follow each workload's spread / failover mode
 * (active-passive: a standby cloud keeps its warm instances); a workload without instances here gets no object.
 * One component per cloud rather than per workload: a lattice of 1000 workloads stays 2 components, not 1000.
 */
import * as path from "node:path";
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { workloadObjects } from "../src/compile/kubernetes";
import type { LatticeSpec, Workload } from "../src/model/schema";
import { artifactRepository } from "../src/compile/workloadDeployment";
import { instancesPerCloud } from "../src/model/topology";
import { REPO_ROOT } from "../src/paths";
import { applyObject } from "./common";
import { OciArtifact } from "./ociArtifact";

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
   * Credentials for pushing to the registry.
   * @default anonymous
   */
  readonly registryAuth?: { readonly username: pulumi.Input<string>; readonly password: pulumi.Input<string> };
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
      if (!instances[w.name]) continue;
      let artifact: OciArtifact | undefined;
      if ("path" in w.artifact) {
        artifact = new OciArtifact(
          `${name}-${w.name}-artifact`,
          {
            file: path.resolve(REPO_ROOT, w.artifact.path),
            registry: args.registry,
            repository: artifactRepository(args.spec, w),
            ...(args.registryAuth ?? {}),
          },
          { parent: this },
        );
      }
      const facts = artifact && { digest: artifact.digest, imports: artifact.imports, exports: artifact.exports };
      const dependsOn = [...(args.dependsOn?.[w.runtime] ?? []), ...(artifact ? [artifact] : [])];
      for (const obj of workloadObjects(args.spec, w, args.cloud, args.registry, facts)) {
        applyObject(`${name}-${obj.metadata.name}`, obj, { parent: this, provider: args.provider, dependsOn });
      }
    }
    this.registerOutputs({ instances: this.instances });
  }
}
