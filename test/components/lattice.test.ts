import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { ISSUED_AT } from "../../components/credentials";
import { buildCredentials } from "../../src/compile/credentials";
import { natsHelmValues, natsReleaseGroups } from "../../src/compile/helm";
import { kubernetesEnv } from "../../src/compile/k8senv";
import { KRUSTLET_TAINTS, WASM_ARCH } from "../../src/compile/kubernetes";
import { compileNats } from "../../src/compile/nats";
import { JETSTREAM_STORAGE_CLASS } from "../../src/compile/storage";
import { readStackConfig } from "../../src/model/load";
import type { LatticeInput, LatticeSpec } from "../../src/model/schema";
import { topologyOf } from "../../src/model/topology";
import { hostSidecarConf, hostSidecarText } from "../../src/compile/wasmhost";
import { isPrivateCidr } from "../../src/model/access";
import { parseLattice } from "../../src/model/validate";
import { schemaProblems } from "../compile/k8sSchema";
import * as aws from "@pulumi/aws";
import * as gcp from "@pulumi/gcp";
import { Lattice } from "../../components/lattice";
import { VOUCHED_KRUSTLET, withVouchedKrustlet } from "../fixtures/krustlet";
import { leaderKeeperScript } from "../../src/compile/keeperScript";
import { evaluateLattice, evaluateProgram, type Evaluation, type Recorded } from "./harness";

function stackInput(name: string): LatticeInput {
  return readStackConfig(`stacks/Pulumi.${name}.yaml`) as LatticeInput;
}

const COMPONENT_TYPES = new Set([
  "latticeform:index:Lattice",
  "latticeform:cloud:AwsSite",
  "latticeform:cloud:GcpSite",
  "latticeform:cloud:ExistingSite",
  "latticeform:nats:NatsExposure",
  "latticeform:nats:HubCluster",
  "latticeform:nats:TieBreakerSite",
  "latticeform:nats:JetStreamAssets",
  "latticeform:nats:LeaderKeeper",
  "latticeform:security:LatticeCredentials",
  "latticeform:wasm:WasmcloudOperator",
  "latticeform:wasm:WasmHostPool",
  "latticeform:wasm:KrustletPool",
  "latticeform:wasm:RuntimeClassPool",
  "latticeform:wasm:Workloads",
  "latticeform:wasm:OciArtifact",
]);

/** aws:* types that take no tags. */
const AWS_UNTAGGABLE = new Set([
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  "aws:iam/rolePolicy:RolePolicy",
  "aws:ec2/routeTableAssociation:RouteTableAssociation",
  "aws:secretsmanager/secretVersion:SecretVersion",
]);
/** gcp:* types that take labels, and the input holding them. */
const GCP_LABELS: Record<string, string> = {
  "gcp:compute/address:Address": "labels",
  "gcp:compute/disk:Disk": "labels",
  "gcp:compute/instance:Instance": "labels",
  "gcp:compute/instanceTemplate:InstanceTemplate": "labels",
  "gcp:container/cluster:Cluster": "resourceLabels",
  "gcp:secretmanager/secret:Secret": "labels",
};

function inputs(r: Recorded | undefined): Record<string, unknown> {
  assert.ok(r, "resource recorded");
  assert.ok(r.inputs, `${r.name} registered`);
  return r.inputs;
}

function one(ev: Evaluation, name: string): Recorded {
  const r = ev.byName.get(name);
  assert.ok(r, `no resource named ${name}`);
  return r;
}

function counts(ev: Evaluation): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of ev.resources) out[r.type] = (out[r.type] ?? 0) + 1;
  return out;
}

/** Addresses a site reserved for one NATS load balancer (`key`: hub or a stretched member's server name). */
function reserved(spec: LatticeSpec, ev: Evaluation, name: string, cloud: string, key: string): string[] {
  const c = spec.clouds.find((x) => x.name === cloud)!;
  if (c.provider === "aws") return c.zones.map((z) => String(one(ev, `${name}-${cloud}-site-lb-${key}-${z}`).state!.publicIp));
  return [String(one(ev, `${name}-${cloud}-site-lb-${key}`).state!.address)];
}

/** Expected Helm values, recomputed from the spec, the mocked master secret and the mocked reserved addresses. */
async function expectedValues(spec: LatticeSpec, ev: Evaluation, name: string) {
  const topo = topologyOf(spec);
  const master = createHash("sha256").update(`master:${name}-credentials-master`).digest();
  const creds = await buildCredentials(spec, topo, new Uint8Array(master), ISSUED_AT);
  const endpoints: Record<string, Record<string, string[]>> = {};
  for (const c of spec.clouds) {
    const a = reserved(spec, ev, name, c.name, "hub");
    endpoints[c.name] = { gateway: a, leafnode: a, client: a };
  }
  const serverHosts: Record<string, string> = {};
  for (const g of natsReleaseGroups(spec, topo).filter((x) => x.cluster !== x.cloud))
    for (const s of g.servers) serverHosts[s.name] = reserved(spec, ev, name, g.cloud, s.name)[0]!;
  for (const s of topo.servers.filter((x) => x.role === "tiebreaker"))
    serverHosts[s.name] = String(one(ev, `${name}-tiebreaker-${s.name}-ip`).state!.address);
  const env = kubernetesEnv(spec, { endpoints, serverHosts });
  const nats = compileNats(spec, topo, env, creds);
  return { topo, creds, nats, env };
}

