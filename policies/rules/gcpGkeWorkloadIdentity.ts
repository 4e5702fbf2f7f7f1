import { onTypes, type LatticePolicy } from "../lib";

export const policy: LatticePolicy = {
  name: "latticeform-gcp-gke-workload-identity",
  description: "GKE clusters use Workload Identity instead of node service-account keys.",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediationSteps: "Set workloadIdentityConfig.workloadPool to <project>.svc.id.goog.",
  validateResource: onTypes(["gcp:container/cluster:Cluster"], (props, report) => {
    if (!props.workloadIdentityConfig?.workloadPool) report("workloadIdentityConfig.workloadPool is not set.");
  }),
};
