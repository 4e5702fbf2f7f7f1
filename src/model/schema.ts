/**
 * The lattice spec: the one source of truth. Everything else (NATS configs, Kubernetes objects,
 * Helm values, boot scripts, the local lattice, drills, policies) is compiled from a validated
 * `LatticeSpec`. Shapes are checked here (zod); cross-field rules live in `validate.ts`.
 */
import { z } from "zod";

const NAME_RE = /^[a-z][a-z0-9-]{0,30}[a-z0-9]$|^[a-z]$/;
const STREAM_RE = /^[A-Za-z0-9_-]{1,64}$/;
const ACCOUNT_RE = /^[A-Z][A-Z0-9_]{0,31}$/;

const name = z.string().regex(NAME_RE, {
  message: "invalid name|lower-case letters, digits and '-', starting with a letter, at most 32 characters",
});
const size = z.string().regex(/^[1-9][0-9]*(Mi|Gi|Ti)$/, { message: "invalid size|a size such as 512Mi, 10Gi or 1Ti" });
const duration = z.string().regex(/^[1-9][0-9]*(ms|s|m)$/, { message: "invalid duration|a duration such as 250ms, 1s or 2m" });
const port = z.number().int().min(1).max(65535);

export const PortsSchema = z.strictObject({
  /** Client port. */
  client: port.default(4222),
  /** Cluster route port. */
  cluster: port.default(6222),
  /** Gateway port (joins the clouds into one supercluster). */
  gateway: port.default(7222),
  /** Leaf-node listener port (Wasm hosts connect here). */
  leafnode: port.default(7422),
  /** HTTP monitoring port (/healthz, /varz). */
  monitor: port.default(8222),
});