describe("Pulumi components under mocks", () => {
  const evs: Record<string, { spec: LatticeSpec; ev: Evaluation }> = {};
  before(async () => {
    for (const name of ["small", "prod"]) {
      // prod with a vouched-for Krustlet pool per cloud, so the Krustlet path is evaluated too.
      const spec = parseLattice(name === "prod" ? withVouchedKrustlet(stackInput(name)) : stackInput(name));
      evs[name] = { spec, ev: await evaluateLattice(spec, {}, name) };
    }
  });

  for (const name of ["small", "prod"]) {
    it(`${name}: evaluates to a full resource graph`, (t) => {
      const { spec, ev } = evs[name]!;
      const c = counts(ev);
      t.diagnostic(
        `${name}: ${ev.resources.length} resources (${ev.resources.filter((r) => r.custom).length} custom, ${ev.resources.filter((r) => !r.custom).length} components)`,
      );
      t.diagnostic(JSON.stringify(c));
      for (const r of ev.resources) assert.ok(r.inputs, `${r.type} ${r.name} registered with the engine`);
      assert.equal(c["aws:eks/cluster:Cluster"], 1);
      assert.equal(c["gcp:container/cluster:Cluster"], 1);
      // Two hubs plus the stretched cluster's member release in each cloud.
      assert.equal(c["latticeform:nats:HubCluster"], 4);
      assert.equal(
        c["latticeform:wasm:WasmHostPool"],
        spec.clouds.reduce((n, x) => n + x.hostPools.length, 0),
      );
      assert.equal(c["latticeform:wasm:Workloads"], spec.clouds.length);
      assert.equal(c["gcp:compute/instance:Instance"], spec.tieBreaker!.servers);
      // Hosts, the leader keeper of each cloud, and in prod the two Krustlet pools' CSR approvers.
      assert.equal(c["kubernetes:apps/v1:Deployment"] ?? 0, topologyOf(spec).hosts.length + spec.clouds.length + (name === "prod" ? 2 : 0));
    });
  }

  it("the Lattice registers its validated spec as input; type tokens and child names follow the contract", () => {
    for (const { spec, ev } of Object.values(evs)) {
      const top = ev.resources[0]!;
      assert.equal(top.type, "latticeform:index:Lattice");
      assert.deepEqual(inputs(top).spec, JSON.parse(JSON.stringify(spec)));
      for (const r of ev.resources) {
        if (r.type.startsWith("latticeform:")) assert.ok(COMPONENT_TYPES.has(r.type), `unknown component type ${r.type}`);
        if (r.parent) {
          assert.ok(r.name.startsWith(`${r.parent}-`), `${r.name} is named after its parent ${r.parent}`);
          assert.ok(COMPONENT_TYPES.has(r.parentType!), `${r.name}'s parent is a component`);
        } else assert.equal(r, top);
      }
    }
  });

  it("providers: Kubernetes objects use their cloud's provider; no cloud provider of our own, every cloud resource names its region or project", () => {
    const { spec, ev } = evs.prod!;
    const regionOf = (name: string) =>
      name.startsWith("prod-tiebreaker-") ? spec.tieBreaker!.region : spec.clouds.find((c) => name.startsWith(`prod-${c.name}-`))?.region;
    assert.deepEqual(
      ev.resources.filter((r) => r.type === "pulumi:providers:aws" || r.type === "pulumi:providers:gcp").map((r) => r.name),
      [],
      "region-only providers would drop the stack's aws:assumeRole, profile and GCP credentials",
    );
    for (const r of ev.resources.filter((x) => x.custom && !x.type.startsWith("pulumi:providers:"))) {
      const cloud = ["aws", "gcp"].find((c) => r.name.startsWith(`prod-${c}-`));
      if (r.type.startsWith("kubernetes:")) {
        assert.ok(cloud, `${r.name}: a Kubernetes object outside a cloud`);
        assert.equal(r.provider, `prod-${cloud}-site-k8s`, r.name);
      } else if (r.type.startsWith("aws:") && !r.type.startsWith("aws:iam/")) {
        assert.equal(inputs(r).region, regionOf(r.name), `${r.name} names its region`);
      } else if (r.type.startsWith("gcp:") && !/secretVersion|IAMMember|kms\/cryptoKey:CryptoKey$/i.test(r.type)) {
        assert.equal(inputs(r).project, "mock-project", `${r.name} names its project`);
      }
    }
  });

  it("providers: the caller's providers (resource options) reach every cloud resource, assumed role and all", async () => {
    const spec = parseLattice(stackInput("prod"));
    const ev = await evaluateProgram("provs", (opts) => {
      const userAws = new aws.Provider("user-aws", {
        region: "eu-west-1",
        assumeRoles: [{ roleArn: "arn:aws:iam::111122223333:role/deployer" }],
      });
      const userGcp = new gcp.Provider("user-gcp", {
        project: "mock-project",
        impersonateServiceAccount: "deployer@mock-project.iam.gserviceaccount.com",
      });
      return new Lattice("prod", { spec, gcpProject: "mock-project" }, { ...opts, providers: [userAws, userGcp] });
    });
    const cloud = ev.resources.filter((r) => r.custom && (r.type.startsWith("aws:") || r.type.startsWith("gcp:")));
    assert.ok(cloud.length > 50);
    for (const r of cloud) {
      const want = r.type.startsWith("aws:") ? "::user-aws::" : "::user-gcp::";
      assert.ok(r.providerRef?.includes(want), `${r.type} ${r.name} is managed by ${String(r.providerRef)}`);
    }
  });

  it("AWS site: private EKS endpoint open to the declared private ranges, Secrets encrypted with its KMS key, nodes in private subnets, one NAT gateway per zone", () => {
    const { spec, ev } = evs.prod!;
    const eks = inputs(one(ev, "prod-aws-site-eks"));
    const vpc = eks.vpcConfig as { endpointPublicAccess: boolean; endpointPrivateAccess: boolean; subnetIds: string[] };
    assert.equal(vpc.endpointPublicAccess, false);
    assert.equal(vpc.endpointPrivateAccess, true);
    assert.deepEqual(vpc.subnetIds.sort(), ["eu-west-1a", "eu-west-1b", "eu-west-1c"].map((z) => `prod-aws-site-private-${z}-id`).sort());
    const key = one(ev, "prod-aws-site-secrets-key");
    assert.equal(key.type, "aws:kms/key:Key");
    assert.equal(inputs(key).enableKeyRotation, true);
    assert.deepEqual(eks.encryptionConfig, { provider: { keyArn: key.state!.arn }, resources: ["secrets"] });
    const sg = inputs(one(ev, "prod-aws-site-api-sg")).ingress as { cidrBlocks: string[] }[];
    assert.ok(!sg.some((r) => r.cidrBlocks.includes("0.0.0.0/0")), "API endpoint not open");
    for (const c of spec.access.api.cidrs)
      assert.ok(sg[0]!.cidrBlocks.includes(c), `the deployer's range ${c} reaches the private endpoint`);
    // Each zone's private subnet leaves through the NAT gateway in its own zone's public subnet.
    const zones = spec.clouds[0]!.zones;
    assert.equal(ev.ofType("aws:ec2/natGateway:NatGateway").filter((r) => r.name.startsWith("prod-aws-site-")).length, zones.length);
    for (const z of zones) {
      assert.equal(inputs(one(ev, `prod-aws-site-nat-${z}`)).subnetId, `prod-aws-site-public-${z}-id`);
      const rt = inputs(one(ev, `prod-aws-site-private-rt-${z}`)).routes as { natGatewayId: string }[];
      assert.deepEqual(rt[0]!.natGatewayId, `prod-aws-site-nat-${z}-id`);
      assert.equal(inputs(one(ev, `prod-aws-site-private-${z}-rt`)).routeTableId, `prod-aws-site-private-rt-${z}-id`);
    }
  });

  it("storage: an explicit encrypted StorageClass per cloud, named in every NATS release; EBS CSI with its own Pod Identity role", () => {
    const { ev } = evs.prod!;
    const key = one(ev, "prod-aws-site-secrets-key");
    const awsSc = inputs(one(ev, "prod-aws-site-jetstream-storage"));
    assert.equal(awsSc.provisioner, "ebs.csi.aws.com");
    assert.deepEqual(awsSc.parameters, { type: "gp3", encrypted: "true", "csi.storage.k8s.io/fstype": "ext4", kmsKeyId: key.state!.arn });
    assert.equal(awsSc.volumeBindingMode, "WaitForFirstConsumer");
    assert.equal(awsSc.reclaimPolicy, "Retain");
    const gcpSc = ev.ofType("kubernetes:storage.k8s.io/v1:StorageClass").find((r) => r.name.startsWith("prod-gcp-site-"));
    assert.equal(inputs(gcpSc).provisioner, "pd.csi.storage.gke.io");
    assert.deepEqual((inputs(one(ev, "prod-gcp-site-gke")).addonsConfig as Record<string, unknown>).gcePersistentDiskCsiDriverConfig, {
      enabled: true,
    });
    for (const r of ev.ofType("kubernetes:helm.sh/v3:Release").filter((x) => (inputs(x).chart as string) === "nats")) {
      const pvc = (inputs(r).values as { config: { jetstream: { fileStore: { pvc: { storageClassName?: string } } } } }).config.jetstream
        .fileStore.pvc;
      assert.equal(pvc.storageClassName, JETSTREAM_STORAGE_CLASS, r.name);
    }
    for (const sc of ev.ofType("kubernetes:storage.k8s.io/v1:StorageClass"))
      assert.equal((inputs(sc).metadata as { name: string }).name, JETSTREAM_STORAGE_CLASS);
    // The add-on's controller gets its own role through Pod Identity: the managed EBS CSI policy and the site's key.
    const addon = inputs(one(ev, "prod-aws-site-ebs-csi"));
    const role = one(ev, "prod-aws-site-ebs-csi-role");
    assert.deepEqual(addon.podIdentityAssociations, [{ roleArn: role.state!.arn, serviceAccount: "ebs-csi-controller-sa" }]);
    const trust = JSON.parse(inputs(role).assumeRolePolicy as string) as {
      Statement: { Principal: { Service: string }; Action: string[] }[];
    };
    assert.deepEqual(
      trust.Statement.map((x) => x.Principal.Service),
      ["pods.eks.amazonaws.com"],
    );
    assert.equal(
      inputs(one(ev, "prod-aws-site-ebs-csi-policy")).policyArn,
      "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy",
    );
    const kms = JSON.parse(inputs(one(ev, "prod-aws-site-ebs-csi-kms")).policy as string) as { Statement: { Resource: string }[] };
    assert.deepEqual([...new Set(kms.Statement.map((x) => x.Resource))], [key.state!.arn]);
    assert.equal(inputs(one(ev, "prod-aws-site-pod-identity")).addonName, "eks-pod-identity-agent");
    // The node role does not get EBS permissions instead.
    assert.ok(
      !ev
        .ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        .some((r) => r.name.startsWith("prod-aws-site-node-") && String(inputs(r).policyArn).includes("EBS")),
    );
  });

  it("a public API endpoint is limited to the declared public ranges on EKS and GKE", async () => {
    const spec = parseLattice({ ...stackInput("small"), access: { api: { endpoint: "public", cidrs: ["203.0.113.0/24"] } } });
    const ev = await evaluateLattice(spec, {}, "pub");
    const vpc = inputs(one(ev, "pub-aws-site-eks")).vpcConfig as { endpointPublicAccess: boolean; publicAccessCidrs: string[] };
    assert.equal(vpc.endpointPublicAccess, true);
    assert.deepEqual(vpc.publicAccessCidrs, ["203.0.113.0/24"]);
    const gke = inputs(one(ev, "pub-gcp-site-gke"));
    assert.equal((gke.privateClusterConfig as { enablePrivateEndpoint: boolean }).enablePrivateEndpoint, false);
    const nets = (gke.masterAuthorizedNetworksConfig as { cidrBlocks: { cidrBlock: string }[] }).cidrBlocks.map((b) => b.cidrBlock);
    assert.deepEqual(nets, ["10.30.0.0/20", "203.0.113.0/24"]);
  });

  it("GCP site: APIs enabled first, private GKE cluster with private-only authorized networks, Secrets under a customer-managed key the GKE service agent may use", () => {
    const { spec, ev } = evs.prod!;
    const apis = ev.ofType("gcp:projects/service:Service").filter((r) => r.parent === "prod-gcp-site");
    assert.deepEqual(
      apis.map((r) => inputs(r).service).sort(),
      ["cloudkms", "cloudresourcemanager", "compute", "container", "iam", "secretmanager"].map((x) => `${x}.googleapis.com`),
    );
    for (const a of apis) assert.equal(inputs(a).disableOnDestroy, false);
    const gke = inputs(one(ev, "prod-gcp-site-gke"));
    assert.equal((gke.privateClusterConfig as { enablePrivateNodes: boolean }).enablePrivateNodes, true);
    assert.equal((gke.privateClusterConfig as { enablePrivateEndpoint: boolean }).enablePrivateEndpoint, true);
    const nets = (gke.masterAuthorizedNetworksConfig as { cidrBlocks: { cidrBlock: string }[] }).cidrBlocks.map((b) => b.cidrBlock);
    for (const n of nets) assert.ok(isPrivateCidr(n), `${n}: GKE accepts only private ranges with a private endpoint`);
    assert.deepEqual(nets, ["10.30.0.0/20", ...spec.access.api.cidrs]);
    assert.deepEqual(gke.databaseEncryption, { state: "ENCRYPTED", keyName: "prod-gcp-site-secrets-key-id" });
    const grant = inputs(one(ev, "prod-gcp-site-secrets-key-gke"));
    assert.equal(grant.cryptoKeyId, "prod-gcp-site-secrets-key-id");
    assert.equal(grant.role, "roles/cloudkms.cryptoKeyEncrypterDecrypter");
    assert.match(String(grant.member), /^serviceAccount:service-[0-9]+@container-engine-robot\.iam\.gserviceaccount\.com$/);
    assert.deepEqual(gke.workloadIdentityConfig, { workloadPool: "mock-project.svc.id.goog" });
    assert.equal(gke.enableShieldedNodes, true);
    const pool = inputs(one(ev, "prod-gcp-site-system-nodes")).nodeConfig as {
      shieldedInstanceConfig: { enableSecureBoot: boolean };
      workloadMetadataConfig: { mode: string };
    };
    assert.equal(pool.shieldedInstanceConfig.enableSecureBoot, true);
    assert.equal(pool.workloadMetadataConfig.mode, "GKE_METADATA");
  });

  it("machines and clusters wait for what they read at boot: VM and Krustlet groups for their secrets and IAM grants, GKE for its APIs and KMS grant", () => {
    const { ev } = evs.prod!;
    const vm = one(ev, "prod-tiebreaker-tb-1-vm");
    const readers = ev
      .ofType("gcp:secretmanager/secretIamMember:SecretIamMember")
      .filter((r) => r.parent === "prod-tiebreaker")
      .map((r) => r.name);
    assert.equal(readers.length, 4);
    for (const r of readers) assert.ok(vm.dependsOn.includes(r), `${vm.name} waits for ${r}`);
    for (const v of ev.ofType("gcp:secretmanager/secretVersion:SecretVersion").filter((r) => r.parent === "prod-tiebreaker"))
      assert.ok(vm.dependsOn.includes(v.name), `${vm.name} waits for ${v.name}`);
    assert.ok(one(ev, "prod-gcp-krustlet-group").dependsOn.includes("prod-gcp-krustlet-bootstrap-reader"));
    assert.ok(one(ev, "prod-aws-krustlet-asg").dependsOn.includes("prod-aws-krustlet-read-bootstrap"));
    const gke = one(ev, "prod-gcp-site-gke");
    assert.ok(gke.dependsOn.includes("prod-gcp-site-secrets-key-gke"), "GKE waits for the service agent's KMS grant");
    assert.ok(gke.dependsOn.includes("prod-gcp-site-api-container"), "GKE waits for the container API");
    assert.ok(one(ev, "prod-gcp-site-network").dependsOn.includes("prod-gcp-site-api-compute"));
  });

  it("tie-breaker secrets stay in the site's region (user-managed replication)", () => {
    const { spec, ev } = evs.prod!;
    const secrets = ev.ofType("gcp:secretmanager/secret:Secret");
    assert.ok(secrets.length > 0);
    for (const sec of secrets) {
      const loc = (inputs(sec).replication as { userManaged?: { replicas: { location: string }[] } }).userManaged?.replicas.map(
        (r) => r.location,
      );
      assert.ok(loc && loc.length > 0, `${sec.name}: user-managed replication`);
      for (const l of loc) assert.ok(l.startsWith("europe-"), `${sec.name} replicated to ${l}`);
    }
    const tbSecrets = secrets.filter((r) => r.parent === "prod-tiebreaker");
    assert.equal(tbSecrets.length, 4, "config, certificate, key and CA");
    for (const sec of tbSecrets)
      assert.deepEqual((inputs(sec).replication as { userManaged: { replicas: unknown[] } }).userManaged.replicas, [
        { location: spec.tieBreaker!.region },
      ]);
  });

  it("every taggable cloud resource carries the spec's tags (owner, data-classification)", () => {
    const { spec, ev } = evs.prod!;
    for (const r of ev.resources.filter((x) => x.custom)) {
      if (r.type.startsWith("aws:") && !AWS_UNTAGGABLE.has(r.type)) {
        const tags = inputs(r).tags as Record<string, string> | { key: string; value: string }[] | undefined;
        const map = Array.isArray(tags) ? Object.fromEntries(tags.map((t) => [t.key, t.value])) : tags;
        assert.equal(map?.owner, spec.tags.owner, `${r.type} ${r.name} tags`);
        assert.equal(map?.["data-classification"], spec.tags["data-classification"], `${r.type} ${r.name} tags`);
      }
      const key = GCP_LABELS[r.type];
      if (key) {
        const labels = inputs(r)[key] as Record<string, string> | undefined;
        assert.equal(labels?.owner, spec.tags.owner, `${r.type} ${r.name} labels`);
        assert.equal(labels?.["data-classification"], spec.tags["data-classification"], `${r.type} ${r.name} labels`);
      }
    }
  });

  for (const name of ["small", "prod"]) {
    it(`${name}: the NATS chart values equal the compiler's output for the deployed addresses`, async () => {
      const { spec, ev } = evs[name]!;
      const { topo, nats } = await expectedValues(spec, ev, name);
      const releases = ev.ofType("kubernetes:helm.sh/v3:Release").filter((r) => inputs(r).chart === "nats");
      const groups = natsReleaseGroups(spec, topo);
      assert.equal(releases.length, groups.length);
      for (const g of groups) {
        const role = g.cluster === g.cloud ? "hub" : g.cluster;
        const r = one(ev, `${name}-${g.cloud}-${role}-release`);
        assert.equal(inputs(r).name, g.release);
        assert.equal(inputs(r).namespace, "nats");
        assert.deepEqual((inputs(r).repositoryOpts as { repo: string }).repo, "https://nats-io.github.io/k8s/helm/charts/");
        assert.deepEqual(
          inputs(r).values,
          JSON.parse(JSON.stringify(natsHelmValues(spec, g, nats.servers, { storageClassName: JETSTREAM_STORAGE_CLASS }))),
          `${g.release}@${g.cloud}`,
        );
        assert.ok(!r.secretInputs.includes("values"), "values are readable by policies");
      }
    });
  }

  it("two clouds: two hub releases joined by gateways through each other's reserved addresses, advertising their own; TLS on every port", () => {
    const { spec, ev } = evs.small!;
    for (const [cloud, other] of [
      ["aws", "gcp"],
      ["gcp", "aws"],
    ] as const) {
      const cfg = inputs(one(ev, `small-${cloud}-hub-release`)).values as {
        config: Record<string, { merge: Record<string, unknown>; tls?: { enabled: boolean } }>;
      };
      const gws = cfg.config.gateway!.merge.gateways as { name: string; urls: string[] }[];
      assert.deepEqual(
        gws.find((g) => g.name === other)!.urls,
        reserved(spec, ev, "small", other, "hub").map((a) => `tls://${a}:7222`),
      );
      assert.equal(cfg.config.gateway!.merge.advertise, "<< $LF_GATEWAY_ADVERTISE >>");
      const idFiles = inputs(one(ev, `small-${cloud}-hub-identity`)).data as Record<string, string>;
      for (const text of Object.values(idFiles))
        assert.ok(text.includes(`LF_GATEWAY_ADVERTISE: "${reserved(spec, ev, "small", cloud, "hub")[0]}:7222"`), text);
      assert.equal(cfg.config.nats!.tls!.enabled, true);
      for (const b of ["cluster", "gateway", "leafnodes"])
        assert.equal((cfg.config[b]!.merge.tls as { verify: boolean }).verify, true, `${cloud} ${b}`);
    }
  });

  it("load balancers admit the other sites' egress, the cloud's own node and pod ranges and access.natsCidrs only; bound to reserved addresses; not waiting for readiness", async () => {
    const { spec, ev } = evs.small!;
    const natIps = spec.clouds[0]!.zones.map((z) => (one(ev, `small-aws-site-nat-ip-${z}`).state!.publicIp as string) + "/32");
    const gcpNat = (one(ev, "small-gcp-site-nat-ip").state!.address as string) + "/32";
    const tbIp = (one(ev, "small-tiebreaker-tb-1-ip").state!.address as string) + "/32";
    const own: Record<string, string[]> = { aws: ["10.20.0.0/16"], gcp: ["10.30.0.0/20", "10.32.0.0/14"] };
    for (const svc of ev.ofType("kubernetes:core/v1:Service")) {
      const s = inputs(svc).spec as {
        type: string;
        loadBalancerSourceRanges: string[];
        publishNotReadyAddresses: boolean;
        loadBalancerIP?: string;
      };
      const cloud = svc.name.startsWith("small-aws-") ? "aws" : "gcp";
      assert.equal(s.type, "LoadBalancer");
      assert.equal(s.publishNotReadyAddresses, true);
      assert.deepEqual(
        [...s.loadBalancerSourceRanges].sort(),
        [...natIps, gcpNat, tbIp, ...spec.access.natsCidrs, ...own[cloud]!].sort(),
        svc.name,
      );
      const ann = (inputs(svc).metadata as { annotations: Record<string, string> }).annotations;
      if (cloud === "aws")
        assert.equal(ann["service.beta.kubernetes.io/aws-load-balancer-eip-allocations"]!.split(",").length, 3, svc.name);
      else assert.match(String(s.loadBalancerIP), /^34\.1\./, svc.name);
    }
    const fw = inputs(one(ev, "small-tiebreaker-nats-fw")).sourceRanges as string[];
    assert.deepEqual([...fw].sort(), [...natIps, gcpNat, ...spec.access.natsCidrs].sort());
  });

  it("inside a cloud, paths stay in the cluster; every host sidecar (direct pools too) gets the servers' endpoints; certificates cover every name and address dialled", async () => {
    const { spec, ev } = evs.prod!;
    const { nats, env, creds, topo } = await expectedValues(spec, ev, "prod");
    const dialled = new Set<string>();
    const hostOf = (u: string) => new URL(u.replace(/^[a-z-]+:/, "http:")).hostname;
    for (const h of topo.hosts) {
      const other = h.cloud === "aws" ? "gcp" : "aws";
      const urls = (hostSidecarConf(spec, topo, env, creds, h) as { leafnodes: { remotes: { urls: string[] }[] } }).leafnodes.remotes[0]!
        .urls;
      assert.deepEqual(urls, [
        `tls://nats-${h.cloud}-headless.nats.svc.cluster.local:7422`,
        ...reserved(spec, ev, "prod", other, "hub").map((a) => `tls://${a}:7422`),
      ]);
      // What the component deployed is that config.
      const secretRes = ev.resources.find((r) => r.type === "kubernetes:core/v1:Secret" && r.name.endsWith(`-${h.name}-leaf`))!;
      assert.equal(
        (inputs(secretRes).stringData as Record<string, string>)["leaf.conf"],
        hostSidecarText(spec, topo, env, creds, h),
        h.name,
      );
      for (const u of urls) dialled.add(hostOf(u));
    }
    for (const s of [...nats.servers, ...nats.leafs]) {
      const conf = s.conf as {
        cluster?: { routes: string[] };
        gateway?: { gateways: { urls: string[] }[] };
        leafnodes?: { remotes?: { urls: string[] }[] };
      };
      for (const u of [
        ...(conf.cluster?.routes ?? []),
        ...(conf.gateway?.gateways.flatMap((g) => g.urls) ?? []),
        ...(conf.leafnodes?.remotes?.flatMap((r) => r.urls) ?? []),
      ])
        dialled.add(hostOf(u));
      // No placeholder name survives in what the clouds deploy.
      assert.ok(!s.text.includes("nats.internal"), `${s.name} dials a placeholder name`);
    }
    // Every certificate a NATS server presents: release groups and tie-breaker servers.
    const sans: { dns: string[]; ips: string[] }[] = ev
      .ofType("tls:index/certRequest:CertRequest")
      .filter((r) => /-credentials-(nats-|tb-)/.test(r.name))
      .map((r) => ({ dns: inputs(r).dnsNames as string[], ips: (inputs(r).ipAddresses as string[]) ?? [] }));
    const covered = (h: string) =>
      sans.some(
        (c) =>
          c.ips.includes(h) ||
          c.dns.some((n) => n === h || (n.startsWith("*.") && h.endsWith(n.slice(1)) && !h.slice(0, -n.length + 1).includes("."))),
      );
    for (const h of dialled) assert.ok(covered(h), `no server certificate covers ${h}`);
    assert.ok(dialled.has("nats-aws-headless.nats.svc.cluster.local"), "leafs and gateways at home use the headless Service");
  });

  it("Krustlet pools: launch template + Auto Scaling group on EKS, instance template + group on GKE; nodes carry the wasm32-wasi taint", () => {
    const { ev } = evs.prod!;
    const lt = inputs(one(ev, "prod-aws-krustlet-lt"));
    const script = Buffer.from(String(lt.userData), "base64").toString("utf8");
    assert.equal(spawnSync("bash", ["-n"], { input: script }).status, 0, "user data parses");
    for (const t of KRUSTLET_TAINTS) assert.ok(script.includes(`${t.key}=${t.value}:${t.effect}`));
    assert.deepEqual(lt.metadataOptions, { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 });
    const asg = inputs(one(ev, "prod-aws-krustlet-asg"));
    const tags = Object.fromEntries((asg.tags as { key: string; value: string }[]).map((t) => [t.key, t.value]));
    assert.equal(tags[`k8s.io/cluster-autoscaler/node-template/label/${WASM_ARCH.key}`], WASM_ARCH.value);
    assert.equal(tags[`k8s.io/cluster-autoscaler/node-template/taint/${WASM_ARCH.key}`], `${WASM_ARCH.value}:NoSchedule`);
    assert.equal(asg.desiredCapacity, 1);
    assert.deepEqual((asg.launchTemplate as { id: string }).id, "prod-aws-krustlet-lt-id");
    const tpl = inputs(one(ev, "prod-gcp-krustlet-template"));
    assert.ok(String(tpl.metadataStartupScript).includes(`${WASM_ARCH.key}=${WASM_ARCH.value}`));
    assert.equal(inputs(one(ev, "prod-gcp-krustlet-group")).targetSize, 1);
    // The GKE bootstrap token is a secret.
    assert.ok(one(ev, "prod-gcp-krustlet-bootstrap-token").secretInputs.includes("stringData"));
  });

  it("the leader keeper runs in every cloud: the compiled script in nats-box, the client and sys creds as a Secret", () => {
    for (const { spec, ev } of Object.values(evs)) {
      const n = spec.name === "payments" ? "prod" : "small";
      const script = leaderKeeperScript(spec, topologyOf(spec));
      assert.ok(script);
      for (const c of spec.clouds) {
        const k = `${n}-${c.name}-leaders`;
        assert.equal(one(ev, k).type, "latticeform:nats:LeaderKeeper");
        const cm = one(ev, `${k}-configmap-nats-latticeform-leader-keeper`);
        assert.equal(cm.parent, k);
        assert.equal((inputs(cm).data as Record<string, string>)["keeper.sh"], script);
        const dep = inputs(one(ev, `${k}-deployment-nats-latticeform-leader-keeper`));
        const pod = (dep.spec as { template: { spec: { containers: { image: string; env: { name: string; value: string }[] }[] } } })
          .template.spec;
        assert.equal(pod.containers[0]!.image, "natsio/nats-box:0.19.7");
        const env = Object.fromEntries(pod.containers[0]!.env.map((e) => [e.name, e.value]));
        assert.match(env.KEEPER_SERVERS!, /^tls:\/\/.+\.nats\.svc\.cluster\.local:\d+$/);
        const creds = one(ev, `${k}-creds`);
        assert.ok(creds.secretInputs.includes("stringData"), "the creds Secret is a secret");
        assert.equal(creds.provider, `${n}-${c.name}-site-k8s`);
      }
    }
  });

  it("Krustlet serving CSRs: a pinned kubelet-csr-approver per pool, scoped to the pool's node names and subnets", () => {
    const { ev } = evs.prod!;
    const want = {
      aws: { subnets: ["10.20.0.0/20", "10.20.16.0/20", "10.20.32.0/20"], node: "ip-10-20-17-4.eu-west-1.compute.internal" },
      gcp: { subnets: ["10.30.0.0/20"], node: "payments-krustlet-x7k2.europe-west3-b.c.mock-project.internal" },
    };
    for (const [cloud, w] of Object.entries(want)) {
      const rel = one(ev, `prod-${cloud}-krustlet-csr-approver`);
      assert.equal(rel.type, "kubernetes:helm.sh/v3:Release");
      assert.equal(rel.parent, `prod-${cloud}-krustlet`);
      assert.equal(rel.provider, `prod-${cloud}-site-k8s`);
      const i = inputs(rel);
      assert.deepEqual([i.chart, i.version, i.namespace], ["kubelet-csr-approver", "1.2.9", "kube-system"]);
      assert.deepEqual(i.repositoryOpts, { repo: "https://postfinance.github.io/kubelet-csr-approver" });
      const v = i.values as { providerRegex: string; providerIpPrefixes: string[]; skipDenyStep: boolean; image: { tag: string } };
      // The chart's default prefixes are 0.0.0.0/0; here only the pool's subnets.
      assert.deepEqual(v.providerIpPrefixes, w.subnets);
      assert.ok(new RegExp(v.providerRegex).test(w.node), `${v.providerRegex} does not match ${w.node}`);
      assert.equal(new RegExp(v.providerRegex).test(`evil.example.com`), false);
      assert.equal(v.skipDenyStep, true);
      assert.equal(v.image.tag, "v1.2.9");
    }
  });

  it("runtime-class pools: tainted node groups and a RuntimeClass that tolerates the taint", () => {
    const { ev } = evs.prod!;
    const ng = inputs(one(ev, "prod-aws-wasmedge-nodes"));
    assert.deepEqual(ng.taints, [{ key: "latticeform.io/wasm-runtime", value: "wasmedge", effect: "NO_SCHEDULE" }]);
    const np = inputs(one(ev, "prod-gcp-wasmedge-nodes")).nodeConfig as { taints: unknown[]; imageType: string };
    assert.deepEqual(np.taints, [{ key: "latticeform.io/wasm-runtime", value: "wasmedge", effect: "NO_SCHEDULE" }]);
    for (const cloud of ["aws", "gcp"]) {
      const rc = inputs(one(ev, `prod-${cloud}-wasmedge-runtimeclass-wasmedge`));
      assert.equal(rc.handler, "wasmedge");
      assert.deepEqual((rc.scheduling as { nodeSelector: Record<string, string> }).nodeSelector, {
        "latticeform.io/wasm-runtime": "wasmedge",
      });
    }
  });

  it("active-passive: the standby cloud keeps its warm instances", async () => {
    const input = stackInput("small");
    const spec = parseLattice({
      ...input,
      workloads: input.workloads!.map((w) =>
        w.name === "ledger"
          ? { ...w, instances: { aws: 3, gcp: 3 }, failover: { mode: "active-passive" as const, primary: "aws", warmStandby: 2 } }
          : w,
      ),
    });
    const ev = await evaluateLattice(spec, {}, "ap");
    const replicas = (cloud: string) => (inputs(one(ev, `ap-${cloud}-workloads-ledger`)).spec as { replicas: number }).replicas;
    assert.equal(replicas("aws"), 3);
    assert.equal(replicas("gcp"), 2);
    assert.equal(one(ev, "ap-gcp-workloads-ledger").type, "kubernetes:runtime.wasmcloud.dev/v1alpha1:WorkloadDeployment");
    assert.deepEqual(inputs(one(ev, "ap-gcp-workloads")).instances, { validator: 1, ledger: 2 });
  });

  it("key material is secret: Secrets, secret-store versions, kubeconfigs, credentials; none in Helm values", async () => {
    const { ev } = evs.prod!;
    for (const s of ev.ofType("kubernetes:core/v1:Secret")) assert.ok(s.secretInputs.includes("stringData"), `${s.name} stringData secret`);
    for (const s of ev.ofType("gcp:secretmanager/secretVersion:SecretVersion")) assert.ok(s.secretInputs.includes("secretData"), s.name);
    for (const s of ev.ofType("aws:secretsmanager/secretVersion:SecretVersion")) assert.ok(s.secretInputs.includes("secretString"), s.name);
    for (const [cloud, e] of Object.entries(ev.lattice.clouds))
      assert.equal(await pulumi.isSecret(e.kubeconfig), true, `${cloud} kubeconfig`);
    assert.equal(await pulumi.isSecret(ev.lattice.compiled), true);
    const jwtOrKey = /eyJ0eXAiOiJKV1Qi|-----BEGIN [A-Z ]*PRIVATE KEY|SUA[A-Z2-7]{50}/;
    let checked = 0;
    for (const r of ev.resources) {
      const plain = Object.fromEntries(Object.entries(inputs(r)).filter(([k]) => !r.secretInputs.includes(k)));
      assert.ok(!jwtOrKey.test(JSON.stringify(plain)), `${r.type} ${r.name} holds key material in plain inputs`);
      checked++;
    }
    assert.ok(checked > 100);
  });

  it("stable credentials: a second evaluation issues byte-identical auth includes and creds", async () => {
    const { spec, ev } = evs.small!;
    const again = await evaluateLattice(spec, {}, "small");
    for (const s of ev.ofType("kubernetes:core/v1:Secret").filter((x) => !x.name.endsWith("-tls"))) {
      assert.deepEqual(inputs(again.byName.get(s.name)).stringData, inputs(s).stringData, s.name);
    }
  });

  it("every Kubernetes object the components create passes its schema", async () => {
    for (const { ev } of Object.values(evs)) {
      const problems: string[] = [];
      for (const r of ev.resources.filter((x) => x.type.startsWith("kubernetes:") && x.custom && !x.type.includes("helm.sh"))) {
        problems.push(...(await schemaProblems(inputs(r) as { apiVersion: string; kind: string })));
      }
      assert.deepEqual(problems, []);
    }
  });

  it("an existing cluster replaces the GKE site; Krustlet pools there are refused with a clear message; GCP without a project is refused", async () => {
    const input = stackInput("small");
    const spec = parseLattice({
      ...input,
      clouds: input.clouds.map((c) => (c.name === "gcp" ? { ...c, existingKubeconfig: "kube/gcp.yaml" } : c)),
    });
    const ev = await evaluateLattice(
      spec,
      { kubeconfigs: { gcp: "apiVersion: v1\nkind: Config\n" }, existingEgressCidrs: { gcp: ["35.9.9.9/32"] } },
      "ex",
    );
    assert.equal(one(ev, "ex-gcp-site").type, "latticeform:cloud:ExistingSite");
    assert.equal(ev.ofType("gcp:container/cluster:Cluster").length, 0);
    const lb = inputs(one(ev, "ex-aws-lb-service-nats-nats-aws-external")).spec as { loadBalancerSourceRanges: string[] };
    assert.ok(lb.loadBalancerSourceRanges.includes("35.9.9.9/32"));
    const withKrustlet = parseLattice({
      ...input,
      clouds: input.clouds.map((c) =>
        c.name === "gcp"
          ? {
              ...c,
              existingKubeconfig: "kube/gcp.yaml",
              nodePools: [{ name: "k", kind: "krustlet" as const, krustletBuild: { ...VOUCHED_KRUSTLET } }],
            }
          : c,
      ),
    });
    await assert.rejects(
      evaluateLattice(withKrustlet, { kubeconfigs: { gcp: "x" }, existingEgressCidrs: { gcp: ["35.9.9.9/32"] } }, "ex2"),
      /Krustlet pools need a cluster latticeform creates/,
    );
    await assert.rejects(evaluateLattice(parseLattice(input), { gcpProject: undefined }, "np"), /no gcpProject/);
  });
});
