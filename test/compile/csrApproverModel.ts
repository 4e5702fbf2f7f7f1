/**
 * A model of postfinance/kubelet-csr-approver v1.2.9, written from its source (the chart and the controller do
 * not run here):
 * - `envOf`: charts/kubelet-csr-approver/templates/deployment.yaml, the container's `env:` block, rendered as
 *   the template writes it (providerRegex unquoted, the prefixes joined with "," and quoted, the rest quoted) and
 *   read back as YAML, as the API server would;
 * - `decide`: internal/controller/csr_controller.go `Reconcile` with regex_ip_checks.go `DNSCheck` and
 *   `WhitelistedIPCheck`, over the fields of a parsed CSR, configured from that env (internal/cmd/cmd.go flag
 *   defaults: provider-regex ".*", provider-ip-prefixes "0.0.0.0/0,::/0", allowed-dns-names 1).
 */
import { parse } from "yaml";

export function envOf(values: Record<string, unknown>): Record<string, string> {
  const lines: string[] = [];
  const v = values as {
    providerRegex?: string;
    providerIpPrefixes?: string[];
    maxExpirationSeconds?: unknown;
    bypassDnsResolution?: boolean;
    ignoreNonSystemNode?: boolean;
    skipDenyStep?: boolean;
    allowedDnsNames?: number;
    bypassHostnameCheck?: boolean;
  };
  const add = (name: string, value: string) => lines.push(`- name: ${name}`, `  value: ${value}`);
  if (v.providerRegex) add("PROVIDER_REGEX", v.providerRegex);
  if (v.providerIpPrefixes?.length) add("PROVIDER_IP_PREFIXES", `"${v.providerIpPrefixes.join(",")}"`);
  if (v.maxExpirationSeconds) add("MAX_EXPIRATION_SEC", JSON.stringify(String(v.maxExpirationSeconds)));
  if (v.bypassDnsResolution) add("BYPASS_DNS_RESOLUTION", JSON.stringify(String(v.bypassDnsResolution)));
  if (v.ignoreNonSystemNode) add("IGNORE_NON_SYSTEM_NODE", JSON.stringify(String(v.ignoreNonSystemNode)));
  if (v.skipDenyStep) add("SKIP_DENY_STEP", JSON.stringify(String(v.skipDenyStep)));
  if (v.allowedDnsNames) add("ALLOWED_DNS_NAMES", JSON.stringify(String(v.allowedDnsNames)));
  if (v.bypassHostnameCheck) add("BYPASS_HOSTNAME_CHECK", JSON.stringify(String(v.bypassHostnameCheck)));
  const env = (parse(lines.join("\n")) ?? []) as { name: string; value: unknown }[];
  return Object.fromEntries(env.map((e) => [e.name, String(e.value)]));
}

export interface ParsedCsr {
  readonly signerName: string;
  /** The requester (`spec.username`). */
  readonly username: string;
  readonly commonName: string;
  readonly dnsNames: readonly string[];
  readonly ips: readonly string[];
}

export type Decision = "approved" | "denied" | "ignored";

function ipv4In(ip: string, cidr: string): boolean {
  const n = (a: string) => a.split(".").reduce((x, o) => x * 256 + Number(o), 0);
  const [base, bits] = cidr.split("/");
  if (!ip.includes(".") || !base!.includes(".")) return cidr === "::/0" && ip.includes(":");
  const size = 2 ** (32 - Number(bits));
  return Math.floor(n(ip) / size) === Math.floor(n(base!) / size);
}

/** What the approver does with `csr`; `resolve` stands for the cluster's DNS. */
export function decide(env: Record<string, string>, csr: ParsedCsr, resolve: (name: string) => string[]): Decision {
  if (csr.signerName !== "kubernetes.io/kubelet-serving") return "ignored";
  const regex = new RegExp(env.PROVIDER_REGEX ?? ".*");
  const prefixes = (env.PROVIDER_IP_PREFIXES ?? "0.0.0.0/0,::/0").split(",");
  const inPrefixes = (ip: string) => prefixes.some((p) => ipv4In(ip, p));
  const deny = (): Decision => (env.SKIP_DENY_STEP === "true" ? "ignored" : "denied");
  if (!csr.username.startsWith("system:node:")) return env.IGNORE_NON_SYSTEM_NODE === "true" ? "ignored" : deny();
  if (csr.dnsNames.length + csr.ips.length === 0) return deny();
  if (csr.commonName !== csr.username) return deny();
  // DNSCheck
  if (csr.dnsNames.length > Number(env.ALLOWED_DNS_NAMES ?? 1)) return deny();
  const hostname = csr.username.slice("system:node:".length);
  const resolved: string[] = [];
  for (const d of csr.dnsNames) {
    if (!d.startsWith(hostname) && env.BYPASS_HOSTNAME_CHECK !== "true") return deny();
    if (!regex.test(d)) return deny();
  }
  if (env.BYPASS_DNS_RESOLUTION !== "true" && csr.dnsNames.length > 0) {
    for (const d of csr.dnsNames) {
      const a = resolve(d);
      if (a.length === 0 || !a.every(inPrefixes)) return deny();
      resolved.push(...a);
    }
    if (!csr.ips.every((ip) => resolved.includes(ip))) return deny();
  }
  // WhitelistedIPCheck
  if (!csr.ips.every(inPrefixes)) return deny();
  return "approved";
}
