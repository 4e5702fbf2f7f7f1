/**
 * `TieBreakerSite`: the JetStream servers of the tie-breaker site, small VMs in a third region, so the meta
 * group (and a stretched cluster's streams) keep a majority when a whole cloud is lost. Built in two steps:
 * the constructor reserves the network and the servers' static addresses (the clouds' load balancers allow
 * them); `start` creates the VMs once their compiled configs (which name the clouds' load balancers) exist.
 * Config, TLS key and CA live in the cloud's secret store (GCP Secret Manager / AWS Secrets Manager), read at
 * boot by the VM's own identity, which may read those entries and nothing else; each VM waits for that grant, and
 * GCP secrets are replicated only to the site's own region (user-managed replication: automatic replication is
 * global and refused under an EU-only resource-location policy).
 */
import * as aws from "@pulumi/aws";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { tieBreakerBootScript, tieBreakerConfPath, tieBreakerSecretIds } from "../src/compile/boot";
import { TLS_MOUNT } from "../src/compile/k8senv";
import type { LatticeSpec } from "../src/model/schema";
import type { ServerNode } from "../src/model/topology";
import { assumeRole, awsTags, gcpLabels } from "./common";
import { enableApis } from "./gcpSite";
import type { PemSet } from "./credentials";

export interface TieBreakerSiteArgs {
  /** The validated spec (with a `tieBreaker`). */
  readonly spec: LatticeSpec;
  /** The site's servers, from the topology. */
  readonly servers: readonly ServerNode[];
  /**
   * GCP project (GCP sites).
   * @default undefined (an error for a GCP site)
   */
  readonly project?: pulumi.Input<string>;
  /** CIDRs allowed to reach the servers' route, gateway and client ports (the clouds' egress addresses). */
  readonly sourceRanges: pulumi.Input<string[]>;
  /**
   * Machine type of the VMs.
   * @default "e2-small" (GCP) / "t3.small" (AWS)
   */
  readonly machineType?: string;
  /**
   * Address range of the site's network (a /24).
   * @default "10.40.0.0/24"
   */
  readonly cidr?: string;
}

type Ctx =
  | {
      kind: "gcp";
      o: pulumi.CustomResourceOptions;
      subnet: gcp.compute.Subnetwork;
      sa: gcp.serviceaccount.Account;
      ips: Record<string, gcp.compute.Address>;
    }
  | {
      kind: "aws";
      o: pulumi.CustomResourceOptions;
      subnets: Record<string, aws.ec2.Subnet>;
      sg: aws.ec2.SecurityGroup;
      role: aws.iam.Role;
      profile: aws.iam.InstanceProfile;
      ips: Record<string, aws.ec2.Eip>;
    };

export class TieBreakerSite extends pulumi.ComponentResource {
  /** Static external address per server. */
  public readonly addresses: Record<string, pulumi.Output<string>> = {};
  /** Egress CIDRs of the site (its servers' static addresses). */
  public readonly egressCidrs: pulumi.Output<string[]>;
  private readonly name: string;
  private readonly args: TieBreakerSiteArgs;
  private readonly ctx: Ctx;
  private started = false;

