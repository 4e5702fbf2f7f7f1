import type { PolicyResource } from "@pulumi/policy";
import type { LatticeSpec } from "../../src/model/schema";
import { compiledPreview, LATTICE_TYPE, type LatticePolicy } from "../lib";

const SC = "kubernetes:storage.k8s.io/v1:StorageClass";
const EBS_PROVISIONERS = ["ebs.csi.aws.com", "kubernetes.io/aws-ebs"];

/**
 * JetStream's store is encrypted at rest: by the servers (`jetstream.cipher`) or by the volumes. On EKS the
 * claims get an EBS volume of their storage class, encrypted only when the class says so; GCP encrypts every
 * persistent disk. The class a claim names sits in the chart values (known after deploy), so what is judged
 * before deploy is that each AWS cloud has an encrypted EBS class to give it.
 */
export const policy: LatticePolicy = {
  name: "latticeform-nats-jetstream-encryption",
  description:
    'JetStream data is encrypted at rest: every server compiles with a `jetstream.cipher`, or every AWS cloud declares an EBS StorageClass with parameters.encrypted "true" for JetStream\'s volume claims (GCP persistent disks are always encrypted).',
  enforcementLevel: "advisory",
  severity: "high",
  remediationSteps:
    'Declare a StorageClass (provisioner ebs.csi.aws.com, parameters.encrypted: "true", kmsKeyId for a customer key) per AWS cluster and name it in the NATS release\'s jetstream.fileStore.pvc.storageClassName.',
  checkableWhen:
    "which class each claim names is in the NATS Helm values; a drill's pre-check can read the PVCs' storageClassName and the volumes' encryption",
  validateStack: async (args, report) => {
    const lattice = args.resources.find((r: PolicyResource) => r.type === LATTICE_TYPE);
    if (!lattice) return;
    const spec = lattice.props.spec as LatticeSpec;
    const { compiled } = await compiledPreview(spec);
    const ciphered = compiled.servers.every((s) => !!(s.conf.jetstream as Record<string, unknown> | undefined)?.cipher);
    if (ciphered) return;
    const classes = args.resources.filter((r: PolicyResource) => r.type === SC).map((r: PolicyResource) => r.props);
    for (const c of spec.clouds.filter((x) => x.provider === "aws")) {
      const ok = classes.some(
        (p) =>
          EBS_PROVISIONERS.includes(p.provisioner) &&
          String(p.parameters?.encrypted) === "true" &&
          [undefined, c.name].includes(p.metadata?.labels?.["latticeform.io/cloud"]),
      );
      if (!ok)
        report(
          `cloud ${c.name} (aws) declares no encrypted EBS StorageClass and the servers set no jetstream cipher: JetStream's volumes get the cluster's default class, unencrypted unless the account encrypts EBS by default.`,
          lattice.urn,
        );
    }
  },
};
