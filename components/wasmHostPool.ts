/**
 * `WasmHostPool`: the wasmCloud hosts of one host pool in one cloud. Each host is a pod pinned to its zone
 * with the host process and, for `leaf` pools, a NATS leaf-node sidecar running the compiled leaf config (one
 * remote listing the home cloud's hub first, then the other clouds'); host labels cloud, region and zone.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Credentials } from "../src/compile/credentials";
import { WASM_NAMESPACE, credsFileName, hostDeployment, hostSecretNames, secret, tlsSecret } from "../src/compile/kubernetes";
import type { LatticeSpec } from "../src/model/schema";
import type { HostNode, Topology } from "../src/model/topology";
import { applySecret } from "./common";
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
  /** Compiled leaf configs by host name (secret: they carry the account JWTs). */
  readonly leafConfs: pulumi.Input<Record<string, string>>;
  /** NATS URLs per host from `compileNats` (the sidecar, or every cloud's client endpoints as seen from this cloud). */
  readonly hostUrls: pulumi.Input<Readonly<Record<string, readonly string[]>>>;
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
      deps.push(
        applySecret(
          `${name}-${h.name}-tls`,
          pulumi.all([pem.cert, pem.key, pem.ca]).apply(([cert, key, ca]) => tlsSecret(names.tls, WASM_NAMESPACE, { cert, key, ca })),
          { name: names.tls, namespace: WASM_NAMESPACE },
          o,
        ),
      );
      const credsObj = args.credentials.apply((c) => {
        const files: Record<string, string> = { [credsFileName(args.spec, `host:${h.name}`)]: c.users[`host:${h.name}`]!.creds };
        if (h.connection === "leaf") files[credsFileName(args.spec, `leaf:${h.name}`)] = c.users[`leaf:${h.name}`]!.creds;
        return secret(names.creds, WASM_NAMESPACE, files);
      });
      deps.push(applySecret(`${name}-${h.name}-creds`, credsObj, { name: names.creds, namespace: WASM_NAMESPACE }, o));
      if (h.connection === "leaf") {
        const leafObj = leafConfs.apply((c) => {
          const text = c[h.name];
          if (!text) throw new Error(`WasmHostPool ${name}: no compiled leaf config for host ${h.name}`);
          return secret(names.leaf, WASM_NAMESPACE, { "leaf.conf": text });
        });
        deps.push(applySecret(`${name}-${h.name}-leaf`, leafObj, { name: names.leaf, namespace: WASM_NAMESPACE }, o));
      }
      // Metadata is known now; the pod spec waits for the endpoints the servers' configs were compiled with.
      const shape = hostDeployment(args.spec, args.topology, h, { hostUrls: { [h.name]: [] } });
      new k8s.apps.v1.Deployment(
        `${name}-${h.name}`,
        {
          metadata: shape.metadata,
          spec: pulumi
            .output(args.hostUrls)
            .apply((u) => hostDeployment(args.spec, args.topology, h, { hostUrls: u }).spec as k8s.types.input.apps.v1.DeploymentSpec),
        },
        { ...o, dependsOn: [...(args.dependsOn ?? []), ...deps] },
      );
    }
    this.hosts = hosts.map((h) => h.name);
    this.registerOutputs({ hosts: this.hosts });
  }
}
