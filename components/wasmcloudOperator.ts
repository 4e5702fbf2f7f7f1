/**
 * `WasmcloudOperator`: wasmCloud's runtime-operator chart in one cloud (its CRDs: Artifact, Host, Workload,
 * WorkloadDeployment, ...), with no bundled NATS: it schedules through the cloud's hub.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { WASMCLOUD_OPERATOR_CHART, WASMCLOUD_OPERATOR_TLS_SECRET, wasmcloudOperatorValues } from "../src/compile/helm";
import { tlsSecret, WASM_NAMESPACE } from "../src/compile/kubernetes";
import type { LatticeSpec } from "../src/spec/schema";
import { applySecret } from "./common";
import type { PemSet } from "./credentials";

export interface WasmcloudOperatorArgs {
  /** The validated spec. */
  readonly spec: LatticeSpec;
  /** Cloud to install into. */
  readonly cloud: string;
  /** Client certificate of the operator, from the lattice CA (subject `wasmcloud-operator-<cloud>`). */
  readonly tls: PemSet;
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
    const o = { parent: this, provider: args.provider, dependsOn: args.dependsOn ?? [] };
    const tls = applySecret(
      `${name}-tls`,
      pulumi
        .all([args.tls.cert, args.tls.key, args.tls.ca])
        .apply(([cert, key, ca]) => tlsSecret(WASMCLOUD_OPERATOR_TLS_SECRET, WASM_NAMESPACE, { cert, key, ca })),
      { name: WASMCLOUD_OPERATOR_TLS_SECRET, namespace: WASM_NAMESPACE },
      o,
    );
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
      { ...o, dependsOn: [...(args.dependsOn ?? []), tls] },
    );
    this.registerOutputs({ status: this.release.status });
  }
}
