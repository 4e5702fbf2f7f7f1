/**
 * `NatsExposure`: the load balancers of one cloud's NATS servers: the hub's (gateway, leafnode, client ports; every
 * hub server advertises it) and one per stretched-cluster member (route and gateway ports: its peers sit in other
 * sites). Each is bound to addresses the site reserved (AWS Elastic IPs, a GCP static address) when it has them, so
 * what servers advertise survives the Service being re-created, publishes not-ready pods (the first boot needs the
 * gateways before any pod is Ready), and is reachable only from `sourceRanges`. Created before the NATS releases,
 * so every cloud's addresses flow into every other cloud's compiled config as Pulumi outputs.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { NatsReleaseGroup } from "../src/compile/helm";
import { CLOSED_SOURCE_RANGE, hubLoadBalancer, memberLoadBalancer, type K8sObject, type ReservedAddress } from "../src/compile/kubernetes";
import type { LatticeSpec } from "../src/model/schema";
import { objectResourceName, type LbAddress } from "./common";

/** Key of the hub's load balancer in `reserved`; members use their server name. */
export const HUB_LB = "hub";

export interface NatsExposureArgs {
  /** The validated spec. */
  readonly spec: LatticeSpec;
  /** The cloud whose servers are exposed. */
  readonly cloud: string;
  /** Release groups running in this cloud (the hub and any stretched-cluster members). */
  readonly groups: readonly NatsReleaseGroup[];
  /**
   * CIDRs allowed to connect: the other sites' egress addresses, the cloud's own node and pod ranges (kube-proxy
   * applies the list to in-cluster traffic to the load balancer's IP too) and the spec's `access.natsCidrs`.
   */
  readonly sourceRanges: pulumi.Input<string[]>;
  /**
   * Reserved addresses by load balancer (`hub`, member server names).
   * @default {} (the load balancer's own address, read from the Service's status)
   */
  readonly reserved?: Readonly<Record<string, LbAddress>>;
  /** Kubernetes provider of the cloud's cluster. */
  readonly provider: k8s.Provider;
}

/** Address of a LoadBalancer Service once provisioned: hostname (AWS NLB) or IP (GCP). */
function lbAddress(svc: k8s.core.v1.Service): pulumi.Output<string[]> {
  return svc.status.apply((s) => {
    const ingress = s?.loadBalancer?.ingress?.[0];
    const addr = ingress?.hostname ?? ingress?.ip;
    if (!addr) throw new Error(`load balancer ${svc.urn} has no address yet`);
    return [addr];
  });
}

export class NatsExposure extends pulumi.ComponentResource {
  /** External addresses of the hub (gateway, leafnode and client listeners share them). */
  public readonly hubAddresses: pulumi.Output<string[]>;
  /** External address per stretched-cluster member server. */
  public readonly memberAddresses: Record<string, pulumi.Output<string>> = {};

  constructor(name: string, args: NatsExposureArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("latticeform:nats:NatsExposure", name, { cloud: args.cloud, groups: args.groups.map((g) => g.release) }, opts);
    const ranges = pulumi.output(args.sourceRanges);
    const service = (key: string, build: (r: string[], a?: ReservedAddress) => K8sObject): pulumi.Output<string[]> => {
      const res = args.reserved?.[key];
      const shape = build([CLOSED_SOURCE_RANGE]);
      const obj = pulumi.all([ranges, res ? res.reserved : undefined]).apply(([r, a]) => build(r, a));
      const svc = new k8s.core.v1.Service(
        objectResourceName(name, shape),
        {
          metadata: { ...shape.metadata, annotations: obj.apply((x) => x.metadata.annotations ?? {}) },
          spec: obj.apply((x) => x.spec as k8s.types.input.core.v1.ServiceSpec),
        },
        { parent: this, provider: args.provider },
      );
      return res ? res.ips : lbAddress(svc);
    };
    this.hubAddresses = service(HUB_LB, (r, a) => hubLoadBalancer(args.spec, args.cloud, r, a));
    for (const g of args.groups.filter((x) => x.cluster !== args.cloud)) {
      g.servers.forEach((s, i) => {
        this.memberAddresses[s.name] = service(s.name, (r, a) => memberLoadBalancer(args.spec, g, i, r, a)).apply((l) => l[0]!);
      });
    }
    this.registerOutputs({ hubAddresses: this.hubAddresses, memberAddresses: this.memberAddresses });
  }
}
