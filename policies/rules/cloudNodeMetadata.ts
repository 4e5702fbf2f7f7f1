import { onTypes, type LatticePolicy, type Props } from "../lib";

const LT = "aws:ec2/launchTemplate:LaunchTemplate";
const EC2 = "aws:ec2/instance:Instance";
const NG = "aws:eks/nodeGroup:NodeGroup";
const GNP = "gcp:container/nodePool:NodePool";

function imds(m: Props | undefined, report: (s: string) => void): void {
  if (m?.httpTokens !== "required") report('metadataOptions.httpTokens is not "required": IMDSv1 answers unauthenticated requests.');
  if (Number(m?.httpPutResponseHopLimit ?? 2) !== 1)
    report(
      `metadataOptions.httpPutResponseHopLimit is ${m?.httpPutResponseHopLimit ?? "unset (2 on EKS)"}: containers can reach the node's credentials.`,
    );
}

/**
 * Node credentials stay on the node: IMDSv2 with hop limit 1 (AWS EKS best-practices guide; CIS EKS 5.2.1: workloads
 * use their own service accounts, not the node's) and the GKE metadata server (CIS GKE 5.4.2).
 */
export const policy: LatticePolicy = {
  name: "latticeform-cloud-node-metadata",
  description:
    "Nodes protect their instance metadata: launch templates and instances require IMDSv2 with hop limit 1, EKS node groups run from such a launch template, GKE node pools use the GKE metadata server (Workload Identity).",
  enforcementLevel: "advisory",
  severity: "high",
  remediationSteps:
    "Set metadataOptions { httpTokens: required, httpPutResponseHopLimit: 1 } on launch templates and instances, give EKS node groups such a launch template, and set nodeConfig.workloadMetadataConfig.mode: GKE_METADATA.",
  validateResource: onTypes([LT, EC2, NG, GNP], (props, report, args) => {
    if (args.type === NG) {
      if (!props.launchTemplate)
        report("the node group has no launch template: EKS's default one sets hop limit 2, so pods can reach the node role's credentials.");
    } else if (args.type === GNP) {
      if (props.nodeConfig?.workloadMetadataConfig?.mode !== "GKE_METADATA")
        report("nodeConfig.workloadMetadataConfig.mode is not GKE_METADATA: pods read the node's metadata and service account.");
    } else imds(props.metadataOptions, report);
  }),
};
