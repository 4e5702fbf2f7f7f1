/**
 * `Lattice`: the whole declared lattice from one validated spec. Sites per cloud (new EKS / GKE clusters or
 * existing ones), the tie-breaker site, load balancers, credentials and TLS, one NATS release per cluster per
 * cloud (values from the compiled configs, with every other cloud's load balancer addresses flowing in as
 * outputs), wasmCloud operator and hosts, Krustlet and runtime-class node pools, workloads, streams and
 * buckets. The validated spec is registered as the component's input (`spec`) so policies can read it.
 */
import * as pulumi from "@pulumi/pulumi";
import { natsAuthInclude, natsHelmValues, natsIdentityFiles, natsReleaseGroups } from "../src/compile/helm";
import { kubernetesEnv, releaseTlsNames, type K8sEnvOptions } from "../src/compile/k8senv";
import { jetstreamObjects } from "../src/compile/jetstreamObjects";
import { namespaces } from "../src/compile/kubernetes";
import { planLeaders } from "../src/compile/leaders";
import { compileNats, type CompiledNats } from "../src/compile/nats";
import { hostSidecarText } from "../src/compile/wasmhost";
import type { LatticeSpec } from "../src/model/schema";
import { topologyOf } from "../src/model/topology";
import { AwsSite } from "./awsSite";
import { applyObject, objectResourceName, type KubeSite } from "./common";
import { LatticeCredentials, type TlsSubject } from "./credentials";
import { ExistingSite } from "./existingSite";
import { GcpSite } from "./gcpSite";
import { HubCluster } from "./hubCluster";
import { JetStreamAssets } from "./jetstreamAssets";
import { LeaderKeeper } from "./leaderKeeper";
import { HUB_LB, NatsExposure } from "./natsExposure";
import { TieBreakerSite } from "./tieBreakerSite";
import { WasmcloudOperator } from "./wasmcloudOperator";
import { WasmHostPool } from "./wasmHostPool";
import { createNodePools, createWorkloads, type Ctx, type Exposure, type Sites, type SiteKind, type WasmDeps } from "./latticeSteps";

export interface LatticeArgs {
  /** The validated spec (`parseLattice`). */
  readonly spec: LatticeSpec;
  /**
   * GCP project for GCP clouds and a GCP tie-breaker site.
   * @default undefined (an error if the spec has a GCP site)
   */
  readonly gcpProject?: pulumi.Input<string>;
  /**
   * Kubeconfig content per cloud that sets `existingKubeconfig` (the program reads the files).
   * @default {}
   */
  readonly kubeconfigs?: Readonly<Record<string, pulumi.Input<string>>>;
  /**
   * Egress CIDRs per existing cluster (the other sites allow them).
   * @default {}
   */
  readonly existingEgressCidrs?: Readonly<Record<string, string[]>>;
  /**
   * Registry that path artifacts are pushed to.
   * @default "ghcr.io/latticeform"
   */
  readonly registry?: string;
  /**
   * SHA-256 of the runwasi shim tarball.
   * @default undefined
   */
  readonly shimSha256?: string;
}

/** What a drill needs to reach one cloud of a deployed lattice. */
export interface CloudEndpoints {
  readonly client: pulumi.Output<string>;
  readonly leafnode: pulumi.Output<string>;
  readonly gateway: pulumi.Output<string>;
  /** Secret. */
  readonly kubeconfig: pulumi.Output<string>;
}

export class Lattice extends pulumi.ComponentResource {
  public readonly latticeName: string;
  public readonly clouds: Record<string, CloudEndpoints> = {};
  /** The compiled NATS configs (secret). */
  public readonly compiled: pulumi.Output<CompiledNats>;

  constructor(name: string, args: LatticeArgs, opts: pulumi.ComponentResourceOptions = {}) {
    // The inputs that decide what is exposed, registered so policies judge them before the clouds compute the ranges.
    const policyInputs = { existingEgressCidrs: { ...(args.existingEgressCidrs ?? {}) } };
    super("latticeform:index:Lattice", name, { spec: args.spec, ...policyInputs }, opts);
    const spec = args.spec;
    const topo = topologyOf(spec);
    const ctx: Ctx = {
      name,
      args,
      spec,
      topo,
      groups: natsReleaseGroups(spec, topo),
      natsCidrs: [...spec.access.natsCidrs],
      o: { parent: this },
    };
    this.latticeName = spec.name;

    const sites = this.createSites(ctx);
    const nsRes = this.createNamespaces(ctx, sites);
    // Tie-breaker site: addresses first (the clouds' load balancers allow them), VMs once configs exist.
    const tb = this.createTieBreaker(ctx, sites);
    const exposure = this.createExposure(ctx, sites, nsRes, tb);
    const creds = this.createCredentials(ctx, exposure);
    // Compile once, with every cloud's addresses.
    this.compiled = pulumi.secret(
      pulumi.all([creds.credentials, exposure.envOptions]).apply(([c, env]) => compileNats(spec, topo, kubernetesEnv(spec, env), c)),
    );
    const hubs = this.createNatsReleases(ctx, sites, nsRes, creds);
    tb?.start(
      this.compiled.apply((cn) => Object.fromEntries(cn.servers.filter((s) => s.kind === "tiebreaker").map((s) => [s.name, s.text]))),
      (id) => creds.pem(id),
    );
    const wasmDeps = this.createWasm(ctx, sites, nsRes, hubs, creds, exposure);
    createWorkloads(ctx, sites, wasmDeps);
    this.publishEndpoints(ctx, sites, exposure);
    this.registerOutputs({ latticeName: this.latticeName, clouds: this.clouds });
  }

