/**
 * `HubCluster`: the NATS servers of one cluster in one cloud (a cloud's hub, or that cloud's members of the
 * stretched cluster) as a release of the official NATS Helm chart. The chart values come from the compiled
 * configs (`natsHelmValues`); TLS material, the auth include (operator and account JWTs) and the per-pod
 * identity files are a Secret, a Secret and a ConfigMap the release mounts.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { AUTH_FILE, NATS_CHART, natsSecretNames, type NatsReleaseGroup } from "../src/compile/helm";
import { hubClientUrl, NATS_NAMESPACE } from "../src/compile/k8senv";
import { natsIdentityConfigMap, natsNodeReader, secret } from "../src/compile/kubernetes";
import type { LatticeSpec } from "../src/model/schema";
import { applyObject, applySecret, applyTlsSecret, objectResourceName } from "./common";
import type { PemSet } from "./credentials";

export interface HubClusterArgs {
  /** The validated spec. */
  readonly spec: LatticeSpec;
  /** The servers this release runs. */
  readonly group: NatsReleaseGroup;
  /** Chart values, from `natsHelmValues` (no key material in them). */
  readonly values: pulumi.Input<Record<string, unknown>>;
  /** Identity file per pod, from `natsIdentityFiles`. */
  readonly identityFiles: pulumi.Input<Record<string, string>>;
  /** The auth include, from `natsAuthInclude` (secret). */
  readonly authInclude: pulumi.Input<string>;
  /** The release's TLS certificate, key and CA. */
  readonly tls: PemSet;
  /** Kubernetes provider of the cloud's cluster. */
  readonly provider: k8s.Provider;
  /**
   * Resources the release waits for (the namespace).
   * @default []
   */
  readonly dependsOn?: pulumi.Resource[];
}

export class HubCluster extends pulumi.ComponentResource {
  public readonly release: k8s.helm.v3.Release;
  /** In-cluster client URL of the release. */
  public readonly clientUrl: string;

  constructor(name: string, args: HubClusterArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("latticeform:nats:HubCluster", name, { cluster: args.group.cluster, cloud: args.group.cloud, release: args.group.release }, opts);
    const o = { parent: this, provider: args.provider, dependsOn: args.dependsOn ?? [] };
    const names = natsSecretNames(args.group.release);
    const tlsRes = applyTlsSecret(`${name}-tls`, names.tls, NATS_NAMESPACE, args.tls, o);
    const authObj = pulumi.output(args.authInclude).apply((text) => secret(names.auth, NATS_NAMESPACE, { [AUTH_FILE]: text }));
    const authRes = applySecret(`${name}-auth`, authObj, { name: names.auth, namespace: NATS_NAMESPACE }, o);
    const idObj = pulumi.output(args.identityFiles).apply((files) => natsIdentityConfigMap(args.spec, args.group, files));
    const idRes = new k8s.core.v1.ConfigMap(
      `${name}-identity`,
      { metadata: { name: names.identity, namespace: NATS_NAMESPACE }, data: idObj.apply((x) => x.data as Record<string, string>) },
      o,
    );
    // The zone init container reads its node's zone label (the pod's `az:` tag).
    const rbac = natsNodeReader(args.spec, args.group).map((obj) => applyObject(objectResourceName(name, obj), obj, o));
    this.release = new k8s.helm.v3.Release(
      `${name}-release`,
      {
        name: args.group.release,
        chart: NATS_CHART.chart,
        version: NATS_CHART.version,
        repositoryOpts: { repo: NATS_CHART.repo },
        namespace: NATS_NAMESPACE,
        values: args.values,
        atomic: true,
        timeout: 900,
      },
      { ...o, dependsOn: [...(args.dependsOn ?? []), tlsRes, authRes, idRes, ...rbac] },
    );
    this.clientUrl = hubClientUrl(args.spec, args.group.cloud, args.group.release);
    this.registerOutputs({ release: this.release.status });
  }
}
