import { onTypes, type LatticePolicy } from "../lib";

export const policy: LatticePolicy = {
  name: "latticeform-aws-eks-secrets-encryption",
  description: "EKS encrypts Kubernetes Secrets with a KMS key (envelope encryption).",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps: 'Set encryptionConfig: { provider: { keyArn: <KMS key> }, resources: ["secrets"] }.',
  validateResource: onTypes(["aws:eks/cluster:Cluster"], (props, report) => {
    const enc = props.encryptionConfig;
    // The key's ARN is computed when the key is created; that one is wired in is known before deploy.
    const keyWired = !!enc?.provider && Object.keys(enc.provider).includes("keyArn");
    if (!enc || !(enc.resources ?? []).includes("secrets") || !keyWired)
      report("encryptionConfig does not encrypt secrets with a KMS key.");
  }),
};
