import { exposedPorts, formatRanges, isOpenRange, LATTICE_TYPE, onTypes, portRanges, type LatticePolicy, type Props } from "../lib";

const TYPES = [
  LATTICE_TYPE,
  "kubernetes:core/v1:Service",
  "gcp:compute/firewall:Firewall",
  "aws:ec2/securityGroup:SecurityGroup",
  "aws:ec2/securityGroupRule:SecurityGroupRule",
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
];

type Report = (m: string) => void;

/**
 * Before deploy the load balancers' and firewalls' source ranges are computed (the clouds' egress addresses),
 * so the inputs that decide them are judged on the Lattice: the operator ranges and the existing clusters'
 * egress ranges, which every NATS load balancer and the tie-breaker's firewall admit, on the spec's ports.
 */
function judgeInputs(props: Props, report: Report, minPrefix: number): void {
  const spec = props.spec as Parameters<typeof exposedPorts>[0];
  const exposed = exposedPorts(spec)
    .map((e) => `${e.site} ${e.what} ${e.ports.join(", ")}`)
    .join("; ");
  const natsCidrs = ((spec as { access?: { natsCidrs?: string[] } }).access?.natsCidrs ?? []) as string[];
  natsCidrs.forEach((c, i) => {
    if (isOpenRange(c, minPrefix))
      report(`access.natsCidrs[${i}] ${c} is admitted to every NATS listener the lattice exposes (${exposed}).`);
  });
  for (const [cloud, list] of Object.entries((props.existingEgressCidrs ?? {}) as Record<string, string[]>))
    list.forEach((c, i) => {
      if (isOpenRange(c, minPrefix))
        report(`existingEgressCidrs.${cloud}[${i}] ${c} is admitted to every NATS listener the lattice exposes (${exposed}).`);
    });
}

function judgeService(props: Props, report: Report, minPrefix: number): void {
  const spec = props.spec ?? {};
  if (spec.type !== "LoadBalancer") return;
  const ports = ((spec.ports ?? []) as { port: number }[]).map((p) => p.port).join(", ");
  const ranges: string[] = spec.loadBalancerSourceRanges ?? [];
  if (ranges.length === 0) report(`a LoadBalancer for ports ${ports} has no loadBalancerSourceRanges: it is open to the internet.`);
  for (const r of ranges)
    if (isOpenRange(r, minPrefix)) report(`loadBalancerSourceRanges contains ${r}: ports ${ports} are open to the internet.`);
}

function judgeFirewall(props: Props, report: Report, minPrefix: number): void {
  if ((props.direction ?? "INGRESS") !== "INGRESS") return;
  const open = ((props.sourceRanges ?? []) as string[]).filter((r) => isOpenRange(r, minPrefix));
  if (!open.length) return;
  const ranges = ((props.allows ?? []) as { ports?: string[] }[]).flatMap((a) => portRanges(a.ports));
  const bad = ranges.filter(([a, b]) => Number.isNaN(a) || Number.isNaN(b));
  if (bad.length) report(`a firewall lists ports it does not parse (${JSON.stringify(props.allows)}) and admits ${open.join(", ")}.`);
  else if (ranges.length) report(`a firewall admits ${open.join(", ")} to ${formatRanges(ranges)}.`);
}

function judgeSgRule(r: Props, where: string, report: Report, minPrefix: number): void {
  const cidrs = [...((r.cidrBlocks ?? []) as string[]), ...((r.ipv6CidrBlocks ?? []) as string[]), r.cidrIpv4, r.cidrIpv6].filter(
    (c): c is string => typeof c === "string",
  );
  const open = cidrs.filter((c) => isOpenRange(c, minPrefix));
  if (!open.length) return;
  const all = String(r.protocol ?? r.ipProtocol) === "-1";
  const range: [number, number] = all ? [0, 65535] : [Number(r.fromPort), Number(r.toPort)];
  report(`${where} admits ${open.join(", ")} to ${formatRanges([range])}.`);
}

/** Nothing the lattice deploys is reachable from the whole internet; NATS peers only from the lattice's sites. */
export const policy: LatticePolicy = {
  name: "latticeform-nats-no-public-exposure",
  description:
    "No NATS listener (or anything else the lattice deploys) open to 0.0.0.0/0: operator and existing-cluster egress ranges, load balancers' loadBalancerSourceRanges, GCP firewalls and AWS security groups (the tie-breaker's included) admit only bounded ranges.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Set access.natsCidrs / existingEgressCidrs to the operators' and clusters' own addresses (a /32 or the office range), never 0.0.0.0/0; latticeform gives every load balancer and firewall the sites' egress addresses plus those ranges.",
  checkableWhen:
    "the ranges the clouds compute (NAT egress addresses) are judged after deploy; the inputs that decide them (access.natsCidrs, existingEgressCidrs, the spec's ports) are judged on the Lattice now",
  configSchema: { properties: { minPrefixLength: { type: "integer", minimum: 0, maximum: 32, default: 8 } } },
  validateResource: onTypes(TYPES, (props, report, args) => {
    const { minPrefixLength } = args.getConfig<{ minPrefixLength: number }>();
    if (args.type === LATTICE_TYPE) judgeInputs(props, report, minPrefixLength);
    else if (args.type === "kubernetes:core/v1:Service") judgeService(props, report, minPrefixLength);
    else if (args.type === "gcp:compute/firewall:Firewall") judgeFirewall(props, report, minPrefixLength);
    else if (args.type === "aws:ec2/securityGroup:SecurityGroup")
      ((props.ingress ?? []) as Props[]).forEach((r, i) => judgeSgRule(r, `security group ingress[${i}]`, report, minPrefixLength));
    else if (args.type === "aws:ec2/securityGroupRule:SecurityGroupRule") {
      if (props.type === "ingress") judgeSgRule(props, "a security group rule", report, minPrefixLength);
    } else judgeSgRule(props, "a security group ingress rule", report, minPrefixLength);
  }),
};