  /** One site per cloud: a new EKS or GKE cluster, or an existing one. */
  private createSites({ name, args, spec, groups, o }: Ctx): Sites {
    // Load balancers each site reserves addresses for: its hub's, and one per stretched-cluster member it runs.
    const lbKeys = (cloud: string) => [
      HUB_LB,
      ...groups.filter((g) => g.cloud === cloud && g.cluster !== cloud).flatMap((g) => g.servers.map((s) => s.name)),
    ];
    const sites: Record<string, KubeSite> = {};
    const kinds: Record<string, SiteKind> = {};
    for (const c of spec.clouds) {
      if (c.existingKubeconfig) {
        const kc = args.kubeconfigs?.[c.name];
        if (kc === undefined)
          throw new Error(`Lattice ${name}: clouds.${c.name}.existingKubeconfig is set but its content was not passed in kubeconfigs`);
        sites[c.name] = new ExistingSite(
          `${name}-${c.name}-site`,
          { cloud: c, kubeconfig: kc, egressCidrs: args.existingEgressCidrs?.[c.name] ?? [], lattice: spec.name },
          o,
        );
        kinds[c.name] = { kind: "existing" };
      } else if (c.provider === "aws") {
        const s = new AwsSite(
          `${name}-${c.name}-site`,
          { cloud: c, lattice: spec.name, tags: spec.tags, apiAccess: spec.access.api, natsAddresses: lbKeys(c.name) },
          o,
        );
        sites[c.name] = s;
        kinds[c.name] = { kind: "aws", site: s };
      } else {
        const s = new GcpSite(
          `${name}-${c.name}-site`,
          {
            cloud: c,
            lattice: spec.name,
            tags: spec.tags,
            project: gcpProject(name, args),
            apiAccess: spec.access.api,
            natsAddresses: lbKeys(c.name),
          },
          o,
        );
        sites[c.name] = s;
        kinds[c.name] = { kind: "gcp", site: s };
      }
    }
    const providers = Object.fromEntries(Object.entries(sites).map(([c, s]) => [c, s.provider]));
    const egress = pulumi.all(Object.values(sites).map((s) => s.egressCidrs)).apply((l) => l.flat());
    return { sites, kinds, providers, egress };
  }

  /** The lattice's namespaces in every cloud. */
  private createNamespaces({ name, spec, o }: Ctx, { providers }: Sites): Record<string, pulumi.Resource[]> {
    const nsRes: Record<string, pulumi.Resource[]> = {};
    for (const c of spec.clouds) {
      nsRes[c.name] = namespaces(spec, c.name).map((ns) =>
        applyObject(objectResourceName(`${name}-${c.name}`, ns), ns, { ...o, provider: providers[c.name]! }),
      );
    }
    return nsRes;
  }

  /** The tie-breaker site, when the spec has one. */
  private createTieBreaker({ name, args, spec, topo, natsCidrs, o }: Ctx, sites: Sites): TieBreakerSite | undefined {
    if (!spec.tieBreaker) return undefined;
    return new TieBreakerSite(
      `${name}-tiebreaker`,
      {
        spec,
        servers: topo.servers.filter((s) => s.role === "tiebreaker"),
        project: spec.tieBreaker.provider === "gcp" ? gcpProject(name, args) : undefined,
        sourceRanges: sites.egress.apply((e) => [...e, ...natsCidrs]),
      },
      o,
    );
  }