  constructor(name: string, args: TieBreakerSiteArgs, opts: pulumi.ComponentResourceOptions = {}) {
    const tb = args.spec.tieBreaker;
    super("latticeform:nats:TieBreakerSite", name, { site: tb?.name, region: tb?.region, servers: args.servers.map((s) => s.name) }, opts);
    if (!tb) throw new Error(`TieBreakerSite ${name}: the spec has no tieBreaker`);
    this.name = name;
    this.args = args;
    const p = tb.ports;
    const natsPorts = [p.cluster, p.gateway, p.client];
    const cidr = args.cidr ?? "10.40.0.0/24";
    if (tb.provider === "gcp") {
      if (args.project === undefined) throw new Error(`TieBreakerSite ${name}: a GCP tie-breaker site needs a project (set gcp:project)`);
      const labels = (role: string) => gcpLabels(args.spec.tags, args.spec.name, role);
      // The caller's gcp provider (inherited), with project and region named on each resource.
      const project = args.project;
      const apis = enableApis(
        name,
        project,
        ["cloudresourcemanager.googleapis.com", "iam.googleapis.com", "compute.googleapis.com", "secretmanager.googleapis.com"],
        { parent: this },
      );
      const o = { parent: this, dependsOn: apis };
      const network = new gcp.compute.Network(`${name}-network`, { project, autoCreateSubnetworks: false }, o);
      const subnet = new gcp.compute.Subnetwork(
        `${name}-subnet`,
        { project, network: network.id, region: tb.region, ipCidrRange: cidr, privateIpGoogleAccess: true },
        o,
      );
      new gcp.compute.Firewall(
        `${name}-nats-fw`,
        {
          project,
          network: network.id,
          direction: "INGRESS",
          sourceRanges: args.sourceRanges,
          targetTags: ["latticeform-nats"],
          allows: [{ protocol: "tcp", ports: natsPorts.map(String) }],
        },
        o,
      );
      const sa = new gcp.serviceaccount.Account(
        `${name}-sa`,
        { project, accountId: `${args.spec.name}-${tb.name}-nats`.slice(0, 30), displayName: "tie-breaker nats-server VMs" },
        o,
      );
      const ips: Record<string, gcp.compute.Address> = {};
      for (const s of args.servers) {
        ips[s.name] = new gcp.compute.Address(
          `${name}-${s.name}-ip`,
          { project, region: tb.region, addressType: "EXTERNAL", labels: labels("nats-ip") },
          o,
        );
        this.addresses[s.name] = ips[s.name]!.address;
      }
      this.ctx = { kind: "gcp", o, subnet, sa, ips };
    } else {
      const tags = (role: string) => awsTags(args.spec.tags, args.spec.name, role);
      // The caller's aws provider (inherited), with the region named on each resource.
      const o = { parent: this };
      const region = tb.region;
      const vpc = new aws.ec2.Vpc(`${name}-vpc`, { region, cidrBlock: cidr, enableDnsHostnames: true, tags: tags("vpc") }, o);
      const igw = new aws.ec2.InternetGateway(`${name}-igw`, { region, vpcId: vpc.id, tags: tags("igw") }, o);
      const rt = new aws.ec2.RouteTable(
        `${name}-rt`,
        { region, vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }], tags: tags("rt") },
        o,
      );
      const zones = [...new Set(args.servers.map((s) => s.zone))];
      const base = cidr.replace(/\.0\/24$/, "");
      const subnets: Record<string, aws.ec2.Subnet> = {};
      zones.forEach((zone, i) => {
        subnets[zone] = new aws.ec2.Subnet(
          `${name}-${zone}`,
          { region, vpcId: vpc.id, availabilityZone: zone, cidrBlock: `${base}.${i * 32}/27`, tags: tags("subnet") },
          o,
        );
        new aws.ec2.RouteTableAssociation(`${name}-${zone}-rt`, { region, subnetId: subnets[zone]!.id, routeTableId: rt.id }, o);
      });
      const sg = new aws.ec2.SecurityGroup(
        `${name}-nats-sg`,
        {
          region,
          vpcId: vpc.id,
          description: "tie-breaker nats-server: route, gateway and client ports from the lattice's sites only",
          ingress: natsPorts.map((port) => ({ protocol: "tcp", fromPort: port, toPort: port, cidrBlocks: args.sourceRanges })),
          egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }],
          tags: tags("nats-sg"),
        },
        o,
      );
      const role = new aws.iam.Role(
        `${name}-role`,
        {
          assumeRolePolicy: assumeRole("ec2.amazonaws.com"),
          tags: tags("nats-role"),
        },
        o,
      );
      const profile = new aws.iam.InstanceProfile(`${name}-profile`, { role: role.name, tags: tags("nats-profile") }, o);
      const ips: Record<string, aws.ec2.Eip> = {};
      for (const s of args.servers) {
        ips[s.name] = new aws.ec2.Eip(`${name}-${s.name}-ip`, { region, domain: "vpc", tags: tags("nats-ip") }, o);
        this.addresses[s.name] = ips[s.name]!.publicIp;
      }
      this.ctx = { kind: "aws", o, subnets, sg, role, profile, ips };
    }
    this.egressCidrs = pulumi.all(Object.values(this.addresses)).apply((l) => l.map((ip) => `${ip}/32`));
  }

  /** Create the VMs: `confs` maps server name to its compiled config text (secret); `tls` each server's PEMs. */
  start(confs: pulumi.Input<Record<string, string>>, tls: (server: string) => PemSet): void {
    if (this.started) throw new Error(`TieBreakerSite ${this.name}: started twice`);
    this.started = true;
    const { name, args } = this;
    const allConfs = pulumi.secret(pulumi.output(confs));
    for (const s of args.servers) {
      const pem = tls(s.name);
      const files: Record<string, pulumi.Output<string>> = {
        [tieBreakerConfPath(s)]: allConfs.apply((c) => {
          const text = c[s.name];
          if (!text) throw new Error(`TieBreakerSite ${name}: no compiled config for ${s.name}`);
          return text;
        }),
        [`${TLS_MOUNT}/tls.crt`]: pem.cert,
        [`${TLS_MOUNT}/tls.key`]: pem.key,
        [`${TLS_MOUNT}/ca.crt`]: pem.ca,
      };
      if (this.ctx.kind === "gcp") this.startGcp(s, files);
      else this.startAws(s, files);
    }
    this.registerOutputs({ addresses: this.addresses, site: args.spec.tieBreaker!.name });
  }

  private startGcp(s: ServerNode, files: Record<string, pulumi.Output<string>>): void {
    const ctx = this.ctx as Extract<Ctx, { kind: "gcp" }>;
    const { name, args } = this;
    const project = args.project;
    const o = ctx.o;
    const labels = (role: string) => gcpLabels(args.spec.tags, args.spec.name, role);
    const ids = tieBreakerSecretIds(args.spec, s);
    // The VM reads these at boot: it waits for the versions and for its permission to read them.
    const ready: pulumi.Resource[] = [];
    for (const [file, data] of Object.entries(files)) {
      const id = ids[file]!;
      const sec = new gcp.secretmanager.Secret(
        `${name}-${id}`,
        {
          project,
          secretId: id,
          replication: { userManaged: { replicas: [{ location: args.spec.tieBreaker!.region }] } },
          labels: labels("nats-secret"),
        },
        o,
      );
      ready.push(new gcp.secretmanager.SecretVersion(`${name}-${id}-v`, { secret: sec.id, secretData: pulumi.secret(data) }, o));
      ready.push(
        new gcp.secretmanager.SecretIamMember(
          `${name}-${id}-reader`,
          {
            project,
            secretId: sec.id,
            role: "roles/secretmanager.secretAccessor",
            member: pulumi.interpolate`serviceAccount:${ctx.sa.email}`,
          },
          o,
        ),
      );
    }
    const disk = new gcp.compute.Disk(
      `${name}-${s.name}-data`,
      { project, zone: s.zone, type: "pd-ssd", size: 20, labels: labels("nats-data") },
      o,
    );
    new gcp.compute.Instance(
      `${name}-${s.name}-vm`,
      {
        project,
        zone: s.zone,
        machineType: args.machineType ?? "e2-small",
        tags: ["latticeform-nats"],
        labels: labels("nats-server"),
        bootDisk: { initializeParams: { image: "debian-cloud/debian-12", size: 20, type: "pd-balanced" } },
        attachedDisks: [{ source: disk.id, deviceName: "nats-data" }],
        networkInterfaces: [{ subnetwork: ctx.subnet.id, accessConfigs: [{ natIp: ctx.ips[s.name]!.address }] }],
        shieldedInstanceConfig: { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true },
        serviceAccount: { email: ctx.sa.email, scopes: ["https://www.googleapis.com/auth/cloud-platform"] },
        metadata: { "enable-oslogin": "TRUE", "block-project-ssh-keys": "TRUE" },
        metadataStartupScript: tieBreakerBootScript(args.spec, s, { files: ids, dataDevice: "/dev/disk/by-id/google-nats-data" }),
        allowStoppingForUpdate: true,
      },
      { ...o, dependsOn: [...(o.dependsOn as pulumi.Resource[]), ...ready] },
    );
  }

  private startAws(s: ServerNode, files: Record<string, pulumi.Output<string>>): void {
    const ctx = this.ctx as Extract<Ctx, { kind: "aws" }>;
    const { name, args } = this;
    const region = args.spec.tieBreaker!.region;
    const o = ctx.o;
    const tags = (role: string) => awsTags(args.spec.tags, args.spec.name, role);
    const ids = tieBreakerSecretIds(args.spec, s);
    const versions: pulumi.Resource[] = [];
    const arns: pulumi.Output<string>[] = [];
    for (const [file, data] of Object.entries(files)) {
      const id = ids[file]!;
      const sec = new aws.secretsmanager.Secret(
        `${name}-${id}`,
        { region, name: id, recoveryWindowInDays: 7, tags: tags("nats-secret") },
        o,
      );
      arns.push(sec.arn);
      versions.push(
        new aws.secretsmanager.SecretVersion(`${name}-${id}-v`, { region, secretId: sec.id, secretString: pulumi.secret(data) }, o),
      );
    }
    // The server reads its own files and nothing else; the VM waits for that permission.
    const read = new aws.iam.RolePolicy(
      `${name}-${s.name}-read`,
      {
        role: ctx.role.name,
        policy: pulumi.all(arns).apply((resources) =>
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: resources }],
          }),
        ),
      },
      o,
    );
    const volume = new aws.ebs.Volume(
      `${name}-${s.name}-data`,
      { region, availabilityZone: s.zone, size: 20, type: "gp3", encrypted: true, tags: tags("nats-data") },
      o,
    );
    const vm = new aws.ec2.Instance(
      `${name}-${s.name}-vm`,
      {
        region,
        ami: "resolve:ssm:/aws/service/debian/release/12/latest/amd64",
        instanceType: args.machineType ?? "t3.small",
        subnetId: ctx.subnets[s.zone]!.id,
        vpcSecurityGroupIds: [ctx.sg.id],
        iamInstanceProfile: ctx.profile.name,
        metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
        rootBlockDevice: { volumeSize: 20, volumeType: "gp3", encrypted: true },
        // Nitro instances name EBS volumes by id under /dev/disk/by-id.
        userData: volume.id.apply((id) =>
          tieBreakerBootScript(args.spec, s, {
            files: ids,
            dataDevice: `/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${id.replace("-", "")}`,
          }),
        ),
        userDataReplaceOnChange: true,
        tags: { ...tags("nats-server"), Name: `${args.spec.name}-${s.name}` },
      },
      { ...o, dependsOn: [...versions, read] },
    );
    new aws.ec2.VolumeAttachment(
      `${name}-${s.name}-data-attach`,
      { region, instanceId: vm.id, volumeId: volume.id, deviceName: "/dev/sdf" },
      o,
    );
    new aws.ec2.EipAssociation(`${name}-${s.name}-ip-assoc`, { region, instanceId: vm.id, allocationId: ctx.ips[s.name]!.id }, o);
  }
}
