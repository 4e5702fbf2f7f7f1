/** Cases of the rules that judge cloud and Kubernetes resources. */
import { UNKNOWN } from "../../src/review/evaluate";
import { eks, gke, goodSpec, lattice, ncStream, ns, res, type Cases } from "./fixtures";

export const resourceCases: Cases = {
  "latticeform-nats-no-insecure-tls": {
    good: () => [res("kubernetes:helm.sh/v3:Release", { chart: "nats", values: { config: { nats: { tls: { enabled: true } } } } })],
    bad: () => [
      res("kubernetes:helm.sh/v3:Release", { chart: "nats", values: { config: { gateway: { merge: { tls: { insecure: true } } } } } }),
    ],
    expected: ["values.config.gateway.merge.tls.insecure is true: TLS peers are not verified."],
  },
  "latticeform-nats-no-plaintext-secrets": {
    good: () => [res("kubernetes:core/v1:ConfigMap", { data: { "auth.conf": "include /etc/nats-creds/auth.conf" } })],
    bad: () => [
      res("kubernetes:helm.sh/v3:Release", {
        chart: "nats",
        values: { config: { cluster: { merge: { authorization: { password: "hunter2" } } } } },
      }),
      res("kubernetes:core/v1:ConfigMap", { data: { seed: "SUAIBDPBAUTWCWBKIO6XHQNINK5FWJW4OHLXC3HQ2KFE4PEJUA44CNHTC4" } }),
    ],
    expected: [
      "values.config.cluster.merge.authorization.password: a password in plain text.",
      "data.seed: holds an nkey seed in plain text.",
    ],
  },
  "latticeform-nats-stream-delete-protection": {
    good: () => [
      res("kubernetes:jetstream.nats.io/v1beta2:Stream", ncStream("LEDGER")),
      res("kubernetes:jetstream.nats.io/v1beta2:Stream", { spec: { name: "SCRATCH" } }),
    ],
    bad: () => [
      res("kubernetes:jetstream.nats.io/v1beta2:Stream", ncStream("AUDIT", { denyPurge: false })),
      res("kubernetes:jetstream.nats.io/v1beta2:Stream", { spec: { name: "AUDIT_GCP", mirror: { name: "AUDIT" }, preventDelete: true } }),
    ],
    expected: ["stream AUDIT does not set denyPurge.", "stream AUDIT_GCP (mirror of AUDIT) does not set denyDelete, denyPurge."],
  },
  "latticeform-nats-jetstream-encryption": {
    good: () => [
      lattice(goodSpec()),
      // latticeform's own class: its parameters wait for the KMS key's ARN; the compiler says what they will be.
      res("kubernetes:storage.k8s.io/v1:StorageClass", {
        provisioner: "ebs.csi.aws.com",
        parameters: UNKNOWN,
        metadata: { name: "latticeform-jetstream", labels: { "app.kubernetes.io/managed-by": "latticeform" } },
      }),
    ],
    bad: () => [
      lattice(goodSpec()),
      res("kubernetes:storage.k8s.io/v1:StorageClass", {
        provisioner: "ebs.csi.aws.com",
        parameters: { type: "gp3" },
        metadata: { name: "gp3" },
      }),
    ],
    expected: [
      "cloud aws (aws) declares no encrypted EBS StorageClass and the servers set no jetstream cipher: JetStream's volumes get the cluster's default class, unencrypted unless the account encrypts EBS by default.",
    ],
  },
  "latticeform-aws-eks-private-endpoint": {
    good: () => [res("aws:eks/cluster:Cluster", eks())],
    bad: () => [res("aws:eks/cluster:Cluster", eks({ vpcConfig: { endpointPublicAccess: true } }))],
    expected: [
      "vpcConfig.endpointPublicAccess is not false: the Kubernetes API is reachable from the internet.",
      "vpcConfig.endpointPrivateAccess is not true.",
    ],
  },
  "latticeform-aws-eks-secrets-encryption": {
    good: () => [res("aws:eks/cluster:Cluster", eks())],
    bad: () => [res("aws:eks/cluster:Cluster", eks({ encryptionConfig: undefined }))],
    expected: ["encryptionConfig does not encrypt secrets with a KMS key."],
  },
  "latticeform-gcp-gke-private": {
    good: () => [res("gcp:container/cluster:Cluster", gke())],
    bad: () => [
      res(
        "gcp:container/cluster:Cluster",
        gke({
          privateClusterConfig: { enablePrivateNodes: true },
          masterAuthorizedNetworksConfig: { cidrBlocks: [{ cidrBlock: "0.0.0.0/0" }] },
        }),
      ),
    ],
    expected: [
      "privateClusterConfig.enablePrivateEndpoint is not true: the control plane is public.",
      "masterAuthorizedNetworksConfig admits 0.0.0.0/0: any address may reach the control plane.",
    ],
  },
  "latticeform-gcp-gke-secrets-encryption": {
    good: () => [res("gcp:container/cluster:Cluster", gke({ databaseEncryption: { state: "ENCRYPTED", keyName: UNKNOWN } }))],
    bad: () => [res("gcp:container/cluster:Cluster", gke({ databaseEncryption: { state: "DECRYPTED" } }))],
    expected: ["databaseEncryption does not encrypt Secrets with a Cloud KMS key (state ENCRYPTED, keyName)."],
  },
  "latticeform-residency-secret-replicas": {
    good: () => [
      res("gcp:secretmanager/secret:Secret", {
        replication: { userManaged: { replicas: [{ location: "europe-west3" }, { location: "europe-west4" }] } },
      }),
      res("aws:secretsmanager/secret:Secret", { replicas: [{ region: "eu-central-1" }] }),
    ],
    bad: () => [
      res("gcp:secretmanager/secret:Secret", { replication: { auto: {} } }),
      res("gcp:secretmanager/secret:Secret", { replication: { userManaged: { replicas: [{ location: "us-east1" }] } } }),
      res("aws:secretsmanager/secret:Secret", { replicas: [{ region: "us-east-1" }] }),
    ],
    expected: [
      "replication is automatic: Google may keep replicas in any region.",
      "replica location us-east1 is outside the allowed regions.",
      "replica region us-east-1 is outside the allowed regions.",
    ],
  },
  "latticeform-cloud-control-plane-audit-logs": {
    good: () => [res("aws:eks/cluster:Cluster", eks()), res("gcp:container/cluster:Cluster", gke())],
    bad: () => [
      res("aws:eks/cluster:Cluster", eks({ enabledClusterLogTypes: ["api"] })),
      res("gcp:container/cluster:Cluster", gke({ loggingConfig: { enableComponents: ["WORKLOADS"] } })),
    ],
    expected: [
      "enabledClusterLogTypes lacks audit.",
      "enabledClusterLogTypes lacks authenticator.",
      "loggingConfig.enableComponents (WORKLOADS) logs neither SYSTEM_COMPONENTS nor APISERVER.",
    ],
  },
  "latticeform-cloud-node-metadata": {
    good: () => [
      res("aws:ec2/launchTemplate:LaunchTemplate", { metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 } }),
      res("aws:eks/nodeGroup:NodeGroup", { launchTemplate: { id: UNKNOWN, version: "1" } }),
      res("gcp:container/nodePool:NodePool", { nodeConfig: { workloadMetadataConfig: { mode: "GKE_METADATA" } } }),
    ],
    bad: () => [
      res("aws:ec2/instance:Instance", { metadataOptions: { httpTokens: "optional", httpPutResponseHopLimit: 2 } }),
      res("aws:eks/nodeGroup:NodeGroup", {}),
      res("gcp:container/nodePool:NodePool", { nodeConfig: {} }),
    ],
    expected: [
      'metadataOptions.httpTokens is not "required": IMDSv1 answers unauthenticated requests.',
      "metadataOptions.httpPutResponseHopLimit is 2: containers can reach the node's credentials.",
      "the node group has no launch template: EKS's default one sets hop limit 2, so pods can reach the node role's credentials.",
      "nodeConfig.workloadMetadataConfig.mode is not GKE_METADATA: pods read the node's metadata and service account.",
    ],
  },
  "latticeform-cloud-network-policies": {
    good: () => [
      ns("nats", "aws"),
      res("kubernetes:networking.k8s.io/v1:NetworkPolicy", { metadata: { namespace: "nats", labels: { "latticeform.io/cloud": "aws" } } }),
    ],
    bad: () => [
      ns("nats", "aws"),
      ns("wasm", "gcp"),
      res("kubernetes:networking.k8s.io/v1:NetworkPolicy", { metadata: { namespace: "wasm", labels: { "latticeform.io/cloud": "aws" } } }),
    ],
    expected: [
      "namespace nats (aws) has no NetworkPolicy: every pod of the cluster reaches its pods.",
      "namespace wasm (gcp) has no NetworkPolicy: every pod of the cluster reaches its pods.",
    ],
  },
  "latticeform-gcp-gke-workload-identity": {
    good: () => [res("gcp:container/cluster:Cluster", gke())],
    bad: () => [res("gcp:container/cluster:Cluster", gke({ workloadIdentityConfig: undefined }))],
    expected: ["workloadIdentityConfig.workloadPool is not set."],
  },
  "latticeform-gcp-gke-shielded-nodes": {
    good: () => [res("gcp:container/cluster:Cluster", gke())],
    bad: () => [res("gcp:container/cluster:Cluster", gke({ enableShieldedNodes: false }))],
    expected: ["enableShieldedNodes is not true."],
  },
  "latticeform-cloud-volume-encryption": {
    good: () => [
      res("aws:ec2/launchTemplate:LaunchTemplate", { blockDeviceMappings: [{ ebs: { encrypted: "true" } }] }),
      res("aws:ebs/volume:Volume", { encrypted: true }),
      res("aws:ec2/instance:Instance", { rootBlockDevice: { encrypted: true } }),
      res("kubernetes:storage.k8s.io/v1:StorageClass", { provisioner: "ebs.csi.aws.com", parameters: { encrypted: "true" } }),
      res("gcp:compute/instanceTemplate:InstanceTemplate", { disks: [{ boot: true }] }),
    ],
    // Issue 17: EBS volumes, instance root disks, JetStream's storage class, GCP template disks (with CMEK asked for).
    bad: () => [
      res("aws:ec2/launchTemplate:LaunchTemplate", { blockDeviceMappings: [{ ebs: { encrypted: "false" } }] }),
      res("aws:ec2/launchTemplate:LaunchTemplate", {}),
      res("aws:ebs/volume:Volume", { size: 20 }),
      res("aws:ec2/instance:Instance", { ebsBlockDevices: [{ encrypted: false }] }),
      res("kubernetes:storage.k8s.io/v1:StorageClass", {
        metadata: { name: "js" },
        provisioner: "ebs.csi.aws.com",
        parameters: { type: "gp3" },
      }),
    ],
    expected: [
      "blockDeviceMappings[0].ebs.encrypted is not true.",
      "the launch template declares no block device: its root volume would be unencrypted by default.",
      "the EBS volume is not encrypted (encrypted is not true).",
      "rootBlockDevice.encrypted is not true: the instance's root disk is unencrypted by default.",
      "ebsBlockDevices[0].encrypted is not true.",
      'StorageClass js (ebs.csi.aws.com) does not set parameters.encrypted: "true".',
    ],
  },
  "latticeform-cloud-no-public-ip": {
    good: () => [
      res("aws:ec2/launchTemplate:LaunchTemplate", { networkInterfaces: [{ associatePublicIpAddress: "false" }] }),
      res("gcp:compute/instanceTemplate:InstanceTemplate", { networkInterfaces: [{}] }),
    ],
    bad: () => [
      res("aws:ec2/launchTemplate:LaunchTemplate", { networkInterfaces: [{ associatePublicIpAddress: "true" }] }),
      res("gcp:compute/instanceTemplate:InstanceTemplate", { networkInterfaces: [{ accessConfigs: [{}] }] }),
    ],
    expected: ["networkInterfaces[0].associatePublicIpAddress is true.", "networkInterfaces[0].accessConfigs gives the host a public IP."],
  },
  "latticeform-cloud-required-tags": {
    good: () => [
      res("aws:eks/cluster:Cluster", eks()),
      res("gcp:container/cluster:Cluster", gke()),
      res("aws:autoscaling/group:Group", {
        tags: [
          { key: "owner", value: "o" },
          { key: "data-classification", value: "c" },
        ],
      }),
      res("gcp:container/nodePool:NodePool", { nodeConfig: { resourceLabels: { owner: "o", data_classification: "c" } } }),
    ],
    // Issue 17: instances, volumes, node groups, Auto Scaling groups, GCP secrets and GKE node pools were left out.
    bad: () => [
      res("aws:eks/cluster:Cluster", eks({ tags: { owner: "o" } })),
      res("gcp:container/cluster:Cluster", gke({ resourceLabels: {} })),
      res("aws:ec2/instance:Instance", { tags: { owner: "o" } }),
      res("aws:ebs/volume:Volume", {}),
      res("aws:eks/nodeGroup:NodeGroup", { tags: { "data-classification": "c" } }),
      res("aws:autoscaling/group:Group", { tags: [{ key: "owner", value: "o" }] }),
      res("gcp:secretmanager/secret:Secret", { labels: { owner: "o" } }),
      res("gcp:container/nodePool:NodePool", { nodeConfig: {} }),
    ],
    expected: [
      "tags lack data-classification.",
      "resourceLabels lack owner, data-classification.",
      "tags lack data-classification.",
      "tags lack owner, data-classification.",
      "tags lack owner.",
      "tags lack data-classification.",
      "labels lack data-classification.",
      "nodeConfig.resourceLabels lack owner, data-classification.",
    ],
  },
  "latticeform-wasm-node-pool-taints": {
    good: () => [
      res("aws:eks/nodeGroup:NodeGroup", {
        labels: { "latticeform.dev/wasm-runtime": "wasmedge" },
        taints: [{ key: "k", value: "v", effect: "NO_SCHEDULE" }],
      }),
    ],
    bad: () => [
      res("gcp:container/nodePool:NodePool", { nodeConfig: { labels: { "latticeform.dev/wasm-runtime": "wasmtime" }, taints: [] } }),
    ],
    expected: ["a Wasm node pool without a NoSchedule taint: any pod may land on it."],
  },
  "latticeform-wasm-image-pinning": {
    good: () => [
      res("kubernetes:apps/v1:Deployment", { spec: { template: { spec: { containers: [{ image: `nats@sha256:${"a".repeat(64)}` }] } } } }),
      res("gcp:compute/instance:Instance", { metadataStartupScript: 'curl -o k.tgz https://x/k.tgz\necho "abc  k.tgz" | sha256sum -c -' }),
      // The host pod sidecar's startup probe reads its own monitoring port: not a download.
      res("kubernetes:apps/v1:Deployment", {
        spec: {
          template: {
            spec: {
              containers: [
                {
                  image: `nats@sha256:${"a".repeat(64)}`,
                  startupProbe: { exec: { command: ["sh", "-c", "wget -q -O - http://127.0.0.1:8222/leafz | grep -q x"] } },
                },
              ],
            },
          },
        },
      }),
    ],
    // Issue 17: path artifacts deploy as :latest; downloads without a pinned checksum.
    bad: () => [
      res("kubernetes:runtime.wasmcloud.dev/v1alpha1:WorkloadDeployment", {
        spec: { template: { spec: { components: [{ image: "ghcr.io/latticeform/payments/ledger:latest" }] } } },
      }),
      res("aws:ec2/launchTemplate:LaunchTemplate", {
        userData: Buffer.from("curl -fsSL -o s.tgz https://example.org/s.tgz\n").toString("base64"),
      }),
    ],
    expected: [
      "spec.template.spec.components[0].image ghcr.io/latticeform/payments/ledger:latest is not pinned by digest.",
      "a boot script downloads https://example.org/s.tgz without checking a pinned SHA-256.",
    ],
  },
};