export const HostPoolSchema = z.strictObject({
  name,
  /** Number of Wasm host processes (pods). */
  hosts: z.number().int().min(1).max(100).default(2),
  /** How hosts reach the lattice: through their own leaf-node sidecar (the wasmCloud pattern) or as a direct client of every hub. */
  connection: z.enum(["leaf", "direct"]).default("leaf"),
  /** Order of hub URLs in the host's remote: home cloud first, or interleaved with the other clouds for faster cloud failover. */
  remoteOrder: z.enum(["home-first", "interleaved"]).default("home-first"),
  /**
   * Extra Kubernetes labels on the pool's host pods. wash 2.x hosts advertise only their host group
   * (`<cloud>-<pool>`), so these are pod labels (network policies, monitoring), not wasmCloud host labels.
   */
  labels: z
    .record(
      z.string().regex(/^[a-z][a-z0-9_.-]{0,62}$/, {
        message: "invalid label name|a label name: lower-case letters, digits, '_', '.', '-', at most 63",
      }),
      z.string().regex(/^(?:[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)?$/, {
        message: "invalid label value|a Kubernetes label value: at most 63 letters, digits, '_', '.', '-', alphanumeric at both ends",
      }),
    )
    .default({}),
  /** Runtime the pool provides. */
  runtime: z.enum(["wasmcloud"]).default("wasmcloud"),
});

export const NodePoolSchema = z.strictObject({
  name,
  /** `krustlet` (unmaintained upstream) or a containerd Wasm shim selected by a RuntimeClass. */
  kind: z.enum(["krustlet", "runtime-class"]),
  /** Wasm runtime of a runtime-class pool. */
  runtime: z.enum(["wasmtime", "wasmedge"]).optional(),
  /** Number of nodes. */
  nodes: z.number().int().min(1).max(100).default(2),
  /** Machine type; defaults per provider (t3.medium / e2-standard-2). */
  machineType: z.string().min(1).optional(),
  /**
   * A Krustlet build the stack's owner vouches for (kind `krustlet` only). Krustlet's last release bootstraps with
   * the `certificates.k8s.io/v1beta1` CSR API, removed in Kubernetes 1.22, so without such a build a Krustlet pool
   * is refused; `kind: runtime-class` is the maintained path.
   */
  krustletBuild: z
    .strictObject({
      /** HTTPS URL of a tarball holding `krustlet-wasi`. */
      url: z.string().regex(/^https:\/\/\S+$/, { message: "invalid URL|an https:// URL" }),
      /** SHA-256 of the tarball (checked at boot). */
      sha256: z.string().regex(/^[0-9a-f]{64}$/, { message: "invalid SHA-256|64 lower-case hex digits" }),
      /** Who vouches that this build joins the clusters latticeform deploys (team or person, recorded in the stack). */
      vouchedBy: z.string().min(3),
    })
    .optional(),
});

export const HubSchema = z.strictObject({
  /** Servers in the cloud's NATS hub cluster: 3 or 5. */
  servers: z.number().int().default(3),
  /** Ports of every hub server. */
  ports: PortsSchema.default(PortsSchema.parse({})),
  /** JetStream settings of the hub. */
  jetstream: z
    .strictObject({
      /** File-store size per server. */
      storage: size.default("10Gi"),
      /** Memory-store size per server. */
      memory: size.default("1Gi"),
      /** JetStream domain; every JetStream server of the supercluster shares the lattice's domain. */
      domain: z.string().optional(),
    })
    .default({ storage: "10Gi", memory: "1Gi" }),
});

export const CloudSchema = z.strictObject({
  /** Cloud name, used in server names, labels and placement. */
  name,
  provider: z.enum(["aws", "gcp"]),
  region: z.string(),
  /** Availability zones; hub servers are spread over them (server_tags az, unique_tag az). */
  zones: z.array(z.string()).min(1),
  hub: HubSchema.default(HubSchema.parse({})),
  hostPools: z.array(HostPoolSchema).default([]),
  nodePools: z.array(NodePoolSchema).default([]),
  /** Use an existing Kubernetes cluster (path to a kubeconfig, read by the Pulumi program) instead of creating one. */
  existingKubeconfig: z.string().optional(),
});

export const TieBreakerSchema = z.strictObject({
  /** Site name. */
  name,
  provider: z.enum(["aws", "gcp"]),
  region: z.string(),
  zones: z.array(z.string()).min(1),
  /** JetStream servers at the site. */
  servers: z.number().int().min(1).max(5).default(1),
  ports: PortsSchema.default(PortsSchema.parse({})),
});

export const StretchedSchema = z.strictObject({
  /** Cluster name of the stretched JetStream cluster. */
  name: name.default("stretch"),
  /** Servers of the stretched cluster in each cloud (the tie-breaker site's servers join it too). */
  serversPerCloud: z.number().int().min(1).max(2).default(1),
});

const subjectString = z.string();

export const PermissionsSchema = z.strictObject({
  publish: z.array(subjectString).default([]),
  subscribe: z.array(subjectString).default([]),
});

export const UserSchema = z.strictObject({
  name,
  permissions: PermissionsSchema.optional(),
});

export const AccountSchema = z.strictObject({
  name: z.string().regex(ACCOUNT_RE, { message: "invalid account name|upper-case letters, digits and '_', starting with a letter" }),
  users: z.array(UserSchema).default([]),
  /** Subjects this account exports (streams or services) to other accounts. */
  exports: z.array(z.strictObject({ subject: subjectString, type: z.enum(["stream", "service"]) })).default([]),
  /** Subjects imported from other accounts. */
  imports: z.array(z.strictObject({ account: z.string(), subject: subjectString, type: z.enum(["stream", "service"]) })).default([]),
});

const tlsBlock = z.strictObject({
  /** Require a client certificate signed by the lattice CA. */
  verify: z.boolean(),
});

export const TlsSchema = z.strictObject({
  client: z.union([tlsBlock, z.literal(false)]).default({ verify: false }),
  cluster: z.union([tlsBlock, z.literal(false)]).default({ verify: true }),
  gateway: z.union([tlsBlock, z.literal(false)]).default({ verify: true }),
  leafnode: z.union([tlsBlock, z.literal(false)]).default({ verify: true }),
});

export const SecuritySchema = z.strictObject({
  /** TLS on every NATS port; turning a port's block off is then an error. */
  requireTls: z.boolean().default(true),
  tls: TlsSchema.default(TlsSchema.parse({})),
  /** `operator`: decentralized JWT auth (operator, accounts, users signed with nkeys). Plain nkey users in the config are not supported yet. */
  auth: z.enum(["operator"]).default("operator"),
  systemAccount: z.string().regex(ACCOUNT_RE).default("SYS"),
  accounts: z.array(AccountSchema).default([{ name: "APP", users: [], exports: [], imports: [] }]),
});

const placement = z.strictObject({
  /** Cloud (or the stretched cluster's name, or the tie-breaker site) holding the replicas. */
  cluster: z.string(),
  /** Extra server tags the replicas must carry. */
  tags: z.array(z.string()).default([]),
});

export const StreamSchema = z.strictObject({
  name: z.string().regex(STREAM_RE, { message: "invalid stream name|letters, digits, '_' and '-', at most 64" }),
  subjects: z.array(subjectString).min(1),
  replicas: z.number().int().min(1).default(3),
  placement,
  /** Clouds that keep an asynchronous mirror (loss on a cloud outage is up to the mirror's lag). */
  mirrors: z.array(z.string()).default([]),
  account: z.string().optional(),
  storage: z.enum(["file", "memory"]).default("file"),
  maxAge: duration.optional(),
  /** De-duplication window for `Nats-Msg-Id`. */
  duplicateWindow: duration.default("2m"),
});

export const KvSchema = z.strictObject({
  bucket: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, { message: "invalid bucket name|letters, digits, '_' and '-'" }),
  replicas: z.number().int().min(1).default(3),
  placement,
  mirrors: z.array(z.string()).default([]),
  account: z.string().optional(),
  history: z.number().int().min(1).max(64).default(1),
});

