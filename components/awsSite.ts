/**
 * `AwsSite`: one cloud of the lattice on AWS: a VPC across the declared zones (private subnets for nodes, public
 * subnets for the load balancers and one NAT gateway per zone, so losing a zone never cuts the others' egress to
 * the other sites), an EKS cluster whose API endpoint follows the spec's `access.api` (private, or public limited
 * to the declared ranges) with Secrets encrypted with the site's KMS key, a system node group, the EBS CSI add-on
 * with its own role (EKS Pod Identity) and an encrypted gp3 StorageClass for the JetStream volumes (EKS 1.30+ has
 * no default class), Elastic IPs reserved for the NATS load balancers (one per public subnet), and the cluster's
 * Kubernetes provider. AWS resources use the provider the caller gives (resource options, or the stack's default
 * `aws` provider with its `aws:assumeRole`, profile and credentials) and name their region themselves.
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { eksKubeconfig } from "../src/compile/kubernetes";
import type { ReservedAddress } from "../src/compile/kubernetes";
import { JETSTREAM_STORAGE_CLASS, jetstreamStorageClass } from "../src/compile/storage";
import type { Access, Cloud } from "../src/model/schema";
import { assumeRole, awsTags, type KubeSite, type LbAddress } from "./common";

export interface AwsSiteArgs {
  /** The cloud, from the validated spec (provider `aws`). */
  readonly cloud: Cloud;
  /** Lattice name (tags, resource names). */
  readonly lattice: string;
  /** The spec's tags, put on every taggable resource. */
  readonly tags: Readonly<Record<string, string>>;
  /**
   * VPC address range, a /16.
   * @default "10.20.0.0/16"
   */
  readonly vpcCidr?: string;
  /**
   * EKS Kubernetes version.
   * @default "1.33"
   */
  readonly kubernetesVersion?: string;
  /**
   * Instance type of the system node group (NATS, wasmCloud hosts).
   * @default "m6i.large"
   */
  readonly systemInstanceType?: string;
  /**
   * Nodes of the system node group.
   * @default 3
   */
  readonly systemNodes?: number;
  /**
   * The API endpoint: `private` (reachable from the VPC and `cidrs`, private ranges of a VPN or peered network
   * `pulumi up` runs in) or `public` (the public endpoint limited to `cidrs`), from the spec's `access.api`.
   * @default { endpoint: "private", cidrs: [] }
   */
  readonly apiAccess?: Access["api"];
  /**
   * Load balancers to reserve Elastic IPs for (one per public subnet each), by key (`hub`, stretched member names).
   * @default []
   */
  readonly natsAddresses?: readonly string[];
}

const POLICY = "arn:aws:iam::aws:policy/";

export class AwsSite extends pulumi.ComponentResource implements KubeSite {
  public readonly provider: k8s.Provider;
  public readonly kubeconfig: pulumi.Output<string>;
  public readonly egressCidrs: pulumi.Output<string[]>;
  /** VPC range: nodes and (VPC CNI) pods; the site's own load balancers allow it. */
  public readonly internalCidrs: string[];
  /** Reserved load balancer addresses by key (`natsAddresses`). */
  public readonly lbAddresses: Record<string, LbAddress> = {};
  public readonly clusterName: pulumi.Output<string>;
  public readonly vpcId: pulumi.Output<string>;
  public readonly privateSubnetIds: pulumi.Output<string>[];
  /** CIDR blocks of the private subnets, in the order of `privateSubnetIds`. */
  public readonly privateSubnetCidrs: string[];
  public readonly clusterSecurityGroupId: pulumi.Output<string>;
  public readonly endpoint: pulumi.Output<string>;
  public readonly certificateAuthority: pulumi.Output<string>;
  public readonly region: string;
  /** Role of the EKS node groups (system and runtime-class pools). */
  public readonly nodeRoleArn: pulumi.Output<string>;
  public readonly storageClassName: string;
  /** The JetStream StorageClass (gp3, encrypted with the site's KMS key), created once the EBS CSI driver runs. */
  public readonly storage: pulumi.Resource;

