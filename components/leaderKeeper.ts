/**
 * `LeaderKeeper`: the leader keeper of one cloud (`src/compile/keeperObjects.ts`): the compiled keeper script in
 * a ConfigMap, run by a one-replica Deployment in the NATS namespace with the lattice's `client` and `sys`
 * credentials and its own client certificate. Each cloud runs one, so a cloud outage leaves one keeping the
 * leaders at the leader site.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Credentials } from "../src/compile/credentials";
import { NATS_NAMESPACE } from "../src/compile/k8senv";
import { KEEPER_NAMES, leaderKeeperCredsSecret, leaderKeeperObjects } from "../src/compile/keeperObjects";
import type { LatticeSpec } from "../src/model/schema";
import type { Topology } from "../src/model/topology";
import { applyObject, applySecret, applyTlsSecret, objectResourceName } from "./common";
import type { PemSet } from "./credentials";

export interface LeaderKeeperArgs {
  /** The validated spec. */
  readonly spec: LatticeSpec;
  /** Its topology (server names and sites). */
  readonly topology: Topology;
  /** Cloud the keeper runs in. */
  readonly cloud: string;
  /** The cloud's hub client URL (in the cluster). */
  readonly serverUrl: string;
  /** The lattice's credentials (secret). */
  readonly credentials: pulumi.Output<Credentials>;
  /** TLS client certificate of the keeper. */
  readonly tls: PemSet;
  /** Kubernetes provider of the cloud's cluster. */
  readonly provider: k8s.Provider;
  /**
   * Resources the keeper waits for (namespace, hub release).
   * @default []
   */
  readonly dependsOn?: pulumi.Resource[];
}

export class LeaderKeeper extends pulumi.ComponentResource {
  /** Names of the keeper's objects (`Kind/name`). */
  public readonly objects: string[];

  constructor(name: string, args: LeaderKeeperArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("latticeform:nats:LeaderKeeper", name, { cloud: args.cloud }, opts);
    const o = { parent: this, provider: args.provider, dependsOn: args.dependsOn ?? [] };
    const creds = applySecret(
      `${name}-creds`,
      args.credentials.apply((c) => leaderKeeperCredsSecret(c)),
      { name: KEEPER_NAMES.creds, namespace: NATS_NAMESPACE },
      o,
    );
    const tls = applyTlsSecret(`${name}-tls`, KEEPER_NAMES.tls, NATS_NAMESPACE, args.tls, o);
    const objs = leaderKeeperObjects(args.spec, args.topology, args.cloud, args.serverUrl);
    for (const obj of objs) applyObject(objectResourceName(name, obj), obj, { ...o, dependsOn: [...o.dependsOn, creds, tls] });
    this.objects = objs.map((x) => `${x.kind}/${x.metadata.name}`);
    this.registerOutputs({ objects: this.objects });
  }
}
