/**
 * `NatsExposure`: the load balancers of one cloud's NATS servers: the hub's (gateway, leafnode, client
 * ports) and one per stretched-cluster member (route and gateway ports), each reachable only from the other
 * sites' egress ranges. Created before the NATS releases, so every cloud's addresses can flow into every
 * other cloud's compiled config as Pulumi outputs.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { NatsReleaseGroup } from "../src/compile/helm";
import { CLOSED_SOURCE_RANGE, hubLoadBalancer, memberLoadBalancer } from "../src/compile/kubernetes";
import type { LatticeSpec } from "../src/model/schema";
import { objectResourceName } from "./common";

export interface NatsExposureArgs {
  /** The validated spec. */
  readonly spec: LatticeSpec;
  /** The cloud whose servers are exposed. */
  readonly cloud: string;
  /** Release groups running in this cloud (the hub and any stretched-cluster members). */
  readonly groups: readonly NatsReleaseGroup[];
  /** CIDRs allowed to connect: the other sites' egress addresses and operator ranges. */
  readonly sourceRanges: pulumi.Input<string[]>;
  /** Kubernetes provider of the cloud's cluster. */
  readonly provider: k8s.Provider;
}

/** Address of a LoadBalancer Service once provisioned: hostname (AWS NLB) or IP (GCP). */
function lbAddress(svc: k8s.core.v1.Service): pulumi.Output<string> {
  return svc.status.apply((s) => {
    const ingress = s?.loadBalancer?.ingress?.[0];
    const addr = ingress?.hostname ?? ingress?.ip;
    if (!addr) throw new Error(`load balancer ${svc.urn} has no address yet`);
    return addr;
  });
}

export class NatsExposure extends pulumi.ComponentResource {
  /** External address of the hub (gateway, leafnode and client listeners share it). */
  public readonly hubAddress: pulumi.Output<string>;
  /** External address per stretched-cluster member server. */
  public readonly memberAddresses: Record<string, pulumi.Output<string>> = {};

  constructor(name: string, args: NatsExposureArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("latticeform:nats:NatsExposure", name, { cloud: args.cloud, groups: args.groups.map((g) => g.release) }, opts);
    const o = { parent: this, provider: args.provider };
    const ranges = pulumi.output(args.sourceRanges);
    const hubObj = ranges.apply((r) => hubLoadBalancer(args.spec, args.cloud, r));
    const hubStatic = hubLoadBalancer(args.spec, args.cloud, [CLOSED_SOURCE_RANGE]);
    const hub = new k8s.core.v1.Service(
      objectResourceName(name, hubStatic),
      { metadata: hubStatic.metadata, spec: hubObj.apply((h) => h.spec as k8s.types.input.core.v1.ServiceSpec) },
      o,
    );
    this.hubAddress = lbAddress(hub);
    for (const g of args.groups.filter((x) => x.cluster !== args.cloud)) {
      g.servers.forEach((s, i) => {
        const stat = memberLoadBalancer(args.spec, g, i, [CLOSED_SOURCE_RANGE]);
        const svc = new k8s.core.v1.Service(
          objectResourceName(name, stat),
          {
            metadata: stat.metadata,
            spec: ranges.apply((r) => memberLoadBalancer(args.spec, g, i, r).spec as k8s.types.input.core.v1.ServiceSpec),
          },
          o,
        );
        this.memberAddresses[s.name] = lbAddress(svc);
      });
    }
    this.registerOutputs({ hubAddress: this.hubAddress, memberAddresses: this.memberAddresses });
  }
}
