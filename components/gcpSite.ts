/**
 * `GcpSite`: one cloud of the lattice on GCP: the project's APIs it needs (enabled first), a VPC network with one
 * regional subnetwork (pod and service ranges), Cloud NAT on a reserved egress address, a GKE cluster with private
 * nodes, its API endpoint per the spec's `access.api`, Secrets encrypted with a customer-managed KMS key (the GKE
 * service agent granted on it), workload identity, shielded nodes and the PD CSI driver, a system node pool, the
 * JetStream StorageClass (pd-balanced), static addresses reserved for the NATS load balancers, and the cluster's
 * Kubernetes provider. GCP resources use the provider the caller gives (resource options, or the stack's default
 * `gcp` provider with its credentials and impersonation) and name project and region themselves.
 */
import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { gkeKubeconfig } from "../src/compile/kubernetes";
import type { ReservedAddress } from "../src/compile/kubernetes";
import { JETSTREAM_STORAGE_CLASS, jetstreamStorageClass } from "../src/compile/storage";
import type { Access, Cloud } from "../src/model/schema";
import { applyObject, gcpLabels, objectResourceName, type KubeSite, type LbAddress } from "./common";

/** APIs a GCP site calls (Pulumi's resources below fail with "API not enabled" on a fresh project otherwise). */
export const GCP_SITE_APIS = [
  "cloudresourcemanager.googleapis.com",
  "iam.googleapis.com",
  "compute.googleapis.com",
  "container.googleapis.com",
  "cloudkms.googleapis.com",
  "secretmanager.googleapis.com",
] as const;

/**
 * Enable `apis` on the project. `disableOnDestroy: false`: destroying one site must never switch an API off under
 * another (the tie-breaker site and the clouds may share a project).
 */
export function enableApis(
  name: string,
  project: pulumi.Input<string>,
  apis: readonly string[],
  opts: pulumi.CustomResourceOptions,
): gcp.projects.Service[] {
  return apis.map(
    (service) =>
      new gcp.projects.Service(
        `${name}-api-${service.split(".")[0]}`,
        { project, service, disableOnDestroy: false, disableDependentServices: false },
        opts,
      ),
  );
}

export interface GcpSiteArgs {
  /** The cloud, from the validated spec (provider `gcp`). */
  readonly cloud: Cloud;
  /** Lattice name (labels, resource names). */
  readonly lattice: string;
  /** The spec's tags, put on every labelable resource. */
  readonly tags: Readonly<Record<string, string>>;
  /** GCP project. */
  readonly project: pulumi.Input<string>;
  /**
   * Node range of the subnetwork.
   * @default "10.30.0.0/20"
   */
  readonly nodeCidr?: string;
  /**
   * Pod range (secondary range of the subnetwork).
   * @default "10.32.0.0/14"
   */
  readonly podCidr?: string;
  /**
   * Service range (secondary range of the subnetwork).
   * @default "10.36.0.0/20"
   */
  readonly serviceCidr?: string;
  /**
   * Range of the GKE control plane's private endpoint.
   * @default "172.16.0.32/28"
   */
  readonly masterCidr?: string;
  /**
   * Machine type of the system node pool.
   * @default "e2-standard-4"
   */
  readonly systemMachineType?: string;
  /**
   * Nodes per zone of the system node pool.
   * @default 1
   */
  readonly systemNodesPerZone?: number;
  /**
   * The control plane endpoint, from the spec's `access.api`: `private` (master authorized networks accept only
   * private ranges then) or `public` limited to public `cidrs`.
   * @default { endpoint: "private", cidrs: [] }
   */
  readonly apiAccess?: Access["api"];
  /**
   * Load balancers to reserve a regional static address for, by key (`hub`, stretched member names).
   * @default []
   */
  readonly natsAddresses?: readonly string[];
}

export class GcpSite extends pulumi.ComponentResource implements KubeSite {
  public readonly provider: k8s.Provider;
  public readonly kubeconfig: pulumi.Output<string>;
  public readonly egressCidrs: pulumi.Output<string[]>;
  /** Node and pod ranges: the site's own load balancers allow them (kube-proxy applies `loadBalancerSourceRanges` to in-cluster traffic to the LB IP). */
  public readonly internalCidrs: string[];
  /** The subnetwork's primary range: the nodes' (and Krustlet VMs') addresses. */
  public readonly nodeCidr: string;
  /** Reserved load balancer addresses by key (`natsAddresses`). */
  public readonly lbAddresses: Record<string, LbAddress> = {};
  public readonly clusterName: pulumi.Output<string>;
  public readonly network: pulumi.Output<string>;
  public readonly subnetwork: pulumi.Output<string>;
  public readonly project: pulumi.Output<string>;
  public readonly region: string;
  /** Private endpoint (IP) and CA of the control plane. */
  public readonly endpoint: pulumi.Output<string>;
  public readonly caCert: pulumi.Output<string>;
  /** Service account of the GKE nodes (least privilege). */
  public readonly nodeServiceAccount: pulumi.Output<string>;
  public readonly storageClassName: string;
  /** The JetStream StorageClass (pd-balanced through the PD CSI driver). */
  public readonly storage: pulumi.Resource;