export const WorkloadSchema = z.strictObject({
  name,
  /** The Wasm artifact: a local `.wasm` file (relative to the repo) or an OCI reference. */
  artifact: z.union([
    z.strictObject({ path: z.string().regex(/\.wasm$/, { message: "invalid artifact path|a path ending in .wasm" }) }),
    z.strictObject({ oci: z.string().min(3) }),
  ]),
  runtime: z.enum(["wasmcloud", "wasmedge", "krustlet"]).default("wasmcloud"),
  /** NATS subject the workload serves (request/reply, queue group). */
  subject: subjectString,
  account: z.string().optional(),
  /** Instances per cloud. */
  instances: z.record(z.string(), z.number().int().min(0).max(1000)).optional(),
  /** Or a total spread over clouds by weight. */
  spread: z.strictObject({ total: z.number().int().min(1).max(10000), weights: z.record(z.string(), z.number().int().min(0)) }).optional(),
  failover: z
    .discriminatedUnion("mode", [
      z.strictObject({ mode: z.literal("active-active") }),
      z.strictObject({
        mode: z.literal("active-passive"),
        primary: z.string(),
        /** Instances kept running in each standby cloud. */
        warmStandby: z.number().int().min(0).default(1),
      }),
    ])
    .default({ mode: "active-active" }),
  objectives: z
    .strictObject({
      /** Recovery time objective, seconds. */
      rtoSeconds: z.number().positive().default(5),
      /** Acknowledged messages that may be lost (RPO). */
      rpoMessages: z.number().int().min(0).default(0),
    })
    .default({ rtoSeconds: 5, rpoMessages: 0 }),
  /** KV bucket the workload may use through the host's key-value capability. */
  kv: z.string().optional(),
  /** Sandbox limits per request. */
  limits: z
    .strictObject({
      memoryMiB: z.number().int().min(1).max(4096).default(16),
      timeoutMs: z.number().int().min(1).max(60000).default(1000),
    })
    .default({ memoryMiB: 16, timeoutMs: 1000 }),
});

const site = z.string().min(1);
const faultDuration = z.number().positive().max(600);
/** One fault of a drill. Durations are how long a freeze, partition or delay lasts before it is healed. */
export const DrillFaultSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("cloud-outage"), cloud: site }),
  z.strictObject({
    kind: z.literal("hub-node-loss"),
    cloud: site,
    /** A server of that cloud, or the leader of a stream placed there. */
    server: z.string().min(1).default("stream-leader"),
  }),
  z.strictObject({ kind: z.literal("host-crash"), cloud: site, host: z.string().min(1).optional() }),
  z.strictObject({
    kind: z.literal("blackhole"),
    cloud: site,
    /** Freeze one server only; default: every process of the site. */
    server: z.string().min(1).optional(),
    durationSeconds: faultDuration.default(5),
  }),
  z.strictObject({ kind: z.literal("partition"), between: z.tuple([site, site]), durationSeconds: faultDuration.default(5) }),
  z.strictObject({
    kind: z.literal("latency"),
    between: z.tuple([site, site]),
    delayMs: z.number().int().min(1).max(5000).default(100),
    durationSeconds: faultDuration.default(5),
  }),
]);

