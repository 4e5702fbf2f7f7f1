/**
 * `WasmcloudOperator`: wasmCloud's runtime-operator chart in one cloud (its CRDs: Artifact, Host, Workload,
 * WorkloadDeployment, ...), with no bundled NATS: it schedules through the cloud's hub.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { WASMCLOUD_OPERATOR_CHART, wasmcloudOperatorValues } from "../src/compile/helm";
import { WASM_NAMESPACE } from "../src/compile/kubernetes";
import type { LatticeSpec } from "../src/spec/schema";

export interface WasmcloudOperatorArgs {
  /** The validated spec. */
  readonly spec: LatticeSpec;
  /** Cloud to install into. */
  readonly cloud: string;
  /** Kubernetes provider of the cloud's cluster. */
  readonly provider: k8s.Provider;
  /**
   * Resources the release waits for (namespace, hub release).
   * @default []
   */
  readonly dependsOn?: pulumi.Resource[];
}

export class WasmcloudOperator extends pulumi.ComponentResource {
  public readonly release: k8s.helm.v3.Release;

  constructor(name: string, args: WasmcloudOperatorArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("latticeform:wasm:Operator", name, { cloud: args.cloud }, opts);
    this.release = new k8s.helm.v3.Release(
      `${name}-release`,
      {
        name: "wasmcloud-operator",
        chart: WASMCLOUD_OPERATOR_CHART.chart,
        version: WASMCLOUD_OPERATOR_CHART.version,
        namespace: WASM_NAMESPACE,
        values: wasmcloudOperatorValues(args.spec, args.cloud),
        atomic: true,
      },
      { parent: this, provider: args.provider, dependsOn: args.dependsOn ?? [] },
    );
    this.registerOutputs({ status: this.release.status });
  }
}