  constructor(name: string, args: GcpSiteArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("latticeform:cloud:GcpSite", name, { cloud: args.cloud.name, region: args.cloud.region }, opts);
    const c = args.cloud;
    if (c.provider !== "gcp") throw new Error(`GcpSite ${name}: cloud ${c.name} has provider ${c.provider}, expected gcp`);
    this.region = c.region;
    const labels = (role: string) => gcpLabels(args.tags, args.lattice, role);
    // No provider of our own: the caller's (inherited through `parent`) keeps its credentials.
    const project = args.project;
    const apis = enableApis(name, project, GCP_SITE_APIS, { parent: this });
    const o = { parent: this, dependsOn: apis };
    const clusterName = `${args.lattice}-${c.name}`;
    const nodeCidr = args.nodeCidr ?? "10.30.0.0/20";
    const podCidr = args.podCidr ?? "10.32.0.0/14";
    const api = args.apiAccess ?? { endpoint: "private", cidrs: [] };
    if (api.endpoint === "public" && api.cidrs.length === 0)
      throw new Error(`GcpSite ${name}: a public API endpoint needs access.api.cidrs (it would be open to the internet)`);

    const network = new gcp.compute.Network(`${name}-network`, { project, autoCreateSubnetworks: false, routingMode: "REGIONAL" }, o);
    const subnet = new gcp.compute.Subnetwork(
      `${name}-subnet`,
      {
        project,
        network: network.id,
        region: c.region,
        ipCidrRange: nodeCidr,
        privateIpGoogleAccess: true,
        secondaryIpRanges: [
          { rangeName: "pods", ipCidrRange: podCidr },
          { rangeName: "services", ipCidrRange: args.serviceCidr ?? "10.36.0.0/20" },
        ],
        logConfig: { aggregationInterval: "INTERVAL_5_SEC", flowSampling: 0.5, metadata: "INCLUDE_ALL_METADATA" },
      },
      o,
    );
    const router = new gcp.compute.Router(`${name}-router`, { project, network: network.id, region: c.region }, o);
    const natIp = new gcp.compute.Address(
      `${name}-nat-ip`,
      { project, region: c.region, addressType: "EXTERNAL", labels: labels("nat-ip") },
      o,
    );
    new gcp.compute.RouterNat(
      `${name}-nat`,
      {
        project,
        router: router.name,
        region: c.region,
        natIpAllocateOption: "MANUAL_ONLY",
        natIps: [natIp.selfLink],
        sourceSubnetworkIpRangesToNat: "ALL_SUBNETWORKS_ALL_IP_RANGES",
        logConfig: { enable: true, filter: "ERRORS_ONLY" },
      },
      o,
    );

    const nodeSa = new gcp.serviceaccount.Account(
      `${name}-node-sa`,
      { project, accountId: `${clusterName}-nodes`.slice(0, 30), displayName: `GKE nodes of ${clusterName} (least privilege)` },
      o,
    );
    // Nodes write logs and metrics and pull images; nothing else.
    const nodeRoles = ["roles/logging.logWriter", "roles/monitoring.metricWriter", "roles/artifactregistry.reader"].map(
      (role) =>
        new gcp.projects.IAMMember(
          `${name}-node-sa-${role.split("/")[1]}`,
          { project: args.project, role, member: pulumi.interpolate`serviceAccount:${nodeSa.email}` },
          o,
        ),
    );
    const secretsKey = this.secretsKey(name, args, clusterName, o);
    const cluster = new gcp.container.Cluster(
      `${name}-gke`,
      {
        project,
        name: clusterName,
        location: c.region,
        nodeLocations: c.zones,
        network: network.id,
        subnetwork: subnet.id,
        removeDefaultNodePool: true,
        initialNodeCount: 1,
        networkingMode: "VPC_NATIVE",
        ipAllocationPolicy: { clusterSecondaryRangeName: "pods", servicesSecondaryRangeName: "services" },
        privateClusterConfig: {
          enablePrivateNodes: true,
          enablePrivateEndpoint: api.endpoint === "private",
          masterIpv4CidrBlock: args.masterCidr ?? "172.16.0.32/28",
          masterGlobalAccessConfig: { enabled: false },
        },
        masterAuthorizedNetworksConfig: {
          cidrBlocks: [nodeCidr, ...api.cidrs].map((cidrBlock) => ({ cidrBlock, displayName: "allowed" })),
        },
        // Secrets in etcd encrypted with the lattice's own key, as EKS's are.
        databaseEncryption: { state: "ENCRYPTED", keyName: secretsKey.key.id },
        workloadIdentityConfig: { workloadPool: pulumi.interpolate`${args.project}.svc.id.goog` },
        enableShieldedNodes: true,
        releaseChannel: { channel: "REGULAR" },
        networkPolicy: { enabled: true, provider: "CALICO" },
        // The JetStream volumes' CSI driver, explicit rather than left to the cluster version's default.
        addonsConfig: { gcePersistentDiskCsiDriverConfig: { enabled: true } },
        resourceLabels: labels("gke"),
        deletionProtection: true,
      },
      { ...o, dependsOn: [...apis, secretsKey.grant] },
    );
    const nodes = new gcp.container.NodePool(
      `${name}-system-nodes`,
      {
        project,
        cluster: cluster.id,
        location: c.region,
        nodeCount: args.systemNodesPerZone ?? 1,
        management: { autoRepair: true, autoUpgrade: true },
        nodeConfig: {
          machineType: args.systemMachineType ?? "e2-standard-4",
          serviceAccount: nodeSa.email,
          oauthScopes: ["https://www.googleapis.com/auth/cloud-platform"],
          shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
          workloadMetadataConfig: { mode: "GKE_METADATA" },
          labels: { "latticeform.io/pool": "system" },
          resourceLabels: labels("system-nodes"),
        },
      },
      { ...o, dependsOn: nodeRoles },
    );

    this.kubeconfig = pulumi.secret(
      pulumi
        .all([cluster.name, cluster.endpoint, cluster.masterAuth])
        .apply(([n, e, auth]) => gkeKubeconfig(n, e, auth.clusterCaCertificate ?? "")),
    );
    this.provider = new k8s.Provider(
      `${name}-k8s`,
      { kubeconfig: this.kubeconfig, enableServerSideApply: true },
      { parent: this, dependsOn: [nodes] },
    );
    const sc = jetstreamStorageClass("gcp", args.lattice);
    this.storageClassName = JETSTREAM_STORAGE_CLASS;
    this.storage = applyObject(objectResourceName(name, sc), sc, { parent: this, provider: this.provider });
    this.egressCidrs = natIp.address.apply((ip) => [`${ip}/32`]);
    this.internalCidrs = [nodeCidr, podCidr];
    this.nodeCidr = nodeCidr;
    for (const key of args.natsAddresses ?? []) {
      const addr = new gcp.compute.Address(
        `${name}-lb-${key}`,
        { project, region: c.region, addressType: "EXTERNAL", networkTier: "PREMIUM", labels: labels("nats-lb-ip") },
        o,
      );
      this.lbAddresses[key] = {
        ips: addr.address.apply((a) => [a]),
        reserved: addr.address.apply((ip): ReservedAddress => ({ kind: "static-ip", ip })),
      };
    }
    this.clusterName = cluster.name;
    this.network = network.id;
    this.endpoint = cluster.endpoint;
    this.caCert = cluster.masterAuth.apply((a) => a.clusterCaCertificate ?? "");
    this.nodeServiceAccount = nodeSa.email;
    this.subnetwork = subnet.id;
    this.project = pulumi.output(args.project);
    this.registerOutputs({ clusterName: this.clusterName, egressCidrs: this.egressCidrs, kubeconfig: this.kubeconfig });
  }

