import { isOpenRange, onTypes, type LatticePolicy } from "../lib";

export const policy: LatticePolicy = {
  name: "latticeform-gcp-gke-private",
  description: "GKE clusters are private: private nodes, a private control-plane endpoint, and no open master authorized network.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps: "Set privateClusterConfig.enablePrivateNodes and enablePrivateEndpoint to true, with master authorized networks.",
  validateResource: onTypes(["gcp:container/cluster:Cluster"], (props, report) => {
    const p = props.privateClusterConfig ?? {};
    if (p.enablePrivateNodes !== true) report("privateClusterConfig.enablePrivateNodes is not true: nodes get public addresses.");
    if (p.enablePrivateEndpoint !== true) report("privateClusterConfig.enablePrivateEndpoint is not true: the control plane is public.");
    for (const b of (props.masterAuthorizedNetworksConfig?.cidrBlocks ?? []) as { cidrBlock: string }[])
      if (isOpenRange(b.cidrBlock))
        report(`masterAuthorizedNetworksConfig admits ${b.cidrBlock}: any address may reach the control plane.`);
  }),
};
