/**
 * `JetStreamAssets`: the spec's streams, KV buckets and cross-cloud mirrors in one cloud, as the NATS
 * JetStream controller's (NACK) `Stream` / `KeyValue` objects, with the controller itself (chart `nack`)
 * connecting to the cloud's hub with the lattice's `client` credentials over TLS.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Credentials } from "../src/compile/credentials";
import { NACK_CHART, nackValues } from "../src/compile/helm";
import { NATS_NAMESPACE } from "../src/compile/k8senv";
import { jetstreamObjects } from "../src/compile/jetstreamObjects";
import { secret } from "../src/compile/kubernetes";
import type { LatticeSpec } from "../src/model/schema";
import { applyObject, applySecret, applyTlsSecret, objectResourceName } from "./common";
import type { PemSet } from "./credentials";

export interface JetStreamAssetsArgs {
  /** The validated spec. */
  readonly spec: LatticeSpec;
  /** Cloud whose controller applies the objects placed there (and those of the stretched cluster for the first cloud). */
  readonly cloud: string;
  /** The lattice's credentials (secret). */
  readonly credentials: pulumi.Output<Credentials>;
  /** TLS client certificate of the controller. */
  readonly tls: PemSet;
  /** Kubernetes provider of the cloud's cluster. */
  readonly provider: k8s.Provider;
  /**
   * Resources the controller waits for (namespace, hub release).
   * @default []
   */
  readonly dependsOn?: pulumi.Resource[];
}

export class JetStreamAssets extends pulumi.ComponentResource {
  /** Names of the Stream / KeyValue objects. */
  public readonly objects: string[];

  constructor(name: string, args: JetStreamAssetsArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("latticeform:nats:JetStreamAssets", name, { cloud: args.cloud }, opts);
    const objs = jetstreamObjects(args.spec, args.cloud);
    const o = { parent: this, provider: args.provider, dependsOn: args.dependsOn ?? [] };
    const credsName = "nack-creds";
    const tlsName = "nack-tls";
    const creds = applySecret(
      `${name}-creds`,
      args.credentials.apply((c) => secret(credsName, NATS_NAMESPACE, { "nack.creds": c.users["client"]!.creds })),
      { name: credsName, namespace: NATS_NAMESPACE },
      o,
    );
    const tls = applyTlsSecret(`${name}-tls`, tlsName, NATS_NAMESPACE, args.tls, o);
    const nack = new k8s.helm.v3.Release(
      `${name}-nack`,
      {
        name: "nack",
        chart: NACK_CHART.chart,
        version: NACK_CHART.version,
        repositoryOpts: { repo: NACK_CHART.repo },
        namespace: NATS_NAMESPACE,
        values: nackValues(args.spec, args.cloud, credsName, tlsName),
        atomic: true,
      },
      { ...o, dependsOn: [...(args.dependsOn ?? []), creds, tls] },
    );
    for (const obj of objs) applyObject(objectResourceName(name, obj), obj, { ...o, dependsOn: [nack] });
    this.objects = objs.map((x) => `${x.kind}/${x.metadata.name}`);
    this.registerOutputs({ objects: this.objects });
  }
}