  /**
   * Load balancers per cloud, on the addresses the site reserved. Besides the other sites, each allows its own
   * cloud's node and pod ranges: kube-proxy applies `loadBalancerSourceRanges` to in-cluster traffic to the LB's IP.
   */
  private createExposure(ctx: Ctx, sites: Sites, nsRes: Record<string, pulumi.Resource[]>, tb: TieBreakerSite | undefined): Exposure {
    const { name, spec, groups, natsCidrs, o } = ctx;
    const allEgress = pulumi.all([sites.egress, tb ? tb.egressCidrs : []]).apply(([a, b]) => [...a, ...b, ...natsCidrs]);
    const exposures: Record<string, NatsExposure> = {};
    for (const c of spec.clouds) {
      const kind = sites.kinds[c.name]!;
      const own = kind.kind === "existing" ? [] : kind.site.internalCidrs;
      exposures[c.name] = new NatsExposure(
        `${name}-${c.name}-lb`,
        {
          spec,
          cloud: c.name,
          groups: groups.filter((g) => g.cloud === c.name),
          sourceRanges: allEgress.apply((e) => [...new Set([...e, ...own])]),
          reserved: kind.kind === "existing" ? undefined : kind.site.lbAddresses,
          provider: sites.providers[c.name]!,
        },
        { ...o, dependsOn: nsRes[c.name] },
      );
    }
    const memberAddresses: Record<string, pulumi.Output<string>> = { ...(tb?.addresses ?? {}) };
    for (const e of Object.values(exposures)) Object.assign(memberAddresses, e.memberAddresses);
    const hubAddresses = Object.fromEntries(spec.clouds.map((c) => [c.name, exposures[c.name]!.hubAddresses]));
    const envOptions: pulumi.Output<K8sEnvOptions> = pulumi
      .all([pulumi.all(hubAddresses), pulumi.all(memberAddresses)])
      .apply(([hubs, members]) => {
        const endpoints: K8sEnvOptions["endpoints"] = Object.fromEntries(
          Object.entries(hubs).map(([cloud, addrs]) => [cloud, { gateway: addrs, leafnode: addrs, client: addrs }]),
        );
        // The stretched and tie-breaker clusters are reached at their servers' own addresses (serverHosts).
        return { endpoints, serverHosts: members };
      });
    return { hubAddresses, memberAddresses, envOptions };
  }

  /** TLS subjects and credentials: every name and address a peer dials (in-cluster names, exposed addresses). */
  private createCredentials({ name, spec, topo, groups, o }: Ctx, { hubAddresses, memberAddresses }: Exposure): LatticeCredentials {
    const isIp = (a: string) => /^[0-9.]+$|:/.test(a);
    const sans = (names: string[], addrs: pulumi.Output<string[]>): Pick<TlsSubject, "dnsNames" | "ipAddresses"> => ({
      dnsNames: addrs.apply((a) => [...names, ...a.filter((x) => !isIp(x))]),
      ipAddresses: addrs.apply((a) => a.filter(isIp)),
    });
    const subjects: TlsSubject[] = [];
    for (const g of groups) {
      const addrs = g.cluster === g.cloud ? hubAddresses[g.cloud]! : pulumi.all(g.servers.map((s) => memberAddresses[s.name]!));
      subjects.push({ id: `${g.release}-${g.cloud}`, ...sans(releaseTlsNames(g.cluster, []), addrs) });
    }
    for (const s of topo.servers.filter((x) => x.role === "tiebreaker"))
      subjects.push({
        id: s.name,
        ...sans(
          [s.name],
          memberAddresses[s.name]!.apply((a) => [a]),
        ),
      });
    for (const h of topo.hosts) subjects.push({ id: `${h.name}-leaf`, dnsNames: [h.name, "localhost"], ipAddresses: ["127.0.0.1"] });
    for (const c of spec.clouds) {
      subjects.push({ id: `nack-${c.name}`, dnsNames: [`nack-${c.name}`] });
      subjects.push({ id: `wasmcloud-operator-${c.name}`, dnsNames: [`wasmcloud-operator-${c.name}`] });
      if (planLeaders(spec, topo)) subjects.push({ id: `leader-keeper-${c.name}`, dnsNames: [`leader-keeper-${c.name}`] });
    }
    return new LatticeCredentials(`${name}-credentials`, { spec, subjects }, o);
  }

  /** One NATS release per cluster and cloud; returns each cloud's hub release. */
  private createNatsReleases(
    { name, spec, groups, o }: Ctx,
    sites: Sites,
    nsRes: Record<string, pulumi.Resource[]>,
    creds: LatticeCredentials,
  ): Record<string, HubCluster> {
    const compiled = this.compiled;
    const hubs: Record<string, HubCluster> = {};
    for (const g of groups) {
      const role = g.cluster === g.cloud ? "hub" : g.cluster;
      const hc = new HubCluster(
        `${name}-${g.cloud}-${role}`,
        {
          spec,
          group: g,
          // The values and identity files hold paths, names and tags only (the JWTs are in the auth include).
          values: pulumi.unsecret(
            compiled.apply((cn) => natsHelmValues(spec, g, cn.servers, { storageClassName: sites.sites[g.cloud]!.storageClassName })),
          ),
          identityFiles: pulumi.unsecret(compiled.apply((cn) => natsIdentityFiles(g, cn.servers))),
          authInclude: compiled.apply((cn) => natsAuthInclude(cn.servers.find((s) => s.name === g.servers[0]!.name)!)),
          tls: creds.pem(`${g.release}-${g.cloud}`),
          provider: sites.providers[g.cloud]!,
          // The JetStream volumes bind only once the StorageClass (and its CSI driver) exists.
          dependsOn: [...nsRes[g.cloud]!, sites.sites[g.cloud]!.storage],
        },
        o,
      );
      if (role === "hub") hubs[g.cloud] = hc;
    }
    return hubs;
  }

