/**
 * `WasmHostPool`: the wasmCloud hosts of one host pool in one cloud. Each host is a pod pinned to its zone with
 * `wash host` (host group `<cloud>-<pool>`) and its NATS leaf-node sidecar on loopback (one remote listing the
 * home cloud's hub first, then the other clouds', authenticated with the host's own leaf user): wash 2.7 hosts
 * connect with TLS only, so every pool, `direct` ones included, reaches the hubs through its sidecar.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Credentials } from "../src/compile/credentials";
import { WASM_NAMESPACE } from "../src/compile/kubernetes";
import { hostCredsSecret, hostDeployment, hostLeafSecret, hostSecretNames } from "../src/compile/wasmhost";
import type { LatticeSpec } from "../src/model/schema";
import type { HostNode, Topology } from "../src/model/topology";
import { applyObject, applySecret, applyTlsSecret } from "./common";
import type { PemSet } from "./credentials";

export interface WasmHostPoolArgs {
  /** The validated spec. */
  readonly spec: LatticeSpec;
  /** The spec's topology. */
  readonly topology: Topology;
  /** Cloud of the pool. */
  readonly cloud: string;
  /** Pool name. */
  readonly pool: string;
  /** Sidecar configs by host name (`hostSidecarText`; secret: they name the creds files and hub addresses). */
  readonly leafConfs: pulumi.Input<Record<string, string>>;
  /** The lattice's credentials (secret). */
  readonly credentials: pulumi.Output<Credentials>;
  /** TLS material of a host (subject `<host>-leaf`). */
  readonly tls: (host: HostNode) => PemSet;
  /** Kubernetes provider of the cloud's cluster. */
  readonly provider: k8s.Provider;
  /**
   * Resources the hosts wait for (namespace, hub release, operator).
   * @default []
   */
  readonly dependsOn?: pulumi.Resource[];
}

export class WasmHostPool extends pulumi.ComponentResource {
  public readonly hosts: string[];

  constructor(name: string, args: WasmHostPoolArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("latticeform:wasm:WasmHostPool", name, { cloud: args.cloud, pool: args.pool }, opts);
    const o = { parent: this, provider: args.provider, dependsOn: args.dependsOn ?? [] };
    const hosts = args.topology.hosts.filter((h) => h.cloud === args.cloud && h.pool === args.pool);
    if (hosts.length === 0) throw new Error(`WasmHostPool ${name}: no hosts in pool ${args.pool} of cloud ${args.cloud}`);
    const leafConfs = pulumi.secret(pulumi.output(args.leafConfs));
    for (const h of hosts) {
      const names = hostSecretNames(h);
      const pem = args.tls(h);
      const deps: pulumi.Resource[] = [];
      deps.push(applyTlsSecret(`${name}-${h.name}-tls`, names.tls, WASM_NAMESPACE, pem, o));
      const credsObj = args.credentials.apply((c) => hostCredsSecret(args.spec, h, c));
      deps.push(applySecret(`${name}-${h.name}-creds`, credsObj, { name: names.creds, namespace: WASM_NAMESPACE }, o));
      const leafObj = leafConfs.apply((c) => {
        const text = c[h.name];
        if (!text) throw new Error(`WasmHostPool ${name}: no sidecar config for host ${h.name}`);
        return hostLeafSecret(h, text);
      });
      deps.push(applySecret(`${name}-${h.name}-leaf`, leafObj, { name: names.leaf, namespace: WASM_NAMESPACE }, o));
      applyObject(`${name}-${h.name}`, hostDeployment(args.spec, h), {
        ...o,
        dependsOn: [...(args.dependsOn ?? []), ...deps],
      });
    }
    this.hosts = hosts.map((h) => h.name);
    this.registerOutputs({ hosts: this.hosts });
  }
}
