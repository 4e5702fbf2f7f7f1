/**
 * The NATS topology compiler: spec -> one nats-server config per server (hubs, stretched cluster,
 * tie-breaker site) and per Wasm host leaf sidecar. Pure: where things live (addresses, files) comes
 * from a `CompileEnv`, so the Kubernetes path and the local lattice share every rule here.
 */
import type { LatticeSpec, Ports, TlsBlock } from "../model/schema";
import type { ClusterNode, HostNode, ServerNode, Topology } from "../model/topology";
import { defaultAccount, type Credentials } from "./credentials";
import { washBuckets } from "./jetstream";
import { renderConf, sizeToBytes, type ConfValue, type NatsConf } from "./natsconf";

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface TlsFiles {
  readonly cert_file: string;
  readonly key_file: string;
  readonly ca_file: string;
}

/** Where servers live and where their files are: the deployment-specific half of compilation. */
export interface CompileEnv {
  /** Interface every listener binds to. */
  readonly bindHost: string;
  /** Listener ports of a server (distinct per server on one machine; the spec's ports in Kubernetes). */
  ports(server: ServerNode): Ports;
  /** How `from`, a peer in the same cluster, reaches a server's route listener (in-cluster name at home, exposed address across sites). */
  routeAddress(server: ServerNode, from: ServerNode): Endpoint;
  /**
   * How a server, leaf or host at site `from` reaches a cluster's gateway, leafnode or client listeners: in-cluster
   * names when the cluster has servers at that site, the exposed addresses otherwise.
   */
  clusterEndpoints(cluster: ClusterNode, listener: "gateway" | "leafnode" | "client", from: string): Endpoint[];
  /**
   * The address a server advertises for a listener (what peers learn by gossip and reconnect to), or undefined
   * to advertise its own interface address (fine when every peer shares its network).
   */
  advertise?(server: ServerNode, listener: "cluster" | "gateway" | "leafnode"): Endpoint | undefined;
  /** Client and monitoring ports of a host's leaf sidecar. */
  leafPorts(host: HostNode): { client: number; monitor: number };
  storeDir(server: ServerNode): string;
  /** TLS files for a server or leaf (its own certificate, key and the lattice CA). */
  tlsFiles(name: string): TlsFiles;
  credsFile(userId: string): string;
}

export type CompiledKind = ServerNode["role"] | "leaf";

export interface CompiledServer {
  readonly name: string;
  readonly kind: CompiledKind;
  /** NATS cluster (hubs) or the host (leafs). */
  readonly cluster?: string;
  readonly host?: string;
  readonly site: string;
  readonly clientPort: number;
  readonly monitorPort: number;
  readonly conf: NatsConf;
  readonly text: string;
}

function tlsConf(files: TlsFiles, block: TlsBlock | false): ConfValue | undefined {
  if (block === false) return undefined;
  return { ...files, verify: block.verify, timeout: 2 };
}

function url(scheme: string, e: Endpoint): string {
  return `${scheme}://${e.host}:${e.port}`;
}

function authConf(creds: Credentials): NatsConf {
  return {
    operator: creds.operator.jwt,
    system_account: creds.systemAccount,
    resolver: "MEMORY",
    resolver_preload: Object.fromEntries(Object.values(creds.accounts).map((a) => [a.publicKey, a.jwt])),
  };
}

/** Hub URLs for a host: its home cloud first, or interleaved with the other clouds (round robin). */
export function orderedClouds(spec: LatticeSpec, home: string): string[] {
  return [home, ...spec.clouds.map((c) => c.name).filter((c) => c !== home)];
}

export function hubUrlsFor(
  spec: LatticeSpec,
  topo: Topology,
  env: CompileEnv,
  home: string,
  order: "home-first" | "interleaved",
  listener: "leafnode" | "client",
  scheme: string,
): string[] {
  const lists = orderedClouds(spec, home).map((c) =>
    env
      .clusterEndpoints(
        topo.clusters.find((k) => k.name === c)!,
        listener,
        home,
      )
      .map((e) => url(scheme, e)),
  );
  if (order === "home-first") return lists.flat();
  const out: string[] = [];
  const longest = Math.max(...lists.map((l) => l.length));
  for (let i = 0; i < longest; i++) for (const l of lists) if (l[i]) out.push(l[i]!);
  return out;
}

/** The clusters that hold a copy of a bucket: its placement and its mirrors'. */
function bucketClusters(k: LatticeSpec["kv"][number]): string[] {
  return [k.placement.cluster, ...k.mirrors];
}

