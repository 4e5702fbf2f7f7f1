import { onTypes, type LatticePolicy } from "../lib";

const NATS_PORTS = new Set([4222, 6222, 7222, 7422, 8222]);
const OPEN = new Set(["0.0.0.0/0", "::/0"]);

/** NATS load balancers accept only the other clouds' egress ranges, never the whole internet. */
export const policy: LatticePolicy = {
  name: "latticeform-nats-no-public-exposure",
  description:
    "No NATS port exposed to 0.0.0.0/0: load balancers carry loadBalancerSourceRanges limited to the peer clouds, and firewalls in front of NATS servers (the tie-breaker) admit only them.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Set loadBalancerSourceRanges to the other clouds' NAT egress addresses (latticeform does this from the sites' outputs), or use private connectivity.",
  validateResource: onTypes(["kubernetes:core/v1:Service", "gcp:compute/firewall:Firewall"], (props, report, args) => {
    if (args.type === "gcp:compute/firewall:Firewall") {
      const ports = (props.allows ?? []).flatMap((a: { ports?: string[] }) => a.ports ?? []).map(Number);
      const exposed = ports.filter((p: number) => NATS_PORTS.has(p));
      if (exposed.length && (props.sourceRanges ?? []).some((r: string) => OPEN.has(r)))
        report(`a firewall admits ${(props.sourceRanges as string[]).join(", ")} to NATS ports ${exposed.join(", ")}.`);
      return;
    }
    const spec = props.spec ?? {};
    if (spec.type !== "LoadBalancer") return;
    const ports: number[] = (spec.ports ?? []).map((p: { port: number }) => p.port);
    if (!ports.some((p) => NATS_PORTS.has(p))) return;
    const ranges: string[] = spec.loadBalancerSourceRanges ?? [];
    if (ranges.length === 0)
      report(`a LoadBalancer for NATS ports ${ports.join(", ")} has no loadBalancerSourceRanges: it is open to the internet.`);
    for (const r of ranges)
      if (OPEN.has(r)) report(`loadBalancerSourceRanges contains ${r}: NATS ports ${ports.join(", ")} are open to the internet.`);
  }),
};
