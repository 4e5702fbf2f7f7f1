/**
 * `KrustletPool`: Krustlet (wasm32-wasi kubelet) nodes of one cloud. On EKS a self-managed node group (launch
 * template + Auto Scaling group, nodes admitted by an EKS access entry for their role); on GKE a regional
 * managed instance group (nodes admitted with a bootstrap token). The boot script installs and bootstraps
 * Krustlet; nodes carry `kubernetes.io/arch=wasm32-wasi` as label and (NoExecute, NoSchedule) taints so only
 * Wasm pods land there. Krustlet is unmaintained upstream and its last release cannot join Kubernetes >= 1.22
 * (v1beta1 CSRs): validation admits a pool only with a `krustletBuild` the stack's owner vouches for;
 * `RuntimeClassPool` is the maintained path.
 */
import * as aws from "@pulumi/aws";
import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { krustletBootScript, krustletBootstrapSecretId, krustletNodeLabels } from "../src/compile/boot";
import { awsNodeNameRegex, csrApproverValues, gcpNodeNameRegex, KUBELET_CSR_APPROVER_CHART } from "../src/compile/csrApprover";
import { eksKubeconfig, KRUSTLET_TAINTS } from "../src/compile/kubernetes";
import type { Cloud, LatticeSpec, NodePool } from "../src/model/schema";
import type { AwsSite } from "./awsSite";
import { assumeRole, awsTags, gcpLabels } from "./common";
import type { GcpSite } from "./gcpSite";

export interface KrustletPoolArgs {
  /** The validated spec. */
  readonly spec: LatticeSpec;
  /** Cloud of the pool. */
  readonly cloud: string;
  /** The node pool (kind `krustlet`). */
  readonly pool: NodePool;
  /** The cloud's site: the pool joins its cluster. */
  readonly site: { readonly kind: "aws"; readonly site: AwsSite } | { readonly kind: "gcp"; readonly site: GcpSite };
  /** Kubernetes provider of the cloud's cluster (GKE bootstrap token). */
  readonly provider: k8s.Provider;
}

export class KrustletPool extends pulumi.ComponentResource {
  /** The pool's boot script (no secrets in it). */
  public readonly bootScript: string;
  /** Labels and taints the pool's nodes carry. */
  public readonly nodeLabels: Record<string, string>;
  public readonly nodeTaints: string[];
  /** The node group (Auto Scaling group or instance group manager): what Krustlet workloads wait for. */
  public readonly ready: pulumi.Resource;

  constructor(name: string, args: KrustletPoolArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("latticeform:wasm:KrustletPool", name, { cloud: args.cloud, pool: args.pool.name, nodes: args.pool.nodes }, opts);
    const { spec, pool } = args;
    if (pool.kind !== "krustlet") throw new Error(`KrustletPool ${name}: node pool ${pool.name} has kind ${pool.kind}, expected krustlet`);
    const cloud = spec.clouds.find((c) => c.name === args.cloud)!;
    const secretId = krustletBootstrapSecretId(spec, args.cloud, pool.name);
    this.bootScript = krustletBootScript(spec, { cloud: args.cloud, pool, bootstrapSecret: secretId });
    this.nodeLabels = krustletNodeLabels(spec, args.cloud, pool.name);
    this.nodeTaints = KRUSTLET_TAINTS.map((t) => `${t.key}=${t.value}:${t.effect}`);
    this.ready =
      args.site.kind === "aws"
        ? this.awsNodes(name, args, args.site.site, cloud, secretId)
        : this.gcpNodes(name, args, args.site.site, cloud, secretId);
    this.servingCertApprover(name, args, cloud);
    this.registerOutputs({ nodeLabels: this.nodeLabels, nodeTaints: this.nodeTaints });
  }

  /**
   * Krustlet's serving CSR (`<hostname>-tls`, signer kubernetes.io/kubelet-serving) is approved by
   * kubelet-csr-approver scoped to this pool: its node names and its subnets (see `src/compile/csrApprover.ts`).
   */
  private servingCertApprover(name: string, args: KrustletPoolArgs, cloud: Cloud): k8s.helm.v3.Release {
    const { spec, pool } = args;
    const site = args.site;
    const values =
      site.kind === "aws"
        ? csrApproverValues({ nodeNameRegex: awsNodeNameRegex(cloud.region), ipPrefixes: site.site.privateSubnetCidrs })
        : site.site.project.apply((project) =>
            csrApproverValues({
              nodeNameRegex: gcpNodeNameRegex(gcpBaseInstanceName(spec, pool), cloud.zones, project),
              ipPrefixes: [site.site.nodeCidr],
            }),
          );
    return new k8s.helm.v3.Release(
      `${name}-csr-approver`,
      {
        name: `${spec.name}-${pool.name}-csr-approver`.slice(0, 53),
        chart: KUBELET_CSR_APPROVER_CHART.chart,
        version: KUBELET_CSR_APPROVER_CHART.version,
        repositoryOpts: { repo: KUBELET_CSR_APPROVER_CHART.repo },
        namespace: "kube-system",
        values,
        atomic: true,
      },
      { parent: this, provider: args.provider },
    );
  }