/**
 * Buckets whose loss would break an objective of zero acknowledged-message loss: the bucket of every workload
 * with `rpoMessages: 0`, with the clusters that hold it (its placement and its mirrors' clouds).
 */
export function rpoZeroBuckets(spec: LatticeSpec): { bucket: string; workloads: string[]; clusters: string[] }[] {
  return spec.kv
    .map((k) => ({
      bucket: k.bucket,
      workloads: spec.workloads.filter((w) => w.kv === k.bucket && w.objectives.rpoMessages === 0).map((w) => w.name),
      clusters: bucketClusters(k),
    }))
    .filter((b) => b.workloads.length > 0);
}

/**
 * `jetstream { sync_interval }` of a server in `cluster`: the spec's setting, else `always` where an RPO-0 bucket
 * (or a mirror of one) lives, since nats-server otherwise fsyncs every 2 minutes and a coordinated crash can lose
 * acknowledged writes (Jepsen, NATS 2.12.1); elsewhere nats-server's default.
 */
export function syncIntervalFor(spec: LatticeSpec, cluster: string): string | undefined {
  if (spec.jetstream.syncInterval) return spec.jetstream.syncInterval;
  return rpoZeroBuckets(spec).some((b) => b.clusters.includes(cluster)) ? "always" : undefined;
}

/**
 * `jetstream { strict: false }` on a server in `cluster` when a wasmCloud workload's bucket lives there: wash 2.7
 * opens a bucket with a stream create whose body is async-nats' default config, which the host's sidecar turns
 * into the bucket's stream info (`washBucketMappings`); a strict server refuses that body's fields for an info
 * request, a lenient one logs a warning and answers (nats-server v2.14.2 `jetstream_api.go` `unmarshalRequest`).
 */
export function jetstreamStrictFor(spec: LatticeSpec, cluster: string): false | undefined {
  const wash = washBuckets(spec);
  return spec.kv.some((k) => wash.has(k.bucket) && bucketClusters(k).includes(cluster)) ? false : undefined;
}

function serverTags(s: { site: string; provider: string; region: string; zone: string }, cluster: string): string[] {
  return [`cloud:${s.site}`, `provider:${s.provider}`, `region:${s.region}`, `az:${s.zone}`, `cluster:${cluster}`];
}

function hostPort(e: Endpoint | undefined): string | undefined {
  return e ? `${e.host}:${e.port}` : undefined;
}

function compileServer(spec: LatticeSpec, topo: Topology, env: CompileEnv, creds: Credentials, s: ServerNode): CompiledServer {
  const tls = spec.security.tls;
  const files = env.tlsFiles(s.name);
  const ports = env.ports(s);
  const cluster = topo.clusters.find((c) => c.name === s.cluster)!;
  const hubCloud = spec.clouds.find((c) => c.name === s.site);
  const js = s.role === "tiebreaker" ? { storage: "1Gi", memory: "256Mi" } : hubCloud!.hub.jetstream;
  const otherClusters = topo.clusters.filter((c) => c.name !== s.cluster);
  const conf: NatsConf = {
    server_name: s.name,
    server_tags: serverTags(s, s.cluster),
    listen: `${env.bindHost}:${ports.client}`,
    http: `${env.bindHost}:${ports.monitor}`,
    // Equal ping settings on hubs and leafs: a leaf that detects a dead hub before the hubs drop the
    // dead gateway's interest hits nats-server's loop-detection penalty (30 s).
    ping_interval: spec.tuning.pingInterval,
    ping_max: spec.tuning.pingMax,
    tls: tlsConf(files, tls.client),
    cluster: {
      name: s.cluster,
      listen: `${env.bindHost}:${ports.cluster}`,
      // A one-server cluster routes to itself: JetStream clustering refuses to start with no routes at all.
      routes: (cluster.servers.length === 1 ? cluster.servers : cluster.servers.filter((o) => o.name !== s.name)).map((o) =>
        url("nats-route", env.routeAddress(o, s)),
      ),
      // Routes of a cluster stretched over sites cross them: peers must learn addresses they can reach.
      advertise: s.role === "hub" ? undefined : hostPort(env.advertise?.(s, "cluster")),
      tls: tlsConf(files, tls.cluster),
      connect_retries: 30,
      compression: s.cluster === spec.stretched?.name ? spec.tuning.compression.stretchedRoutes : spec.tuning.compression.hubRoutes,
    },
    gateway: {
      name: s.cluster,
      listen: `${env.bindHost}:${ports.gateway}`,
      reject_unknown_cluster: true,
      gateways: otherClusters.map((c) => ({
        name: c.name,
        urls: env.clusterEndpoints(c, "gateway", s.site).map((e) => url(tls.gateway === false ? "nats" : "tls", e)),
      })),
      // Gateways gossip every server's gateway URL to other clusters: a pod IP is useless there.
      advertise: hostPort(env.advertise?.(s, "gateway")),
      tls: tlsConf(files, tls.gateway),
      connect_retries: 30,
    },
    leafnodes:
      s.role === "hub"
        ? {
            listen: `${env.bindHost}:${ports.leafnode}`,
            tls: tlsConf(files, tls.leafnode),
            no_advertise: false,
            compression: spec.tuning.compression.leafnodes,
            advertise: hostPort(env.advertise?.(s, "leafnode")),
          }
        : undefined,
    jetstream: {
      store_dir: env.storeDir(s),
      domain: spec.jetstream.domain,
      // Replicas of a stream go to servers with distinct zones (and so distinct sites in the stretched cluster).
      unique_tag: "az",
      max_file_store: sizeToBytes(js.storage),
      max_memory_store: sizeToBytes(js.memory),
      sync_interval: syncIntervalFor(spec, s.cluster),
      strict: jetstreamStrictFor(spec, s.cluster),
    },
    ...authConf(creds),
  };
  return {
    name: s.name,
    kind: s.role,
    cluster: s.cluster,
    site: s.site,
    clientPort: ports.client,
    monitorPort: ports.monitor,
    conf,
    text: renderConf(
      conf,
      `${s.name}: ${s.role} server of cluster ${s.cluster} (lattice ${spec.name}). Generated by latticeform; do not edit.`,
    ),
  };
}