/** A failover drill declared next to the lattice; one with a built-in scenario's id replaces it. */
export const DrillSchema = z.strictObject({
  id: name,
  /** Title in the evidence pack; default: the id. */
  name: z.string().min(1).max(120).optional(),
  /** What is expected to hold, in words a reviewer can judge. */
  hypothesis: z.string().min(20),
  faults: z.array(DrillFaultSchema).min(1),
  /** Steady-state probes: requests per workload per client cloud, and JetStream publishes with acknowledgements. */
  load: z
    .strictObject({
      rateHz: z.number().int().min(1).max(1000).default(50),
      requestTimeoutMs: z.number().int().min(10).max(10000).default(250),
      streams: z.boolean().default(true),
      /** Fewest requests after the fault, per workload and client cloud, for recovery to count as measured. */
      minSamplesAfterFault: z.number().int().min(1).max(100000).default(20),
    })
    .default({ rateHz: 50, requestTimeoutMs: 250, streams: true, minSamplesAfterFault: 20 }),
  steadyState: z
    .strictObject({
      /** Load before the first fault (a cold lattice warms: pools grow, code is compiled); then until the window holds. */
      warmupSeconds: z.number().positive().max(300).default(5),
      /** Success must hold this long to count as recovered. */
      windowSeconds: z.number().positive().max(60).default(1),
    })
    .default({ warmupSeconds: 5, windowSeconds: 1 }),
  /** Longest wait for recovery after the fault. */
  observeSeconds: z.number().positive().max(3600).default(30),
  stopConditions: z
    .strictObject({
      /** Abort and restore when a workload is down longer than this many times its recovery objective. */
      downFactor: z.number().min(1).max(100).default(3),
    })
    .default({ downFactor: 3 }),
  /** Objectives judged by this drill, per workload; default: the workload's own. */
  objectives: z
    .record(z.string(), z.strictObject({ rtoSeconds: z.number().positive().optional(), rpoMessages: z.number().int().min(0).optional() }))
    .default({}),
  repetitions: z.number().int().min(1).max(20).default(1),
});

/** nats-server's compression modes (server/opts.go `parseCompression`, 2.10+). */
export const COMPRESSION_MODES = ["off", "accept", "s2_fast", "s2_better", "s2_best", "s2_auto"] as const;
const compressionMode = z.enum(COMPRESSION_MODES);

export const TuningSchema = z.strictObject({
  /** Ping interval on hubs and leafs (kept equal to avoid the loop-detection penalty). */
  pingInterval: duration.default("1s"),
  pingMax: z.number().int().min(1).max(10).default(2),
  /** Seconds a leaf waits before reconnecting (emitted as a duration, `leafnodes { reconnect }`). */
  leafReconnectSeconds: z.number().int().min(1).max(60).default(1),
  /**
   * S2 compression per connection kind (nats-server 2.10+; gateways have none). `s2_auto` compresses only
   * links with an RTT above 10 ms (cross-region), so it costs nothing on links inside one region.
   */
  compression: z
    .strictObject({
      /** Leaf connections (host sidecars to hubs): both the hubs' listener and the sidecars' remotes. */
      leafnodes: compressionMode.default("s2_auto"),
      /** Routes of the stretched cluster, which cross clouds. */
      stretchedRoutes: compressionMode.default("s2_auto"),
      /** Routes inside one cloud's hub (one region): `accept` compresses only when the peer asks. */
      hubRoutes: compressionMode.default("accept"),
    })
    .default({ leafnodes: "s2_auto", stretchedRoutes: "s2_auto", hubRoutes: "accept" }),
});

const cidr = z.string().regex(/^(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}\/([0-9]|[12][0-9]|3[0-2])$/, {
  message: "invalid CIDR|an IPv4 range such as 203.0.113.0/24",
});

/**
 * Who may reach what, besides the lattice's own sites (which always reach each other's NATS load balancers).
 * Two lists because their consumers accept different ranges (checked in `access.ts`).
 */
