/**
 * `WasmcloudOperator`: wasmCloud's runtime-operator chart in one cloud (its CRDs: Artifact, Host, Workload,
 * WorkloadDeployment, ...), with no bundled NATS: it schedules through the cloud's hub.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Credentials } from "../src/compile/credentials";
import {
  WASMCLOUD_OPERATOR_CHART,
  WASMCLOUD_OPERATOR_CREDS_KEY,
  WASMCLOUD_OPERATOR_TLS_SECRET,
  wasmcloudOperatorValues,
} from "../src/compile/helm";
import { tlsSecret, WASM_NAMESPACE, type K8sObject } from "../src/compile/kubernetes";
import type { LatticeSpec } from "../src/model/schema";
import { applySecret } from "./common";
import type { PemSet } from "./credentials";

export interface WasmcloudOperatorArgs {
  /** The validated spec. */
  readonly spec: LatticeSpec;
  /** Cloud to install into. */
  readonly cloud: string;
  /** Client certificate of the operator, from the lattice CA (subject `wasmcloud-operator-<cloud>`). */
  readonly tls: PemSet;
  /** The lattice's credentials (secret); the operator authenticates as user `wasmcloud-operator`. */
  readonly credentials: pulumi.Output<Credentials>;
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
    super("latticeform:wasm:WasmcloudOperator", name, { cloud: args.cloud }, opts);
    const o = { parent: this, provider: args.provider, dependsOn: args.dependsOn ?? [] };
    // One secret, as the chart mounts one: the certificate for TLS, the creds for the operator-mode hub.
    const tls = applySecret(
      `${name}-tls`,
      pulumi.all([args.tls.cert, args.tls.key, args.tls.ca, args.credentials]).apply(([cert, key, ca, creds]): K8sObject => {
        const s = tlsSecret(WASMCLOUD_OPERATOR_TLS_SECRET, WASM_NAMESPACE, { cert, key, ca });
        const data = s.stringData as Record<string, string>;
        return { ...s, stringData: { ...data, [WASMCLOUD_OPERATOR_CREDS_KEY]: creds.users["wasmcloud-operator"]!.creds } };
      }),
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
