import { onTypes, type LatticePolicy } from "../lib";

export const policy: LatticePolicy = {
  name: "latticeform-gcp-gke-shielded-nodes",
  description: "GKE clusters run shielded nodes (secure boot, integrity monitoring).",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediationSteps: "Set enableShieldedNodes: true.",
  validateResource: onTypes(["gcp:container/cluster:Cluster"], (props, report) => {
    if (props.enableShieldedNodes !== true) report("enableShieldedNodes is not true.");
  }),
};
