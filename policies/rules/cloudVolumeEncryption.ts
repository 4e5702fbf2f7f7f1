import { onTypes, type LatticePolicy, type Props } from "../lib";

const LT = "aws:ec2/launchTemplate:LaunchTemplate";
const EBS = "aws:ebs/volume:Volume";
const EC2 = "aws:ec2/instance:Instance";
const SC = "kubernetes:storage.k8s.io/v1:StorageClass";
const GDISK = "gcp:compute/disk:Disk";
const GVM = "gcp:compute/instance:Instance";
const GTPL = "gcp:compute/instanceTemplate:InstanceTemplate";
const EBS_PROVISIONERS = ["ebs.csi.aws.com", "kubernetes.io/aws-ebs"];
const PD_PROVISIONERS = ["pd.csi.storage.gke.io", "kubernetes.io/gce-pd"];

type Report = (m: string) => void;
const isTrue = (v: unknown) => String(v) === "true";

function aws(type: string, props: Props, report: Report): void {
  if (type === LT) {
    const maps: Props[] = props.blockDeviceMappings ?? [];
    if (maps.length === 0) report("the launch template declares no block device: its root volume would be unencrypted by default.");
    maps.forEach((m, i) => {
      if (m.ebs && !isTrue(m.ebs.encrypted)) report(`blockDeviceMappings[${i}].ebs.encrypted is not true.`);
    });
  } else if (type === EBS) {
    if (!isTrue(props.encrypted)) report("the EBS volume is not encrypted (encrypted is not true).");
  } else if (type === EC2) {
    if (!props.rootBlockDevice || !isTrue(props.rootBlockDevice.encrypted))
      report("rootBlockDevice.encrypted is not true: the instance's root disk is unencrypted by default.");
    ((props.ebsBlockDevices ?? []) as Props[]).forEach((d, i) => {
      if (!isTrue(d.encrypted)) report(`ebsBlockDevices[${i}].encrypted is not true.`);
    });
  }
}

/** GCP encrypts every disk at rest with Google-managed keys; a customer-managed key is asked for with `requireCmekOnGcp`. */
function gcp(type: string, props: Props, report: Report): void {
  if (type === GDISK && !props.diskEncryptionKey?.kmsKeySelfLink) report("the disk has no customer-managed encryption key.");
  if (type === GVM && !props.bootDisk?.kmsKeySelfLink) report("bootDisk has no customer-managed encryption key (kmsKeySelfLink).");
  if (type === GTPL)
    ((props.disks ?? []) as Props[]).forEach((d, i) => {
      if (!d.diskEncryptionKey?.kmsKeySelfLink) report(`disks[${i}] has no customer-managed encryption key.`);
    });
}

/** Storage classes decide how JetStream's volume claims are encrypted (the claims themselves name the class). */
function storageClass(props: Props, report: Report, cmek: boolean): void {
  const params = (props.parameters ?? {}) as Record<string, string>;
  if (EBS_PROVISIONERS.includes(props.provisioner) && !isTrue(params.encrypted))
    report(`StorageClass ${props.metadata?.name ?? ""} (${props.provisioner}) does not set parameters.encrypted: "true".`);
  if (cmek && PD_PROVISIONERS.includes(props.provisioner) && !params["disk-encryption-kms-key"])
    report(`StorageClass ${props.metadata?.name ?? ""} (${props.provisioner}) sets no disk-encryption-kms-key.`);
}

/** Disks of nodes, the tie-breaker and JetStream's volume classes are encrypted. */
export const policy: LatticePolicy = {
  name: "latticeform-cloud-volume-encryption",
  description:
    "Every AWS disk is encrypted: launch-template block devices, EBS volumes, instance root and EBS disks, EBS storage classes (JetStream's volume claims); GCP disks, instance boot disks, instance-template disks and PD storage classes use a customer-managed key when `requireCmekOnGcp`.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    'Set encrypted: true on EBS volumes, rootBlockDevice and blockDeviceMappings[].ebs (kmsKeyId for a customer-managed key), parameters.encrypted: "true" on EBS storage classes; on GCP set diskEncryptionKey / kmsKeySelfLink.',
  checkableWhen:
    "the storage class a JetStream volume claim uses sits in the NATS chart values; latticeform-nats-jetstream-encryption judges which classes exist",
  configSchema: { properties: { requireCmekOnGcp: { type: "boolean", default: false } } },
  validateResource: onTypes([LT, EBS, EC2, SC, GDISK, GVM, GTPL], (props, report, args) => {
    const { requireCmekOnGcp } = args.getConfig<{ requireCmekOnGcp: boolean }>();
    if (args.type === SC) storageClass(props, report, requireCmekOnGcp);
    else if (args.type.startsWith("aws:")) aws(args.type, props, report);
    else if (requireCmekOnGcp) gcp(args.type, props, report);
  }),
};
