/**
 * Admin access rules: each range list is checked for what its consumer accepts. Pure.
 *
 * - GKE master authorized networks: with a private endpoint (`enablePrivateEndpoint`), only private (RFC 1918 /
 *   RFC 6598) ranges are accepted; the EKS private endpoint is reached only from inside the VPC or a network
 *   routed to it, so public ranges there grant nothing.
 * - EKS `publicAccessCidrs` and GKE authorized networks on a public endpoint: public ranges; 0.0.0.0/0 would open
 *   the API to the internet.
 * - NATS load balancers (`loadBalancerSourceRanges`, security groups / firewall rules): public ranges; the
 *   clouds' own pod and node ranges are added by the components.
 */
import type { LatticeSpec } from "./schema";

type Add = (path: string, message: string, got: unknown, allowed: string) => void;

const PRIVATE: readonly [number, number][] = [
  [ip("10.0.0.0"), 8],
  [ip("172.16.0.0"), 12],
  [ip("192.168.0.0"), 16],
  [ip("100.64.0.0"), 10],
];

function ip(a: string): number {
  return a.split(".").reduce((n, o) => n * 256 + Number(o), 0);
}

function parse(cidr: string): { base: number; bits: number } {
  const [a, b] = cidr.split("/");
  return { base: ip(a!), bits: Number(b) };
}

function within(inner: { base: number; bits: number }, [base, bits]: readonly [number, number]): boolean {
  const size = 2 ** (32 - bits);
  return inner.bits >= bits && Math.floor(inner.base / size) === Math.floor(base / size);
}

/** A range wholly inside RFC 1918 or RFC 6598 space. */
export function isPrivateCidr(cidr: string): boolean {
  const c = parse(cidr);
  return PRIVATE.some((p) => within(c, p));
}

/** A range that overlaps no private range and is not the whole internet. */
function publicProblem(cidr: string): string | undefined {
  const c = parse(cidr);
  if (c.bits === 0) return "opens the endpoint to the whole internet";
  if (PRIVATE.some((p) => within(c, p) || within({ base: p[0], bits: p[1] }, [c.base, c.bits]))) return "overlaps a private range";
  return undefined;
}

export function accessProblems(spec: LatticeSpec, add: Add): void {
  const api = spec.access.api;
  api.cidrs.forEach((c, i) => {
    const path = `access.api.cidrs[${i}]`;
    if (api.endpoint === "private" && !isPrivateCidr(c))
      add(
        path,
        "a private API endpoint accepts only private ranges (GKE refuses others in master authorized networks)",
        c,
        "a range inside 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or 100.64.0.0/10, or access.api.endpoint: public",
      );
    const why = api.endpoint === "public" ? publicProblem(c) : undefined;
    if (why) add(path, `a public API endpoint's allow-list ${why}`, c, "a public range such as 203.0.113.0/24 (not 0.0.0.0/0)");
  });
  spec.access.natsCidrs.forEach((c, i) => {
    const why = publicProblem(c);
    if (why)
      add(
        `access.natsCidrs[${i}]`,
        `the NATS load balancers are public; this range ${why}`,
        c,
        "a public range such as 203.0.113.0/24 (the clouds' own ranges are added by latticeform)",
      );
  });
}
