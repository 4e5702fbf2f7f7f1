/**
 * `ExistingSite`: a cloud of the lattice on a Kubernetes cluster the team already runs (`existingKubeconfig`
 * in the spec): the Kubernetes provider and the JetStream StorageClass (the provider's CSI driver, encrypted; the
 * driver itself, network, cluster hardening and node pools stay the team's).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Cloud } from "../src/model/schema";
import { JETSTREAM_STORAGE_CLASS, jetstreamStorageClass } from "../src/compile/storage";
import { applyObject, objectResourceName, type KubeSite } from "./common";

export interface ExistingSiteArgs {
  /** The cloud, from the validated spec. */
  readonly cloud: Cloud;
  /** Kubeconfig content of the existing cluster (read by the program from `existingKubeconfig`). */
  readonly kubeconfig: pulumi.Input<string>;
  /** Egress CIDRs of the cluster's nodes, which the other sites allow on their load balancers. */
  readonly egressCidrs: pulumi.Input<string[]>;
  /**
   * Lattice name (labels).
   * @default the cloud's name
   */
  readonly lattice?: string;
}

export class ExistingSite extends pulumi.ComponentResource implements KubeSite {
  public readonly provider: k8s.Provider;
  public readonly kubeconfig: pulumi.Output<string>;
  public readonly egressCidrs: pulumi.Output<string[]>;
  public readonly clusterName: pulumi.Output<string>;
  public readonly storageClassName: string;
  public readonly storage: pulumi.Resource;

  constructor(name: string, args: ExistingSiteArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("latticeform:cloud:ExistingSite", name, { cloud: args.cloud.name, region: args.cloud.region }, opts);
    this.kubeconfig = pulumi.secret(args.kubeconfig);
    this.egressCidrs = pulumi.output(args.egressCidrs).apply((cidrs) => {
      if (cidrs.length === 0) throw new Error(`ExistingSite ${name}: egressCidrs is empty; the other sites could not allow this cluster`);
      return cidrs;
    });
    this.provider = new k8s.Provider(`${name}-k8s`, { kubeconfig: this.kubeconfig, enableServerSideApply: true }, { parent: this });
    this.clusterName = pulumi.output(args.cloud.name);
    const sc = jetstreamStorageClass(args.cloud.provider, args.lattice ?? args.cloud.name);
    this.storageClassName = JETSTREAM_STORAGE_CLASS;
    this.storage = applyObject(objectResourceName(name, sc), sc, { parent: this, provider: this.provider });
    this.registerOutputs({ egressCidrs: this.egressCidrs, kubeconfig: this.kubeconfig });
  }
}
