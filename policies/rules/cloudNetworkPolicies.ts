import type { PolicyResource } from "@pulumi/policy";
import type { LatticePolicy } from "../lib";

const NS = "kubernetes:core/v1:Namespace";
const NP = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const CLOUD = "latticeform.io/cloud";

/** CIS EKS 5.4.4 (v1.0.1) and CIS GKE 5.6.7: NetworkPolicies restrict pod traffic in the namespaces the lattice runs in. */
export const policy: LatticePolicy = {
  name: "latticeform-cloud-network-policies",
  description:
    "Every namespace latticeform creates (NATS, Wasm hosts, operator) has at least one NetworkPolicy in the same cluster, so pods there (the NATS monitoring port included) are not reachable from every other pod.",
  enforcementLevel: "advisory",
  severity: "medium",
  remediationSteps:
    "Add a default-deny ingress NetworkPolicy per namespace and allow only the lattice's own flows (hosts to leaf sidecars, NACK and the operator to the hub, the load balancers to the NATS ports).",
  validateStack: (args, report) => {
    const mine = (r: PolicyResource) => r.props.metadata?.labels?.["app.kubernetes.io/managed-by"] === "latticeform";
    const policies = args.resources.filter((r: PolicyResource) => r.type === NP).map((r: PolicyResource) => r.props.metadata ?? {});
    for (const ns of args.resources.filter((r: PolicyResource) => r.type === NS && mine(r))) {
      const name = ns.props.metadata.name as string;
      const cloud = ns.props.metadata.labels?.[CLOUD] as string | undefined;
      const covered = policies.some((m) => m.namespace === name && [undefined, cloud].includes(m.labels?.[CLOUD]));
      if (!covered)
        report(`namespace ${name}${cloud ? ` (${cloud})` : ""} has no NetworkPolicy: every pod of the cluster reaches its pods.`, ns.urn);
    }
  },
};
