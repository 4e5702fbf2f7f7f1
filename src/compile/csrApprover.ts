/**
 * The Krustlet serving-certificate approver (pure): postfinance/kubelet-csr-approver's chart, scoped to one
 * Krustlet pool. Krustlet files a `kubernetes.io/kubelet-serving` CSR named `<hostname>-tls` with CN
 * `system:node:<hostname>` and SANs {DNS hostname, IP node IP} (krustlet v1.0.0-alpha.1
 * `crates/kubelet/src/bootstrapping/mod.rs`), which nothing in EKS or GKE approves for a self-managed kubelet.
 *
 * What the approver does with our values (postfinance/kubelet-csr-approver v1.2.9,
 * `internal/controller/csr_controller.go` `Reconcile`, `regex_ip_checks.go` `DNSCheck`/`WhitelistedIPCheck`,
 * chart `templates/deployment.yaml` and `clusterrole.yaml`):
 * - only CSRs of the `kubernetes.io/kubelet-serving` signer are looked at; the ClusterRole may approve that
 *   signer and no other;
 * - the requester must be `system:node:<name>` with CN equal to it (`ignoreNonSystemNode`: anything else is left
 *   alone, never denied);
 * - each DNS SAN must start with the node name, match `providerRegex` (the pool's node names only) and resolve
 *   to addresses inside `providerIpPrefixes` (the pool's subnets; the default is 0.0.0.0/0); every IP SAN must
 *   be among them;
 * - `skipDenyStep`: a CSR that fails a check is left for someone else (other nodes' serving CSRs are the
 *   platform's), never denied.
 */

export const KUBELET_CSR_APPROVER_CHART = {
  chart: "kubelet-csr-approver",
  version: "1.2.9",
  repo: "https://postfinance.github.io/kubelet-csr-approver",
  image: "ghcr.io/postfinance/kubelet-csr-approver",
  tag: "v1.2.9",
} as const;

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * EC2 private DNS names (`hostname -f` on the pool's Ubuntu nodes) of `region`: `ip-a-b-c-d.<region>.compute.internal`,
 * `ip-a-b-c-d.ec2.internal` in us-east-1.
 */
export function awsNodeNameRegex(region: string): string {
  const domain = region === "us-east-1" ? "ec2.internal" : `${region}.compute.internal`;
  return `^ip-[0-9]{1,3}-[0-9]{1,3}-[0-9]{1,3}-[0-9]{1,3}[.]${escapeRe(domain).replace(/\\\./g, "[.]")}$`;
}

/**
 * GCE zonal DNS names of a managed instance group's VMs: `<base>-<4 characters>.<zone>.c.<project>.internal`,
 * the zone one of the group's.
 */
export function gcpNodeNameRegex(baseInstanceName: string, zones: readonly string[], project: string): string {
  const dots = (s: string) => escapeRe(s).replace(/\\\./g, "[.]");
  return `^${dots(baseInstanceName)}-[a-z0-9]{4}[.](${zones.map(dots).join("|")})[.]c[.]${dots(project)}[.]internal$`;
}

export interface CsrApproverScope {
  /** Node names (and so DNS SANs) of the pool's nodes, an RE2 expression anchored at both ends. */
  readonly nodeNameRegex: string;
  /** The pool's subnets: every address a node's name resolves to, and every IP SAN, must be inside. */
  readonly ipPrefixes: readonly string[];
}

/**
 * Values of the chart for one pool. The chart writes `providerRegex` into the Deployment unquoted (`value: {{
 * .Values.providerRegex }}`), so the expression is kept to characters a YAML plain scalar reads back as written
 * (no `\`-escapes, no `: `, no ` #`, no leading indicator); `assertPlainScalarSafe` checks it.
 */
export function csrApproverValues(scope: CsrApproverScope): Record<string, unknown> {
  if (scope.ipPrefixes.length === 0) throw new Error("the Krustlet CSR approver needs the pool's subnets (its default allows 0.0.0.0/0)");
  assertPlainScalarSafe(scope.nodeNameRegex);
  return {
    providerRegex: scope.nodeNameRegex,
    providerIpPrefixes: [...scope.ipPrefixes],
    // Krustlet asks for exactly one DNS name (its hostname), which must resolve inside the pool's subnets.
    allowedDnsNames: 1,
    bypassDnsResolution: false,
    // Never deny what is not ours: other nodes' serving CSRs, and CSRs of anything but a node.
    skipDenyStep: true,
    ignoreNonSystemNode: true,
    leaderElection: true,
    replicas: 2,
    image: { repository: KUBELET_CSR_APPROVER_CHART.image, tag: KUBELET_CSR_APPROVER_CHART.tag },
    // No Service or ServiceMonitor for metrics nobody scrapes.
    metrics: { enable: false },
    rbac: { manage: true },
  };
}

/** Characters outside `[A-Za-z0-9^$.\-[\]{}(),|?*+]` or a leading indicator would be read differently by YAML. */
function assertPlainScalarSafe(re: string): void {
  if (!/^[A-Za-z0-9^$.\-[\]{}(),|?*+_]+$/.test(re) || /^[-?:,[\]{}#&*!|>'"%@`]/.test(re))
    throw new Error(
      `providerRegex ${JSON.stringify(re)} must read back unchanged from the chart's unquoted YAML: use [.] for a dot, no spaces or backslashes`,
    );
}