export const AccessSchema = z.strictObject({
  /** Kubernetes API endpoints of the clusters latticeform creates (where `pulumi up` and drills talk to Kubernetes). */
  api: z
    .strictObject({
      /**
       * `private`: the endpoints are reachable only inside each cloud's network and from `cidrs`, which must be private
       * ranges (a VPN or peered network the deployer runs in). `public`: a public endpoint restricted to `cidrs`,
       * which must be public ranges.
       */
      endpoint: z.enum(["private", "public"]).default("private"),
      cidrs: z.array(cidr).default([]),
    })
    .default({ endpoint: "private", cidrs: [] }),
  /** Public ranges allowed to the NATS load balancers (operators running drills against the clouds). */
  natsCidrs: z.array(cidr).default([]),
});

export const LocalSchema = z.strictObject({
  /** First loopback port of the local lattice; each server takes a block of 5 ports from here. */
  basePort: z.number().int().min(1024).max(60000).optional(),
});

export const LatticeSchema = z.strictObject({
  /** Lattice name (wasmCloud lattice id). */
  name,
  clouds: z.array(CloudSchema).min(1),
  tieBreaker: TieBreakerSchema.optional(),
  stretched: StretchedSchema.optional(),
  jetstream: z
    .strictObject({
      domain: z
        .string()
        .regex(/^[A-Za-z0-9_-]+$/)
        .default("hub"),
      /**
       * How often JetStream servers fsync (`jetstream { sync_interval }`): `always` (every write, before the
       * acknowledgement) or a duration. Default: `always` on every server holding an RPO-0 bucket or a mirror of
       * one, nats-server's own 2 minutes elsewhere. Set here, it applies to every server.
       */
      syncInterval: z.union([z.literal("always"), duration]).optional(),
      /**
       * Raft leaders kept at one site, so losing a cloud takes no leader and costs no election (4-9 s): a
       * leader keeper asks for a stepdown with that placement whenever an election put a leader elsewhere.
       */
      leaders: z
        .strictObject({
          /** Keep leaders at `site`. */
          keep: z.boolean().default(true),
          /** Site whose servers lead; default: the tie-breaker site. Streams, buckets and mirrors with a replica there are kept. */
          site: name.optional(),
          /** Keep the JetStream meta leader there too (stream and consumer creation survives a cloud loss without an election). */
          meta: z.boolean().default(true),
        })
        .default({ keep: true, meta: true }),
    })
    .default({ domain: "hub", leaders: { keep: true, meta: true } }),
  security: SecuritySchema.default(SecuritySchema.parse({})),
  streams: z.array(StreamSchema).default([]),
  kv: z.array(KvSchema).default([]),
  workloads: z.array(WorkloadSchema).default([]),
  tuning: TuningSchema.default(TuningSchema.parse({})),
  local: LocalSchema.default({}),
  /** Admin access: Kubernetes API endpoints and the NATS load balancers. */
  access: AccessSchema.default({ api: { endpoint: "private", cidrs: [] }, natsCidrs: [] }),
  /** Failover drills declared next to the lattice (the built-in scenarios apply too). */
  drills: z.array(DrillSchema).default([]),
  /** Tags every cloud resource carries (the policy pack requires owner and data-classification). */
  tags: z.record(z.string(), z.string()).default({}),
});

export type LatticeSpec = z.infer<typeof LatticeSchema>;
export type LatticeInput = z.input<typeof LatticeSchema>;
export type Cloud = z.infer<typeof CloudSchema>;
export type HostPool = z.infer<typeof HostPoolSchema>;
export type NodePool = z.infer<typeof NodePoolSchema>;
export type Stream = z.infer<typeof StreamSchema>;
export type KvBucket = z.infer<typeof KvSchema>;
export type Workload = z.infer<typeof WorkloadSchema>;
export type Account = z.infer<typeof AccountSchema>;
export type Ports = z.infer<typeof PortsSchema>;
export type Drill = z.infer<typeof DrillSchema>;
export type DrillFault = z.infer<typeof DrillFaultSchema>;
export type TlsBlock = z.infer<typeof tlsBlock>;
export type Access = z.infer<typeof AccessSchema>;