  /** The KMS key encrypting the cluster's Secrets, and the GKE service agent's grant on it (the cluster waits for both). */
  private secretsKey(
    name: string,
    args: GcpSiteArgs,
    clusterName: string,
    o: pulumi.CustomResourceOptions,
  ): { key: gcp.kms.CryptoKey; grant: gcp.kms.CryptoKeyIAMMember } {
    const ring = new gcp.kms.KeyRing(
      `${name}-keyring`,
      { project: args.project, name: `${clusterName}-secrets`, location: args.cloud.region },
      o,
    );
    const key = new gcp.kms.CryptoKey(
      `${name}-secrets-key`,
      {
        keyRing: ring.id,
        purpose: "ENCRYPT_DECRYPT",
        rotationPeriod: "7776000s",
        labels: gcpLabels(args.tags, args.lattice, "secrets-key"),
      },
      o,
    );
    const project = gcp.organizations.getProjectOutput({ projectId: args.project }, { parent: this });
    // The GKE service agent (created when the container API is enabled) encrypts and decrypts with the key.
    const grant = new gcp.kms.CryptoKeyIAMMember(
      `${name}-secrets-key-gke`,
      {
        cryptoKeyId: key.id,
        role: "roles/cloudkms.cryptoKeyEncrypterDecrypter",
        member: pulumi.interpolate`serviceAccount:service-${project.number}@container-engine-robot.iam.gserviceaccount.com`,
      },
      o,
    );
    return { key, grant };
  }
}