/** The leaf-node sidecar of a Wasm host (the wasmCloud pattern): one remote per account, hub URLs of every cloud. */
export function compileLeaf(spec: LatticeSpec, topo: Topology, env: CompileEnv, creds: Credentials, h: HostNode): CompiledServer {
  const tls = spec.security.tls;
  const files = env.tlsFiles(`${h.name}-leaf`);
  const ports = env.leafPorts(h);
  const cloud = spec.clouds.find((c) => c.name === h.cloud)!;
  const app = defaultAccount(spec);
  const remoteTls = tls.leafnode === false ? undefined : { ...files, timeout: 2 };
  const conf: NatsConf = {
    server_name: `${h.name}-leaf`,
    server_tags: serverTags({ site: h.cloud, provider: cloud.provider, region: cloud.region, zone: h.zone }, `${h.name}-leaf`),
    listen: `${env.bindHost}:${ports.client}`,
    http: `${env.bindHost}:${ports.monitor}`,
    ping_interval: spec.tuning.pingInterval,
    ping_max: spec.tuning.pingMax,
    tls: tlsConf(files, tls.client),
    leafnodes: {
      reconnect: `${spec.tuning.leafReconnectSeconds}s`,
      // One remote for the account: two remotes to the same account trigger loop detection.
      remotes: [
        {
          urls: hubUrlsFor(spec, topo, env, h.cloud, h.remoteOrder, "leafnode", tls.leafnode === false ? "nats-leaf" : "tls"),
          account: creds.accounts[app]!.publicKey,
          credentials: env.credsFile(`leaf:${h.name}`),
          tls: remoteTls,
          dont_randomize: true,
          compression: spec.tuning.compression.leafnodes,
        },
      ],
    },
    ...authConf(creds),
  };
  return {
    name: `${h.name}-leaf`,
    kind: "leaf",
    host: h.name,
    site: h.cloud,
    clientPort: ports.client,
    monitorPort: ports.monitor,
    conf,
    text: renderConf(
      conf,
      `${h.name}-leaf: leaf-node sidecar of Wasm host ${h.name} (cloud ${h.cloud}, lattice ${spec.name}). Generated by latticeform; do not edit.`,
    ),
  };
}

export interface CompiledNats {
  readonly servers: readonly CompiledServer[];
  readonly leafs: readonly CompiledServer[];
}

export function compileNats(spec: LatticeSpec, topo: Topology, env: CompileEnv, creds: Credentials): CompiledNats {
  return {
    servers: topo.servers.map((s) => compileServer(spec, topo, env, creds, s)),
    leafs: topo.hosts.filter((h) => h.connection === "leaf").map((h) => compileLeaf(spec, topo, env, creds, h)),
  };
}