  /** EKS: a self-managed node group (launch template + Auto Scaling group) admitted by an access entry for its role. */
  private awsNodes(name: string, args: KrustletPoolArgs, site: AwsSite, cloud: Cloud, secretId: string): pulumi.Resource {
    const { spec, pool } = args;
    const base = { parent: this };
    const tags = (role: string) => awsTags(spec.tags, spec.name, role);
    // The caller's aws provider (inherited), with the region named on each resource.
    const o = base;
    const region = cloud.region;
    const role = new aws.iam.Role(
      `${name}-role`,
      {
        assumeRolePolicy: assumeRole("ec2.amazonaws.com"),
        tags: tags("krustlet-role"),
      },
      o,
    );
    const bootstrap = new aws.secretsmanager.Secret(
      `${name}-bootstrap`,
      { region, name: secretId, recoveryWindowInDays: 7, tags: tags("krustlet-bootstrap") },
      o,
    );
    const bootstrapVersion = new aws.secretsmanager.SecretVersion(
      `${name}-bootstrap-v`,
      {
        region,
        secretId: bootstrap.id,
        secretString: pulumi.secret(
          pulumi
            .all([site.clusterName, site.endpoint, site.certificateAuthority])
            .apply(([n, e, ca]) => eksKubeconfig(n, e, ca, cloud.region)),
        ),
      },
      o,
    );
    // The node reads its bootstrap kubeconfig and nothing else.
    const readBootstrap = new aws.iam.RolePolicy(
      `${name}-read-bootstrap`,
      {
        role: role.name,
        policy: bootstrap.arn.apply((arn) =>
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: arn }],
          }),
        ),
      },
      o,
    );
    const profile = new aws.iam.InstanceProfile(`${name}-profile`, { role: role.name, tags: tags("krustlet-profile") }, o);
    new aws.eks.AccessEntry(
      `${name}-access`,
      { region, clusterName: site.clusterName, principalArn: role.arn, type: "EC2_LINUX", tags: tags("krustlet-access") },
      o,
    );
    const lt = new aws.ec2.LaunchTemplate(
      `${name}-lt`,
      {
        region,
        namePrefix: `${spec.name}-${args.cloud}-${pool.name}-`,
        imageId: "resolve:ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id",
        instanceType: pool.machineType ?? "t3.medium",
        userData: Buffer.from(this.bootScript).toString("base64"),
        iamInstanceProfile: { arn: profile.arn },
        vpcSecurityGroupIds: [site.clusterSecurityGroupId],
        metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
        blockDeviceMappings: [{ deviceName: "/dev/sda1", ebs: { volumeSize: 30, volumeType: "gp3", encrypted: "true" } }],
        tagSpecifications: ["instance", "volume"].map((resourceType) => ({ resourceType, tags: tags("krustlet-node") })),
        tags: tags("krustlet-lt"),
      },
      o,
    );
    const asgTags: Record<string, string> = {
      ...tags("krustlet-node"),
      Name: `${spec.name}-${args.cloud}-${pool.name}`,
      [`kubernetes.io/cluster/${spec.name}-${args.cloud}`]: "owned",
    };
    for (const [k, v] of Object.entries(this.nodeLabels)) asgTags[`k8s.io/cluster-autoscaler/node-template/label/${k}`] = v;
    for (const t of KRUSTLET_TAINTS) asgTags[`k8s.io/cluster-autoscaler/node-template/taint/${t.key}`] = `${t.value}:${t.effect}`;
    return new aws.autoscaling.Group(
      `${name}-asg`,
      {
        region,
        vpcZoneIdentifiers: site.privateSubnetIds,
        desiredCapacity: pool.nodes,
        minSize: pool.nodes,
        maxSize: pool.nodes * 2,
        launchTemplate: { id: lt.id, version: lt.latestVersion.apply(String) },
        healthCheckType: "EC2",
        tags: Object.entries(asgTags).map(([key, value]) => ({ key, value, propagateAtLaunch: true })),
      },
      // Nodes read the bootstrap secret at boot: they start once it exists and they may read it.
      { ...o, dependsOn: [bootstrapVersion, readBootstrap] },
    );
  }

  /** GKE: a regional managed instance group whose nodes bootstrap as kubelets with a bootstrap token. */
  private gcpNodes(name: string, args: KrustletPoolArgs, site: GcpSite, cloud: Cloud, secretId: string): pulumi.Resource {
    const { spec, pool } = args;
    const base = { parent: this };
    const labels = (role: string) => gcpLabels(spec.tags, spec.name, role);
    // The caller's gcp provider (inherited), with project and region named on each resource.
    const o = base;
    const project = site.project;
    const k = { ...base, provider: args.provider };
    // TLS bootstrapping as a kubelet: a bootstrap token allowed to file node CSRs, which are auto-approved.
    const tokenId = new random.RandomString(`${name}-token-id`, { length: 6, special: false, upper: false }, base);
    const tokenSecret = new random.RandomPassword(`${name}-token-secret`, { length: 16, special: false, upper: false }, base);
    new k8s.core.v1.Secret(
      `${name}-bootstrap-token`,
      {
        metadata: { name: pulumi.interpolate`bootstrap-token-${tokenId.result}`, namespace: "kube-system" },
        type: "bootstrap.kubernetes.io/token",
        stringData: pulumi.secret({
          "token-id": tokenId.result,
          "token-secret": tokenSecret.result,
          "usage-bootstrap-authentication": "true",
          "usage-bootstrap-signing": "true",
          "auth-extra-groups": "system:bootstrappers:krustlet",
        }),
      },
      k,
    );
    for (const [role, clusterRole] of [
      ["bootstrapper", "system:node-bootstrapper"],
      ["approve", "system:certificates.k8s.io:certificatesigningrequests:nodeclient"],
    ] as const) {
      new k8s.rbac.v1.ClusterRoleBinding(
        `${name}-${role}`,
        {
          metadata: { name: `${spec.name}-${pool.name}-krustlet-${role}` },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRole },
          subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "system:bootstrappers:krustlet" }],
        },
        k,
      );
    }
    const sa = new gcp.serviceaccount.Account(
      `${name}-sa`,
      { project, accountId: `${spec.name}-${pool.name}-krustlet`.slice(0, 30), displayName: "Krustlet nodes" },
      o,
    );
    const bootstrap = new gcp.secretmanager.Secret(
      `${name}-bootstrap`,
      // Replicated in the cloud's own region only (automatic replication is global).
      {
        project,
        secretId,
        replication: { userManaged: { replicas: [{ location: cloud.region }] } },
        labels: labels("krustlet-bootstrap"),
      },
      o,
    );
    const bootstrapVersion = new gcp.secretmanager.SecretVersion(
      `${name}-bootstrap-v`,
      {
        secret: bootstrap.id,
        secretData: pulumi.secret(
          pulumi.all([site.endpoint, site.caCert, tokenId.result, tokenSecret.result]).apply(([e, ca, id, sec]) =>
            JSON.stringify({
              apiVersion: "v1",
              kind: "Config",
              clusters: [{ name: "cluster", cluster: { server: `https://${e}`, "certificate-authority-data": ca } }],
              contexts: [{ name: "bootstrap", context: { cluster: "cluster", user: "bootstrap" } }],
              "current-context": "bootstrap",
              users: [{ name: "bootstrap", user: { token: `${id}.${sec}` } }],
            }),
          ),
        ),
      },
      o,
    );
    const bootstrapReader = new gcp.secretmanager.SecretIamMember(
      `${name}-bootstrap-reader`,
      {
        project,
        secretId: bootstrap.id,
        role: "roles/secretmanager.secretAccessor",
        member: pulumi.interpolate`serviceAccount:${sa.email}`,
      },
      o,
    );
    const tpl = new gcp.compute.InstanceTemplate(
      `${name}-template`,
      {
        project,
        namePrefix: `${spec.name}-${args.cloud}-${pool.name}-`.slice(0, 37),
        machineType: pool.machineType ?? "e2-standard-2",
        disks: [{ sourceImage: "ubuntu-os-cloud/ubuntu-2404-lts-amd64", boot: true, autoDelete: true, diskSizeGb: 30 }],
        networkInterfaces: [{ subnetwork: site.subnetwork }],
        serviceAccount: { email: sa.email, scopes: ["https://www.googleapis.com/auth/cloud-platform"] },
        shieldedInstanceConfig: { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true },
        metadata: { "enable-oslogin": "TRUE", "block-project-ssh-keys": "TRUE" },
        metadataStartupScript: this.bootScript,
        labels: { ...labels("krustlet-node"), kubernetes_io_arch: "wasm32-wasi" },
        tags: ["latticeform-krustlet"],
      },
      o,
    );
    return new gcp.compute.RegionInstanceGroupManager(
      `${name}-group`,
      {
        project,
        region: cloud.region,
        baseInstanceName: gcpBaseInstanceName(spec, pool),
        distributionPolicyZones: cloud.zones,
        targetSize: pool.nodes,
        versions: [{ instanceTemplate: tpl.selfLinkUnique, name: "primary" }],
      },
      // Nodes read the bootstrap secret at boot: they start once it exists and they may read it.
      { ...o, dependsOn: [bootstrapVersion, bootstrapReader] },
    );
  }
}

/** Name prefix of the GKE pool's VMs (the group adds `-xxxx`): their node names. */
function gcpBaseInstanceName(spec: LatticeSpec, pool: NodePool): string {
  return `${spec.name}-${pool.name}`.slice(0, 50);
}