  /** Wasm per cloud: operator, host pools, node pools, JetStream assets; returns what workloads wait for. */
  private createWasm(
    ctx: Ctx,
    sites: Sites,
    nsRes: Record<string, pulumi.Resource[]>,
    hubs: Record<string, HubCluster>,
    creds: LatticeCredentials,
    exposure: Exposure,
  ): Record<string, WasmDeps> {
    const { name, spec, topo, o } = ctx;
    // Each host pod's leaf sidecar (every pool: wash 2.7 hosts hold no creds), compiled with the same addresses.
    const sidecars = pulumi.secret(
      pulumi
        .all([creds.credentials, exposure.envOptions])
        .apply(([c, env]) =>
          Object.fromEntries(topo.hosts.map((h) => [h.name, hostSidecarText(spec, topo, kubernetesEnv(spec, env), c, h)])),
        ),
    );
    const wasmDeps: Record<string, WasmDeps> = {};
    for (const c of spec.clouds) {
      const p = sites.providers[c.name]!;
      const base = [...nsRes[c.name]!, hubs[c.name]!];
      const deps: Record<"wasmcloud" | "krustlet" | "wasmedge", pulumi.Resource[]> = { wasmcloud: [], krustlet: [], wasmedge: [] };
      wasmDeps[c.name] = deps;
      const needsOperator = c.hostPools.length > 0 || spec.workloads.some((w) => w.runtime === "wasmcloud");
      if (needsOperator) {
        const op = new WasmcloudOperator(
          `${name}-${c.name}-wasmcloud`,
          {
            spec,
            cloud: c.name,
            tls: creds.pem(`wasmcloud-operator-${c.name}`),
            credentials: creds.credentials,
            provider: p,
            dependsOn: base,
          },
          o,
        );
        deps.wasmcloud.push(op.release);
        for (const pool of c.hostPools) {
          new WasmHostPool(
            `${name}-${c.name}-${pool.name}-hosts`,
            {
              spec,
              topology: topo,
              cloud: c.name,
              pool: pool.name,
              leafConfs: sidecars,
              credentials: creds.credentials,
              tls: (h) => creds.pem(`${h.name}-leaf`),
              provider: p,
              dependsOn: [...base, op],
            },
            o,
          );
        }
      }
      createNodePools(ctx, c.name, sites, deps);
      if (jetstreamObjects(spec, c.name).length > 0) {
        new JetStreamAssets(
          `${name}-${c.name}-jetstream`,
          { spec, cloud: c.name, credentials: creds.credentials, tls: creds.pem(`nack-${c.name}`), provider: p, dependsOn: base },
          o,
        );
      }
      if (planLeaders(spec, topo)) {
        const k = { spec, topology: topo, cloud: c.name, serverUrl: hubs[c.name]!.clientUrl, credentials: creds.credentials };
        new LeaderKeeper(`${name}-${c.name}-leaders`, { ...k, tls: creds.pem(`leader-keeper-${c.name}`), provider: p, dependsOn: base }, o);
      }
    }
    return wasmDeps;
  }

  /** What a drill needs to reach each cloud. */
  private publishEndpoints({ spec }: Ctx, sites: Sites, { hubAddresses }: Exposure): void {
    for (const c of spec.clouds) {
      const addr = hubAddresses[c.name]!.apply((a) => a[0]!);
      const p = c.hub.ports;
      this.clouds[c.name] = {
        client: pulumi.interpolate`tls://${addr}:${p.client}`,
        leafnode: pulumi.interpolate`tls://${addr}:${p.leafnode}`,
        gateway: pulumi.interpolate`tls://${addr}:${p.gateway}`,
        kubeconfig: sites.sites[c.name]!.kubeconfig,
      };
    }
  }
}

function gcpProject(name: string, args: LatticeArgs): pulumi.Input<string> {
  if (args.gcpProject === undefined)
    throw new Error(`Lattice ${name}: the spec has a GCP site but no gcpProject was given (set gcp:project)`);
  return args.gcpProject;
}
