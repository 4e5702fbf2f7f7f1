import { onTypes, type LatticePolicy } from "../lib";

/** Disks of self-managed nodes (Krustlet) and the tie-breaker are encrypted. */
export const policy: LatticePolicy = {
  name: "latticeform-cloud-volume-encryption",
  description: "Every EBS volume of a launch template is encrypted; GCP disks use a customer-managed key when `requireCmekOnGcp`.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps: "Set blockDeviceMappings[].ebs.encrypted: true (with kmsKeyId for a customer-managed key).",
  configSchema: { properties: { requireCmekOnGcp: { type: "boolean", default: false } } },
  validateResource: onTypes(["aws:ec2/launchTemplate:LaunchTemplate", "gcp:compute/disk:Disk"], (props, report, args) => {
    if (args.type === "aws:ec2/launchTemplate:LaunchTemplate") {
      const maps = props.blockDeviceMappings ?? [];
      if (maps.length === 0) report("the launch template declares no block device: its root volume would be unencrypted by default.");
      maps.forEach((m: { ebs?: { encrypted?: unknown } }, i: number) => {
        if (m.ebs && String(m.ebs.encrypted) !== "true") report(`blockDeviceMappings[${i}].ebs.encrypted is not true.`);
      });
    } else if (args.getConfig<{ requireCmekOnGcp: boolean }>().requireCmekOnGcp && !props.diskEncryptionKey?.kmsKeySelfLink) {
      report("the disk has no customer-managed encryption key.");
    }
  }),
};
