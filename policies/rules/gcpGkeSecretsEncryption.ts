import { onTypes, type LatticePolicy } from "../lib";

/** CIS GKE 5.3.1 (the EKS twin is CIS EKS 5.3.1, latticeform-aws-eks-secrets-encryption): Kubernetes Secrets encrypted at the application layer with a Cloud KMS key. */
export const policy: LatticePolicy = {
  name: "latticeform-gcp-gke-secrets-encryption",
  description: "GKE clusters encrypt Kubernetes Secrets with a Cloud KMS key (databaseEncryption state ENCRYPTED with a keyName).",
  enforcementLevel: "advisory",
  severity: "high",
  remediationSteps:
    'Set databaseEncryption: { state: "ENCRYPTED", keyName: <Cloud KMS key in the cluster\'s region> } and grant the GKE service agent the key.',
  validateResource: onTypes(["gcp:container/cluster:Cluster"], (props, report) => {
    const enc = props.databaseEncryption;
    if (!enc || enc.state !== "ENCRYPTED" || !Object.keys(enc).includes("keyName"))
      report("databaseEncryption does not encrypt Secrets with a Cloud KMS key (state ENCRYPTED, keyName).");
  }),
};
