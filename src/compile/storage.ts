/**
 * The StorageClass the NATS JetStream volumes bind to, per cloud provider. Pure. EKS 1.30+ clusters have no
 * default StorageClass (an unset `storageClassName` leaves the chart's PVCs Pending and the atomic Helm release
 * rolls back), and relying on a cluster default would leave encryption and disk type to chance: the class is
 * explicit, named in the NATS chart values (`config.jetstream.fileStore.pvc.storageClassName`, nats-io/k8s
 * helm/charts/nats 2.14.x `files/stateful-set/jetstream-pvc.yaml`).
 *
 * - AWS: the EBS CSI driver (`ebs.csi.aws.com`; aws-ebs-csi-driver `docs/parameters.md`): gp3, `encrypted: "true"`,
 *   `kmsKeyId` = the site's KMS key.
 * - GCP: the Compute Engine PD CSI driver (`pd.csi.storage.gke.io`): `pd-balanced`, encrypted at rest by Google
 *   (a `disk-encryption-kms-key` may be added for CMEK).
 *
 * Both: `WaitForFirstConsumer` (the volume is created in the zone the pod is scheduled to: the hub spreads pods
 * over zones), `Retain` (losing a PVC must not delete a replica's stream data), expansion allowed.
 */
import type { K8sObject } from "./kubernetes";

export const JETSTREAM_STORAGE_CLASS = "latticeform-jetstream";

export const STORAGE_PROVISIONER = { aws: "ebs.csi.aws.com", gcp: "pd.csi.storage.gke.io" } as const;

export interface StorageClassObject extends K8sObject {
  provisioner: string;
  parameters: Record<string, string>;
  reclaimPolicy: "Retain" | "Delete";
  volumeBindingMode: "WaitForFirstConsumer" | "Immediate";
  allowVolumeExpansion: boolean;
}

export function jetstreamStorageClass(provider: "aws" | "gcp", lattice: string, opts: { kmsKeyId?: string } = {}): StorageClassObject {
  const parameters: Record<string, string> =
    provider === "aws"
      ? { type: "gp3", encrypted: "true", "csi.storage.k8s.io/fstype": "ext4", ...(opts.kmsKeyId ? { kmsKeyId: opts.kmsKeyId } : {}) }
      : {
          type: "pd-balanced",
          "csi.storage.k8s.io/fstype": "ext4",
          ...(opts.kmsKeyId ? { "disk-encryption-kms-key": opts.kmsKeyId } : {}),
        };
  return {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: {
      name: JETSTREAM_STORAGE_CLASS,
      labels: { "app.kubernetes.io/managed-by": "latticeform", "latticeform.io/lattice": lattice },
    },
    provisioner: STORAGE_PROVISIONER[provider],
    parameters,
    reclaimPolicy: "Retain",
    volumeBindingMode: "WaitForFirstConsumer",
    allowVolumeExpansion: true,
  };
}
