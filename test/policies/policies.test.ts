import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { policies } from "../../policies/policies";
import type { LatticePolicy } from "../../policies/lib";
import { UNKNOWN, type EvaluatedResource } from "../../src/review/evaluate";
import { resolvePolicyConfig, runPolicies, type Enforcement } from "../../src/review/review";
import { readStackConfig } from "../../src/model/load";
import type { LatticeSpec } from "../../src/model/schema";
import { parseLattice } from "../../src/model/validate";

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const goodSpec = (): LatticeSpec => parseLattice(readStackConfig("stacks/Pulumi.prod.yaml"));

function res(type: string, props: Any, name = "r"): EvaluatedResource {
  return {
    type,
    name,
    urn: `urn:pulumi:t::latticeform::${type}::${name}`,
    props,
    dependencies: [],
    custom: !type.startsWith("latticeform:"),
    unknownPaths: [],
  };
}
const lattice = (spec: LatticeSpec, inputs: Any = {}) =>
  res("latticeform:index:Lattice", { spec, operatorCidrs: [], existingEgressCidrs: {}, ...inputs }, "t");
/** One leaf-connected host in aws, every other pool direct: a small set of leaf users to judge. */
const oneLeafHost = (s: Any) => {
  s.clouds[0].hostPools = [{ ...s.clouds[0].hostPools[0], hosts: 1 }];
  s.clouds[1].hostPools = s.clouds[1].hostPools.filter((p: Any) => p.connection === "direct");
};
const hostPod = (hostMounts: string[]) => ({
  metadata: { name: "wasmcloud-aws-edge-1" },
  spec: {
    template: {
      spec: {
        containers: [
          { name: "host", volumeMounts: hostMounts.map((name) => ({ name })) },
          { name: "nats-leaf", volumeMounts: [{ name: "leaf" }, { name: "leaf-creds" }] },
        ],
        volumes: [
          { name: "leaf", secret: { secretName: "leaf-conf" } },
          { name: "leaf-creds", secret: { secretName: "leaf-creds" } },
          { name: "host-creds", secret: { secretName: "host-creds" } },
        ],
      },
    },
  },
});
const ns = (name: string, cloud: string) =>
  res(
    "kubernetes:core/v1:Namespace",
    { metadata: { name, labels: { "app.kubernetes.io/managed-by": "latticeform", "latticeform.io/cloud": cloud } } },
    `${cloud}-${name}`,
  );
const ncStream = (name: string, over: Any = {}) => ({ spec: { name, denyDelete: true, denyPurge: true, preventDelete: true, ...over } });

async function messages(policy: string, resources: EvaluatedResource[], cfg: Any = {}, level?: Enforcement): Promise<string[]> {
  const p = policies.find((x) => x.name === policy);
  assert.ok(p, `no policy ${policy}`);
  const config = resolvePolicyConfig([p], {
    ...(level ? { [policy]: { enforcementLevel: level, ...cfg } } : Object.keys(cfg).length ? { [policy]: cfg } : {}),
  });
  return (await runPolicies(resources, [p], config)).map((f) => (f.status === "violation" ? f.message : `NOT CHECKABLE: ${f.message}`));
}

function mutate(f: (s: Any) => void): LatticeSpec {
  const s = goodSpec() as unknown as Any;
  f(s);
  return s as unknown as LatticeSpec;
}

const eks = (over: Any = {}) => ({
  vpcConfig: { endpointPublicAccess: false, endpointPrivateAccess: true },
  encryptionConfig: { provider: { keyArn: "arn:aws:kms:eu-west-1:1:key/x" }, resources: ["secrets"] },
  tags: { owner: "o", "data-classification": "c" },
  enabledClusterLogTypes: ["api", "audit", "authenticator"],
  ...over,
});
const gke = (over: Any = {}) => ({
  privateClusterConfig: { enablePrivateNodes: true, enablePrivateEndpoint: true },
  workloadIdentityConfig: { workloadPool: "p.svc.id.goog" },
  enableShieldedNodes: true,
  resourceLabels: { owner: "o", data_classification: "c" },
  ...over,
});
const lb = (ranges: string[] | undefined) => ({
  spec: { type: "LoadBalancer", ports: [{ port: 7222 }, { port: 7422 }], ...(ranges ? { loadBalancerSourceRanges: ranges } : {}) },
});

