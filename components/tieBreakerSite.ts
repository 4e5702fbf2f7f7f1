/**
 * `TieBreakerSite`: the JetStream servers of the tie-breaker site, small VMs in a third region, so the meta
 * group (and a stretched cluster's streams) keep a majority when a whole cloud is lost. Built in two steps:
 * the constructor reserves the network and the servers' static addresses (the clouds' load balancers allow
 * them); `start` creates the VMs once their compiled configs (which name the clouds' load balancers) exist.
 * Config, TLS key and CA live in Secret Manager, read at boot by the VM's own service account.
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { tieBreakerBootScript, tieBreakerConfPath, tieBreakerSecretIds } from "../src/compile/boot";
import { TLS_MOUNT } from "../src/compile/k8senv";
import type { LatticeSpec } from "../src/spec/schema";
import type { ServerNode } from "../src/spec/topology";
import { gcpLabels } from "./common";
import type { PemSet } from "./credentials";

export interface TieBreakerSiteArgs {
  /** The validated spec (with a `tieBreaker`). */
  readonly spec: LatticeSpec;
  /** The site's servers, from the topology. */
  readonly servers: readonly ServerNode[];
  /** GCP project. */
  readonly project: pulumi.Input<string>;
  /** CIDRs allowed to reach the servers' route, gateway and client ports (the clouds' egress addresses). */
  readonly sourceRanges: pulumi.Input<string[]>;
  /**
   * Machine type of the VMs.
   * @default "e2-small"
   */
  readonly machineType?: string;
  /**
   * Subnetwork range.
   * @default "10.40.0.0/24"
   */
  readonly cidr?: string;
}

export class TieBreakerSite extends pulumi.ComponentResource {
  /** Static external address per server. */
  public readonly addresses: Record<string, pulumi.Output<string>> = {};
  /** Egress CIDRs of the site (its servers' static addresses). */
  public readonly egressCidrs: pulumi.Output<string[]>;
  private readonly ctx: {
    name: string;
    o: pulumi.CustomResourceOptions;
    args: TieBreakerSiteArgs;
    subnet: gcp.compute.Subnetwork;
    sa: gcp.serviceaccount.Account;
  };
  private readonly addressRes: Record<string, gcp.compute.Address> = {};
  private started = false;

  constructor(name: string, args: TieBreakerSiteArgs, opts: pulumi.ComponentResourceOptions = {}) {
    const tb = args.spec.tieBreaker;
    super("latticeform:nats:TieBreakerSite", name, { site: tb?.name, region: tb?.region, servers: args.servers.map((s) => s.name) }, opts);
    if (!tb) throw new Error(`TieBreakerSite ${name}: the spec has no tieBreaker`);
    if (tb.provider !== "gcp") {
      throw new Error(
        `TieBreakerSite ${name}: tieBreaker.provider ${tb.provider} is not supported by the Pulumi components yet (allowed: gcp)`,
      );
    }
    const labels = (role: string) => gcpLabels(args.spec.tags, args.spec.name, role);
    const provider = new gcp.Provider(
      `${name}-gcp`,
      { project: args.project, region: tb.region, defaultLabels: labels("default") },
      { parent: this },
    );
    const o = { parent: this, provider };
    const network = new gcp.compute.Network(`${name}-network`, { autoCreateSubnetworks: false }, o);
    const subnet = new gcp.compute.Subnetwork(
      `${name}-subnet`,
      { network: network.id, region: tb.region, ipCidrRange: args.cidr ?? "10.40.0.0/24", privateIpGoogleAccess: true },
      o,
    );
    const p = tb.ports;
    new gcp.compute.Firewall(
      `${name}-nats-fw`,
      {
        network: network.id,
        direction: "INGRESS",
        sourceRanges: args.sourceRanges,
        targetTags: ["latticeform-nats"],
        allows: [{ protocol: "tcp", ports: [String(p.cluster), String(p.gateway), String(p.client)] }],
      },
      o,
    );
    const sa = new gcp.serviceaccount.Account(
      `${name}-sa`,
      { accountId: `${args.spec.name}-${tb.name}-nats`.slice(0, 30), displayName: "tie-breaker nats-server VMs" },
      o,
    );
    for (const s of args.servers) {
      const a = new gcp.compute.Address(
        `${name}-${s.name}-ip`,
        { region: tb.region, addressType: "EXTERNAL", labels: labels("nats-ip") },
        o,
      );
      this.addressRes[s.name] = a;
      this.addresses[s.name] = a.address;
    }
    this.egressCidrs = pulumi.all(Object.values(this.addresses)).apply((ips) => ips.map((ip) => `${ip}/32`));
    this.ctx = { name, o, args, subnet, sa };
  }

  /** Create the VMs: `confs` maps server name to its compiled config text (secret); `tls` each server's PEMs. */
  start(confs: pulumi.Input<Record<string, string>>, tls: (server: string) => PemSet): void {
    if (this.started) throw new Error(`TieBreakerSite ${this.ctx.name}: started twice`);
    this.started = true;
    const { name, o, args, subnet, sa } = this.ctx;
    const tb = args.spec.tieBreaker!;
    const labels = (role: string) => gcpLabels(args.spec.tags, args.spec.name, role);
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
      const ids = tieBreakerSecretIds(args.spec, s);
      const versions: pulumi.Resource[] = [];
      for (const [file, data] of Object.entries(files)) {
        const id = ids[file]!;
        const sec = new gcp.secretmanager.Secret(
          `${name}-${id}`,
          { secretId: id, replication: { auto: {} }, labels: labels("nats-secret") },
          o,
        );
        versions.push(new gcp.secretmanager.SecretVersion(`${name}-${id}-v`, { secret: sec.id, secretData: pulumi.secret(data) }, o));
        new gcp.secretmanager.SecretIamMember(
          `${name}-${id}-reader`,
          { secretId: sec.id, role: "roles/secretmanager.secretAccessor", member: pulumi.interpolate`serviceAccount:${sa.email}` },
          o,
        );
      }
      const zone = s.zone;
      const disk = new gcp.compute.Disk(`${name}-${s.name}-data`, { zone, type: "pd-ssd", size: 20, labels: labels("nats-data") }, o);
      new gcp.compute.Instance(
        `${name}-${s.name}-vm`,
        {
          zone,
          machineType: args.machineType ?? "e2-small",
          tags: ["latticeform-nats"],
          labels: labels("nats-server"),
          bootDisk: { initializeParams: { image: "debian-cloud/debian-12", size: 20, type: "pd-balanced" } },
          attachedDisks: [{ source: disk.id, deviceName: "nats-data" }],
          networkInterfaces: [{ subnetwork: subnet.id, accessConfigs: [{ natIp: this.addressRes[s.name]!.address }] }],
          shieldedInstanceConfig: { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true },
          serviceAccount: { email: sa.email, scopes: ["https://www.googleapis.com/auth/cloud-platform"] },
          metadata: { "enable-oslogin": "TRUE", "block-project-ssh-keys": "TRUE" },
          metadataStartupScript: tieBreakerBootScript(args.spec, s, { files: ids, dataDevice: "/dev/disk/by-id/google-nats-data" }),
          allowStoppingForUpdate: true,
        },
        { ...o, dependsOn: versions },
      );
    }
    this.registerOutputs({ addresses: this.addresses, site: tb.name });
  }
}
