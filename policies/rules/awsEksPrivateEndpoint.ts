import { onTypes, type LatticePolicy } from "../lib";

export const policy: LatticePolicy = {
  name: "latticeform-aws-eks-private-endpoint",
  description: "EKS API endpoints are private: no public endpoint.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Set vpcConfig.endpointPublicAccess: false and endpointPrivateAccess: true; reach the API through the VPC or a bastion.",
  validateResource: onTypes(["aws:eks/cluster:Cluster"], (props, report) => {
    const vpc = props.vpcConfig ?? {};
    if (vpc.endpointPublicAccess !== false)
      report("vpcConfig.endpointPublicAccess is not false: the Kubernetes API is reachable from the internet.");
    if (vpc.endpointPrivateAccess !== true) report("vpcConfig.endpointPrivateAccess is not true.");
  }),
};