  constructor(name: string, args: AwsSiteArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("latticeform:cloud:AwsSite", name, { cloud: args.cloud.name, region: args.cloud.region }, opts);
    const c = args.cloud;
    if (c.provider !== "aws") throw new Error(`AwsSite ${name}: cloud ${c.name} has provider ${c.provider}, expected aws`);
    this.region = c.region;
    const tags = (role: string) => awsTags(args.tags, args.lattice, role);
    // No provider of our own: the caller's (inherited through `parent`) keeps its credentials and assumed role.
    const o = { parent: this };
    const region = c.region;
    const cidr = args.vpcCidr ?? "10.20.0.0/16";
    const api = args.apiAccess ?? { endpoint: "private", cidrs: [] };
    if (api.endpoint === "public" && api.cidrs.length === 0)
      throw new Error(`AwsSite ${name}: a public API endpoint needs access.api.cidrs (it would be open to the internet)`);
    const m = /^(\d+)\.(\d+)\.0\.0\/16$/.exec(cidr);
    if (!m) throw new Error(`AwsSite ${name}: vpcCidr must be a /16 such as 10.20.0.0/16 (got ${cidr})`);
    const subnetCidr = (i: number) => `${m[1]}.${m[2]}.${i * 16}.0/20`;
    const clusterName = `${args.lattice}-${c.name}`;

    const vpc = new aws.ec2.Vpc(
      `${name}-vpc`,
      { region, cidrBlock: cidr, enableDnsHostnames: true, enableDnsSupport: true, tags: tags("vpc") },
      o,
    );
    const igw = new aws.ec2.InternetGateway(`${name}-igw`, { region, vpcId: vpc.id, tags: tags("igw") }, o);
    const publicRt = new aws.ec2.RouteTable(
      `${name}-public-rt`,
      { region, vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }], tags: tags("public-rt") },
      o,
    );
    const publicSubnets = c.zones.map((zone, i) => {
      const s = new aws.ec2.Subnet(
        `${name}-public-${zone}`,
        {
          region,
          vpcId: vpc.id,
          availabilityZone: zone,
          cidrBlock: subnetCidr(8 + i),
          mapPublicIpOnLaunch: false,
          tags: { ...tags("public-subnet"), "kubernetes.io/role/elb": "1" },
        },
        o,
      );
      new aws.ec2.RouteTableAssociation(`${name}-public-${zone}-rt`, { region, subnetId: s.id, routeTableId: publicRt.id }, o);
      return s;
    });
    // One NAT gateway per zone, each zone's private subnet routed through its own: a NAT gateway lives in one
    // zone, and losing that zone must not cut the hubs in the other zones off from GCP and the tie-breaker.
    const natIps = c.zones.map((zone) => new aws.ec2.Eip(`${name}-nat-ip-${zone}`, { region, domain: "vpc", tags: tags("nat-ip") }, o));
    const nats = c.zones.map(
      (zone, i) =>
        new aws.ec2.NatGateway(
          `${name}-nat-${zone}`,
          { region, allocationId: natIps[i]!.id, subnetId: publicSubnets[i]!.id, tags: tags("nat") },
          { ...o, dependsOn: [igw] },
        ),
    );
    const privateSubnets = c.zones.map((zone, i) => {
      const s = new aws.ec2.Subnet(
        `${name}-private-${zone}`,
        {
          region,
          vpcId: vpc.id,
          availabilityZone: zone,
          cidrBlock: subnetCidr(i),
          tags: { ...tags("private-subnet"), "kubernetes.io/role/internal-elb": "1", [`kubernetes.io/cluster/${clusterName}`]: "shared" },
        },
        o,
      );
      const rt = new aws.ec2.RouteTable(
        `${name}-private-rt-${zone}`,
        { region, vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nats[i]!.id }], tags: tags("private-rt") },
        o,
      );
      new aws.ec2.RouteTableAssociation(`${name}-private-${zone}-rt`, { region, subnetId: s.id, routeTableId: rt.id }, o);
      return s;
    });

    const key = new aws.kms.Key(
      `${name}-secrets-key`,
      {
        region,
        description: `KMS key of ${clusterName}: EKS Secrets and the JetStream EBS volumes`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        tags: tags("secrets-key"),
      },
      o,
    );
    const clusterRole = new aws.iam.Role(
      `${name}-cluster-role`,
      { assumeRolePolicy: assumeRole("eks.amazonaws.com"), tags: tags("cluster-role") },
      o,
    );
    const clusterPolicy = new aws.iam.RolePolicyAttachment(
      `${name}-cluster-policy`,
      { role: clusterRole.name, policyArn: `${POLICY}AmazonEKSClusterPolicy` },
      o,
    );
    const apiSg = new aws.ec2.SecurityGroup(
      `${name}-api-sg`,
      {
        region,
        vpcId: vpc.id,
        description: "EKS private API endpoint: reachable from the VPC and the declared private admin ranges only",
        ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: [cidr, ...(api.endpoint === "private" ? api.cidrs : [])] }],
        egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: [cidr] }],
        tags: tags("api-sg"),
      },
      o,
    );
    const cluster = new aws.eks.Cluster(
      `${name}-eks`,
      {
        region,
        name: clusterName,
        version: args.kubernetesVersion ?? "1.33",
        roleArn: clusterRole.arn,
        vpcConfig: {
          subnetIds: privateSubnets.map((s) => s.id),
          securityGroupIds: [apiSg.id],
          // Nodes always use the private endpoint; the deployer uses the public one, limited to its ranges, or
          // reaches the private one from a network routed into the VPC (ARCHITECTURE.md, "Admin access").
          endpointPrivateAccess: true,
          endpointPublicAccess: api.endpoint === "public",
          ...(api.endpoint === "public" ? { publicAccessCidrs: [...api.cidrs] } : {}),
        },
        encryptionConfig: { provider: { keyArn: key.arn }, resources: ["secrets"] },
        accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: true },
        enabledClusterLogTypes: ["api", "audit", "authenticator"],
        tags: tags("eks"),
      },
      { ...o, dependsOn: [clusterPolicy] },
    );

    const nodeRole = new aws.iam.Role(
      `${name}-node-role`,
      { assumeRolePolicy: assumeRole("ec2.amazonaws.com"), tags: tags("node-role") },
      o,
    );
    const nodePolicies = ["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"].map(
      (p) => new aws.iam.RolePolicyAttachment(`${name}-node-${p}`, { role: nodeRole.name, policyArn: `${POLICY}${p}` }, o),
    );
    const nodes = new aws.eks.NodeGroup(
      `${name}-system-nodes`,
      {
        region,
        clusterName: cluster.name,
        nodeRoleArn: nodeRole.arn,
        subnetIds: privateSubnets.map((s) => s.id),
        instanceTypes: [args.systemInstanceType ?? "m6i.large"],
        scalingConfig: { desiredSize: args.systemNodes ?? 3, minSize: args.systemNodes ?? 3, maxSize: (args.systemNodes ?? 3) * 2 },
        labels: { "latticeform.io/pool": "system" },
        tags: tags("system-nodes"),
      },
      { ...o, dependsOn: nodePolicies },
    );

    const csi = this.ebsCsiDriver(name, { region, clusterName: cluster.name, key, nodes, tags });

    this.endpoint = cluster.endpoint;
    this.certificateAuthority = cluster.certificateAuthority.apply((ca) => ca.data);
    this.kubeconfig = pulumi.secret(
      pulumi.all([cluster.name, cluster.endpoint, this.certificateAuthority]).apply(([n, e, ca]) => eksKubeconfig(n, e, ca, c.region)),
    );
    this.provider = new k8s.Provider(
      `${name}-k8s`,
      { kubeconfig: this.kubeconfig, enableServerSideApply: true },
      { parent: this, dependsOn: [nodes] },
    );
    this.storageClassName = JETSTREAM_STORAGE_CLASS;
    this.storage = this.storageClass(name, args.lattice, key, csi);
    this.egressCidrs = pulumi.all(natIps.map((e) => e.publicIp)).apply((ips) => ips.map((ip) => `${ip}/32`));
    this.internalCidrs = [cidr];
    for (const lb of args.natsAddresses ?? []) {
      const eips = c.zones.map(
        (zone) => new aws.ec2.Eip(`${name}-lb-${lb}-${zone}`, { region, domain: "vpc", tags: tags("nats-lb-ip") }, o),
      );
      this.lbAddresses[lb] = {
        ips: pulumi.all(eips.map((e) => e.publicIp)),
        reserved: pulumi.all(eips.map((e) => e.allocationId)).apply((ids): ReservedAddress => ({ kind: "eip", allocationIds: ids })),
      };
    }
    this.clusterName = cluster.name;
    this.vpcId = vpc.id;
    this.nodeRoleArn = nodeRole.arn;
    this.privateSubnetIds = privateSubnets.map((s) => s.id);
    this.privateSubnetCidrs = c.zones.map((_, i) => subnetCidr(i));
    this.clusterSecurityGroupId = cluster.vpcConfig.apply((v) => v.clusterSecurityGroupId);
    this.registerOutputs({ clusterName: this.clusterName, egressCidrs: this.egressCidrs, kubeconfig: this.kubeconfig });
  }

  /**
   * The EBS CSI add-on with its own role through EKS Pod Identity (the add-on's controller service account
   * `ebs-csi-controller-sa`): AWS's managed `AmazonEBSCSIDriverPolicy` plus use of the site's KMS key, nothing else.
   */
  private ebsCsiDriver(
    name: string,
    a: {
      region: string;
      clusterName: pulumi.Output<string>;
      key: aws.kms.Key;
      nodes: aws.eks.NodeGroup;
      tags: (role: string) => Record<string, string>;
    },
  ): aws.eks.Addon {
    const o = { parent: this };
    const agent = new aws.eks.Addon(
      `${name}-pod-identity`,
      { region: a.region, clusterName: a.clusterName, addonName: "eks-pod-identity-agent", tags: a.tags("pod-identity") },
      { ...o, dependsOn: [a.nodes] },
    );
    const role = new aws.iam.Role(
      `${name}-ebs-csi-role`,
      {
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: { Service: "pods.eks.amazonaws.com" }, Action: ["sts:AssumeRole", "sts:TagSession"] }],
        }),
        tags: a.tags("ebs-csi-role"),
      },
      o,
    );
    const managed = new aws.iam.RolePolicyAttachment(
      `${name}-ebs-csi-policy`,
      { role: role.name, policyArn: `${POLICY}service-role/AmazonEBSCSIDriverPolicy` },
      o,
    );
    // aws-ebs-csi-driver docs/install.md: what the controller needs to create volumes encrypted with a customer key.
    const kms = new aws.iam.RolePolicy(
      `${name}-ebs-csi-kms`,
      {
        role: role.name,
        policy: a.key.arn.apply((arn) =>
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Action: ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
                Resource: arn,
                Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } },
              },
              {
                Effect: "Allow",
                Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
                Resource: arn,
              },
            ],
          }),
        ),
      },
      o,
    );
    return new aws.eks.Addon(
      `${name}-ebs-csi`,
      {
        region: a.region,
        clusterName: a.clusterName,
        addonName: "aws-ebs-csi-driver",
        podIdentityAssociations: [{ roleArn: role.arn, serviceAccount: "ebs-csi-controller-sa" }],
        tags: a.tags("ebs-csi"),
      },
      { ...o, dependsOn: [a.nodes, agent, managed, kms] },
    );
  }

  /** The JetStream StorageClass: gp3, encrypted with the site's KMS key. */
  private storageClass(name: string, lattice: string, key: aws.kms.Key, csi: aws.eks.Addon): k8s.storage.v1.StorageClass {
    const { metadata, provisioner, parameters, reclaimPolicy, volumeBindingMode, allowVolumeExpansion } = jetstreamStorageClass(
      "aws",
      lattice,
    );
    return new k8s.storage.v1.StorageClass(
      `${name}-jetstream-storage`,
      {
        metadata,
        provisioner,
        // Only the key's ARN waits for the key: `encrypted` stays known, so a preview can judge it.
        parameters: { ...parameters, kmsKeyId: key.arn },
        reclaimPolicy,
        volumeBindingMode,
        allowVolumeExpansion,
      },
      { parent: this, provider: this.provider, dependsOn: [csi] },
    );
  }
}