/** Per policy: resources that pass, resources that violate, and the exact messages. */
const CASES: Record<string, { good: () => EvaluatedResource[]; bad: () => EvaluatedResource[]; expected: string[] }> = {
  "latticeform-nats-tls-every-port": {
    good: () => [lattice(goodSpec())],
    bad: () => [lattice(mutate((s) => (s.security.tls.gateway = false)))],
    expected: ["security.tls.gateway: the gateway port has no TLS."],
  },
  "latticeform-nats-leafnode-verify": {
    good: () => [lattice(goodSpec())],
    bad: () => [lattice(mutate((s) => (s.security.tls.leafnode = { verify: false })))],
    expected: ["security.tls.leafnode.verify is false: any TLS client may open a leafnode connection."],
  },
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
  "latticeform-nats-leafnode-authorization": {
    good: () => [
      lattice(mutate((s) => s.clouds.forEach((c: Any) => (c.hostPools = c.hostPools.filter((p: Any) => p.connection === "direct"))))),
      res("kubernetes:apps/v1:Deployment", hostPod(["host-creds"])),
    ],
    // The cases of issue 17: leaf users holding the whole account, a host container handed the leaf's credentials.
    bad: () => [
      lattice(mutate((s) => (oneLeafHost(s), (s.security.auth = "none")))),
      res("kubernetes:apps/v1:Deployment", hostPod(["host-creds", "leaf-creds"])),
    ],
    expected: [
      'security.auth is "none": leafnode connections would not present account credentials.',
      "leaf user leaf:aws-edge-1 may publish and subscribe to every subject of account APP, $JS API included: its JWT carries no pub/sub permissions.",
      "wasmcloud-aws-edge-1: container host mounts Secret leaf-creds (volume leaf-creds), which the leaf sidecar also mounts: the host holds the leaf's credentials.",
    ],
  },
  "latticeform-nats-user-permissions": {
    good: () => [lattice(goodSpec())],
    bad: () => [
      lattice(
        mutate((s) => {
          s.security.accounts[0].users = [
            { name: "teller", permissions: { publish: [">"], subscribe: ["_INBOX.>"] } },
            { name: "ops", permissions: { publish: ["$JS.API.>"], subscribe: [] } },
            { name: "any" },
          ];
        }),
      ),
    ],
    expected: [
      "security.accounts[0].users[0] (APP/teller) may publish >: every subject.",
      "security.accounts[0].users[1] (APP/ops) may publish $JS.API.>: the whole JetStream API (create, purge and delete any stream).",
      "security.accounts[0].users[1] (APP/ops) has no subscribe allow list: nothing bounds it.",
      "security.accounts[0].users[2] (APP/any) has no permissions: it may publish and subscribe to every subject of account APP.",
    ],
  },
  "latticeform-nats-host-permissions": {
    // Without a key-value workload the hosts get no JetStream API at all.
    good: () => [lattice(mutate((s) => s.workloads.forEach((w: Any) => delete w.kv)))],
    bad: () => [lattice(mutate(oneLeafHost))],
    expected: [
      "host aws-edge-1 may publish $JS.hub.API.>: more of the JetStream API than its buckets (balances).",
      "host aws-edge-1 may publish $JS.API.>: more of the JetStream API than its buckets (balances).",
      "host gcp-core-1 may publish $JS.hub.API.>: more of the JetStream API than its buckets (balances).",
      "host gcp-core-1 may publish $JS.API.>: more of the JetStream API than its buckets (balances).",
      "host gcp-core-2 may publish $JS.hub.API.>: more of the JetStream API than its buckets (balances).",
      "host gcp-core-2 may publish $JS.API.>: more of the JetStream API than its buckets (balances).",
    ],
  },
  "latticeform-nats-no-public-exposure": {
    good: () => [
      lattice(goodSpec(), { operatorCidrs: ["198.51.100.0/24"], existingEgressCidrs: { gcp: ["35.9.9.9/32"] } }),
      res("kubernetes:core/v1:Service", lb(["34.1.2.3/32"])),
      res("gcp:compute/firewall:Firewall", { allows: [{ ports: ["7222-7422"] }], sourceRanges: ["52.1.2.3/32"] }),
      res("aws:ec2/securityGroup:SecurityGroup", {
        ingress: [{ protocol: "tcp", fromPort: 6222, toPort: 6222, cidrBlocks: ["34.1.2.3/32"] }],
        egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }],
      }),
    ],
    // Issue 17: an open operator range (known before deploy, while the ranges it flows into are not), the
    // tie-breaker's AWS security group, a non-default client port, a GCP port range once parsed as NaN.
    bad: () => [
      lattice(
        mutate((s) => ((s.clouds[0].hub.ports.client = 14222), delete s.stretched, delete s.tieBreaker)),
        { operatorCidrs: ["0.0.0.0/0"], existingEgressCidrs: { gcp: ["10.0.0.0/4"] } },
      ),
      res("kubernetes:core/v1:Service", lb(["0.0.0.0/0"])),
      res("kubernetes:core/v1:Service", lb(undefined)),
      res("gcp:compute/firewall:Firewall", { allows: [{ ports: ["7222-7422"] }], sourceRanges: ["0.0.0.0/0"] }),
      res("aws:ec2/securityGroup:SecurityGroup", {
        ingress: [{ protocol: "tcp", fromPort: 4222, toPort: 7222, cidrBlocks: ["0.0.0.0/0"] }],
      }),
      res("aws:ec2/securityGroupRule:SecurityGroupRule", {
        type: "ingress",
        protocol: "-1",
        fromPort: 0,
        toPort: 0,
        ipv6CidrBlocks: ["::/0"],
      }),
    ],
    expected: [
      "operatorCidrs[0] 0.0.0.0/0 is admitted to every NATS listener the lattice exposes (aws hub load balancer 7222, 7422, 14222; gcp hub load balancer 7222, 7422, 4222).",
      "existingEgressCidrs.gcp[0] 10.0.0.0/4 is admitted to every NATS listener the lattice exposes (aws hub load balancer 7222, 7422, 14222; gcp hub load balancer 7222, 7422, 4222).",
      "loadBalancerSourceRanges contains 0.0.0.0/0: ports 7222, 7422 are open to the internet.",
      "a LoadBalancer for ports 7222, 7422 has no loadBalancerSourceRanges: it is open to the internet.",
      "a firewall admits 0.0.0.0/0 to 7222-7422.",
      "security group ingress[0] admits 0.0.0.0/0 to 4222-7222.",
      "a security group rule admits ::/0 to all ports.",
    ],
  },
  "latticeform-nats-monitoring-not-exposed": {
    good: () => [lattice(goodSpec()), res("kubernetes:core/v1:Service", lb(["34.1.2.3/32"]))],
    bad: () => [
      lattice(mutate((s) => ((s.clouds[1].hub.ports.monitor = 7422), (s.tieBreaker.ports.monitor = 4222)))),
      res("kubernetes:core/v1:Service", { spec: { type: "LoadBalancer", ports: [{ name: "monitor", port: 8222 }] } }),
    ],
    expected: [
      "gcp: the monitoring port 7422 is one of the ports the hub load balancer exposes.",
      "tb: the monitoring port 4222 is one of the ports the tie-breaker firewall exposes.",
      "the load balancer exposes port 8222 (monitor): the monitoring endpoint.",
    ],
  },
  "latticeform-resilience-multi-cloud": {
    good: () => [lattice(goodSpec())],
    bad: () => [lattice(mutate((s) => (s.clouds = [s.clouds[0]])))],
    expected: [
      "the lattice declares 1 cloud(s); at least 2 are required.",
      "every cloud is on aws: losing that provider loses the lattice.",
    ],
  },
  "latticeform-resilience-hub-spread": {
    good: () => [lattice(goodSpec())],
    bad: () => [lattice(mutate((s) => ((s.clouds[0].zones = ["eu-west-1a"]), (s.clouds[1].hub.servers = 4))))],
    expected: ["clouds[0] (aws) spreads its hub over 1 zone(s); at least 3 are required.", "clouds[1].hub.servers is 4; use 3 or 5."],
  },
  "latticeform-resilience-meta-quorum": {
    good: () => [lattice(goodSpec())],
    bad: () => [lattice(mutate((s) => (delete s.tieBreaker, delete s.stretched)))],
    expected: [
      "losing aws leaves 3 of 6 JetStream servers, below the majority of 4.",
      "losing gcp leaves 3 of 6 JetStream servers, below the majority of 4.",
    ],
  },
  "latticeform-resilience-rpo-zero-replication": {
    good: () => [lattice(goodSpec())],
    // Issue 17: an asynchronous mirror counted as RPO 0; two servers per cloud letting two of three replicas share one.
    bad: () => [
      lattice(
        mutate((s) => {
          s.kv[0] = { ...s.kv[0], placement: { cluster: "aws", tags: [] }, mirrors: ["gcp"] };
          s.stretched.serversPerCloud = 2;
          s.streams[0].storage = "memory";
        }),
      ),
    ],
    expected: [
      "workload ledger (RPO 0) keeps bucket balances: all its replicas are in aws; its mirrors in gcp are asynchronous (loss up to their lag).",
      "RPO-0 stream LEDGER in memory storage: a restart loses it.",
      "RPO-0 stream LEDGER: 2 of its 3 replicas may be placed in aws (quorum 2): losing aws can lose acknowledged writes.",
    ],
  },
  "latticeform-resilience-stream-durability": {
    good: () => [lattice(goodSpec())],
    bad: () => [lattice(mutate((s) => (s.streams[1] = { ...s.streams[1], replicas: 1, storage: "memory", mirrors: [] })))],
    expected: [
      "stream AUDIT is in memory storage: a server restart loses it.",
      "stream AUDIT has 1 replica(s); at least 3 are required.",
      "stream AUDIT has copies only in aws: losing it loses the stream.",
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
      res("kubernetes:storage.k8s.io/v1:StorageClass", {
        provisioner: "ebs.csi.aws.com",
        parameters: { encrypted: "true" },
        metadata: { name: "js" },
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
  "latticeform-resilience-drill-programme": {
    good: () => [
      lattice(
        mutate((s) => {
          const base = s.drills[0];
          s.drills.push({ ...base, id: "lose-tb", faults: [{ kind: "cloud-outage", cloud: "tb" }] });
          s.drills.push({ ...base, id: "split", faults: [{ kind: "partition", between: ["aws", "gcp"], durationSeconds: 5 }] });
        }),
      ),
    ],
    bad: () => [lattice(mutate((s) => (s.drills = s.drills.filter((d: Any) => d.id !== "lose-gcp"))))],
    expected: [
      "no drill takes cloud gcp down.",
      "no drill takes the tie-breaker site tb down.",
      "no drill partitions two clouds from each other.",
    ],
  },
  "latticeform-resilience-workload-failover": {
    good: () => [lattice(goodSpec())],
    bad: () => [lattice(mutate((s) => (s.workloads[0].instances = { aws: 2 })))],
    expected: ["workload validator runs only in aws: it has no failover target."],
  },
  "latticeform-resilience-warm-standby": {
    good: () => [lattice(goodSpec())],
    bad: () => [lattice(mutate((s) => (s.workloads[1].failover.warmStandby = 0)))],
    expected: ["workload ledger has a cold standby: promotion needs a cold start."],
  },
  "latticeform-resilience-drill-coverage": {
    good: () => [lattice(goodSpec())],
    bad: () => [
      lattice(
        mutate((s) => {
          s.drills = s.drills.filter((d: { id: string }) => d.id !== "lose-gcp");
          s.drills.push({
            ...s.drills[0],
            id: "freeze-gcp-1",
            faults: [{ kind: "blackhole", cloud: "gcp", server: "gcp-1", durationSeconds: 5 }],
          });
        }),
      ),
    ],
    expected: ["no declared drill takes cloud gcp down."],
  },
  "latticeform-resilience-impact-tolerance": {
    good: () => [lattice(goodSpec())],
    bad: () => [
      lattice(
        mutate((s) => {
          s.workloads[0].objectives.rtoSeconds = 120;
          s.workloads[1].objectives.rpoMessages = 5;
          // Issue 17: a drill loosening the ledger's objectives, so its evidence is judged against 3600 s / 1000.
          s.drills[0].objectives = { ledger: { rtoSeconds: 3600, rpoMessages: 1000 } };
        }),
      ),
    ],
    expected: [
      "workload validator: RTO 120 s exceeds the impact tolerance of 60 s.",
      "workload ledger: RPO 5 messages exceeds the tolerance of 0.",
      "drill lose-aws judges workload ledger against: RTO 3600 s exceeds the impact tolerance of 60 s.",
      "drill lose-aws judges workload ledger against: RPO 1000 messages exceeds the tolerance of 0.",
    ],
  },
  "latticeform-resilience-gateway-completeness": {
    good: () => [
      lattice(goodSpec()),
      ...["aws", "gcp", "stretch"].map((c) => res("latticeform:nats:HubCluster", { cluster: c }, c)),
      res("latticeform:nats:TieBreakerSite", { site: "tb" }, "tb"),
    ],
    bad: () => [lattice(goodSpec()), res("latticeform:nats:HubCluster", { cluster: "aws" }, "aws")],
    expected: [
      "cluster gcp of the topology is not deployed: gateways to it have no peer.",
      "cluster stretch of the topology is not deployed: gateways to it have no peer.",
      "the tie-breaker site tb is not deployed: losing a cloud loses the JetStream majority.",
    ],
  },
  "latticeform-residency-allowed-regions": {
    good: () => [lattice(goodSpec())],
    bad: () => [lattice(mutate((s) => (s.clouds[0].region = "us-east-1")))],
    expected: ["clouds[0].region us-east-1 (aws) is outside the allowed regions."],
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
  "latticeform-wasm-krustlet-unmaintained": {
    good: () => [
      lattice(mutate((s) => s.clouds.forEach((c: Any) => (c.nodePools = c.nodePools.filter((p: Any) => p.kind !== "krustlet"))))),
    ],
    bad: () => [lattice(goodSpec())],
    expected: [
      "clouds[0].nodePools[1] (aws/krustlet) uses Krustlet, which is not maintained upstream.",
      "clouds[1].nodePools[1] (gcp/krustlet) uses Krustlet, which is not maintained upstream.",
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
  "latticeform-wasm-artifact-digest": {
    good: () => [lattice(goodSpec())],
    bad: () => [
      lattice(
        mutate(
          (s) => ((s.workloads[2].artifact = { oci: "ghcr.io/x/y:latest" }), (s.workloads[0].artifact = { path: "../elsewhere/v.wasm" })),
        ),
      ),
    ],
    expected: [
      "workloads[0].artifact.path ../elsewhere/v.wasm points outside the repository: what is pushed is not what was reviewed.",
      "workloads[2].artifact.oci ghcr.io/x/y:latest is not pinned by digest.",
    ],
  },
  "latticeform-wasm-image-pinning": {
    good: () => [
      res("kubernetes:apps/v1:Deployment", { spec: { template: { spec: { containers: [{ image: `nats@sha256:${"a".repeat(64)}` }] } } } }),
      res("gcp:compute/instance:Instance", { metadataStartupScript: 'curl -o k.tgz https://x/k.tgz\necho "abc  k.tgz" | sha256sum -c -' }),
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

describe("policy pack", () => {
  it("has at least 20 policies, every one with a test case here", () => {
    assert.ok(policies.length >= 20, `${policies.length} policies`);
    assert.deepEqual(policies.map((p) => p.name).sort(), Object.keys(CASES).sort());
  });

  it("names, severities, enforcement levels, descriptions and remediation are complete", () => {
    for (const p of policies as LatticePolicy[]) {
      assert.match(p.name, /^latticeform-(nats|resilience|residency|aws|gcp|cloud|wasm)-[a-z0-9-]+$/);
      assert.ok(["low", "medium", "high", "critical"].includes(p.severity), p.name);
      assert.ok(["advisory", "mandatory"].includes(p.enforcementLevel ?? ""), p.name);
      assert.ok((p.description ?? "").length > 20, p.name);
      assert.ok(p.remediationSteps.length > 10, p.name);
      for (const [k, s] of Object.entries((p.configSchema?.properties ?? {}) as Any))
        assert.ok("default" in s, `${p.name}.${k} has no default`);
    }
  });

  it("config schemas give defaults and refuse bad settings, naming them", () => {
    const cfg = resolvePolicyConfig(policies, {});
    assert.deepEqual(cfg.get("latticeform-resilience-impact-tolerance")!.settings, { maxRtoSeconds: 60, maxRpoMessages: 0 });
    assert.deepEqual(cfg.get("latticeform-cloud-required-tags")!.settings, { requiredTags: ["owner", "data-classification"] });
    assert.throws(
      () =>
        resolvePolicyConfig(policies, {
          "latticeform-resilience-impact-tolerance": { maxRtoSeconds: "soon" },
          "latticeform-nope": {},
          all: "loud",
        }),
      (e: Error) =>
        /latticeform-nope: no such policy/.test(e.message) &&
        /all: invalid enforcement level \(got "loud"; allowed advisory, mandatory, remediate, disabled\)/.test(e.message) &&
        /latticeform-resilience-impact-tolerance.maxRtoSeconds: must be number/.test(e.message),
    );
  });

  for (const [name, c] of Object.entries(CASES)) {
    it(`${name}: passes the compliant fixture and reports the violating one exactly`, async () => {
      assert.deepEqual(await messages(name, c.good()), []);
      assert.deepEqual(await messages(name, c.bad()), c.expected);
    });
  }

  it("reads a value unknown before deploy as not checkable, never as a pass", async () => {
    const got = await messages("latticeform-nats-no-public-exposure", [res("kubernetes:core/v1:Service", { spec: UNKNOWN })]);
    assert.equal(got.length, 1);
    assert.match(got[0]!, /^NOT CHECKABLE: not checkable before deploy: string value at .spec can't be known during preview/);
  });

  it("judges what is known before deploy: a KMS key wired in passes though its ARN is computed", async () => {
    const wired = eks({ encryptionConfig: { provider: { keyArn: UNKNOWN }, resources: ["secrets"] } });
    assert.deepEqual(await messages("latticeform-aws-eks-secrets-encryption", [res("aws:eks/cluster:Cluster", wired)]), []);
  });

  it("honours the enforcement matrix on one violation: advisory and mandatory report, disabled does not", async () => {
    const bad = CASES["latticeform-wasm-artifact-digest"]!.bad();
    const p = policies.find((x) => x.name === "latticeform-wasm-artifact-digest")!;
    for (const level of ["advisory", "mandatory", "disabled"] as const) {
      const f = await runPolicies(bad, [p], resolvePolicyConfig([p], { [p.name]: { enforcementLevel: level } }));
      if (level === "disabled") assert.deepEqual(f, []);
      else
        assert.deepEqual(
          f.map((x) => [x.enforcement, x.status, x.blocking]),
          [
            [level, "violation", level === "mandatory"],
            [level, "violation", level === "mandatory"],
          ],
        );
    }
    const all = await runPolicies(bad, [p], resolvePolicyConfig([p], { all: "advisory" }));
    assert.equal(all[0]!.enforcement, "advisory");
  });

  it("notCheckable: fail makes an unknown value on a mandatory policy block the review, never on an advisory one", async () => {
    const p = policies.find((x) => x.name === "latticeform-nats-no-public-exposure")!;
    const unknown = [res("kubernetes:core/v1:Service", { spec: UNKNOWN })];
    const run = async (cfg: Any, defaults = {}) =>
      (await runPolicies(unknown, [p], resolvePolicyConfig([p], cfg, defaults))).map((f) => [f.status, f.blocking, !!f.checkableWhen]);
    assert.deepEqual(await run({}), [["not-checkable", false, true]]);
    assert.deepEqual(await run({ [p.name]: { notCheckable: "fail" } }), [["not-checkable", true, true]]);
    assert.deepEqual(await run({ all: { notCheckable: "fail" } }), [["not-checkable", true, true]]);
    assert.deepEqual(await run({}, { notCheckable: "fail" }), [["not-checkable", true, true]]);
    assert.deepEqual(await run({ [p.name]: { notCheckable: "report" } }, { notCheckable: "fail" }), [["not-checkable", false, true]]);
    assert.deepEqual(await run({ [p.name]: { enforcementLevel: "advisory", notCheckable: "fail" } }), [["not-checkable", false, true]]);
    assert.throws(
      () => resolvePolicyConfig([p], { [p.name]: { notCheckable: "sometimes" } }),
      /latticeform-nats-no-public-exposure.notCheckable: invalid value \(got "sometimes"; allowed report, fail\)/,
    );
  });

  it("policy settings change the verdict (allowed regions, impact tolerance)", async () => {
    const us = [lattice(mutate((s) => (s.clouds[0].region = "us-east-1")))];
    assert.deepEqual(
      await messages("latticeform-residency-allowed-regions", us, { allowedRegions: ["us-east-1", "europe-west3", "europe-west4"] }),
      [],
    );
    const slow = [lattice(mutate((s) => (s.workloads[0].objectives.rtoSeconds = 120)))];
    assert.deepEqual(await messages("latticeform-resilience-impact-tolerance", slow, { maxRtoSeconds: 300 }), []);
  });
});
