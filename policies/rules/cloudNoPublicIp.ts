import { onTypes, type LatticePolicy } from "../lib";

/** Wasm hosts and nodes have no public address; they reach out through NAT. */
export const policy: LatticePolicy = {
  name: "latticeform-cloud-no-public-ip",
  description: "No public IP on Wasm hosts and nodes: launch templates and instance templates of node pools.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps: "Remove associatePublicIpAddress / accessConfigs; nodes leave through the site's NAT gateway.",
  validateResource: onTypes(["aws:ec2/launchTemplate:LaunchTemplate", "gcp:compute/instanceTemplate:InstanceTemplate"], (props, report) => {
    (props.networkInterfaces ?? []).forEach((n: { associatePublicIpAddress?: unknown; accessConfigs?: unknown[] }, i: number) => {
      if (String(n.associatePublicIpAddress) === "true") report(`networkInterfaces[${i}].associatePublicIpAddress is true.`);
      if ((n.accessConfigs ?? []).length > 0) report(`networkInterfaces[${i}].accessConfigs gives the host a public IP.`);
    });
  }),
};
