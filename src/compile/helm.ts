/**
 * Helm values for the official NATS chart (nats-io/k8s `helm/charts/nats`) and the wasmCloud runtime-operator
 * chart, derived from the compiled nats-server configs (`compileNats` with `kubernetesEnv`): the compiler owns
 * every rule, this file only maps its output onto the chart's values. Pure.
 *
 * One release per (cluster, cloud): a StatefulSet whose pod `<release>-<i>` is the i-th compiled server of
 * that cluster in that cloud. What the chart shares across pods comes from the values (each block's `merge`);
 * what differs per pod (server_name, server_tags) comes from an identity file an init container picks by pod
 * name, and the auth block (operator and account JWTs) from a Secret: the values themselves hold no key material.
 */
import type { LatticeSpec } from "../model/schema";
import type { ServerNode, Topology } from "../model/topology";
import { CREDS_MOUNT, JS_STORE, NATS_NAMESPACE, releaseName, TLS_MOUNT } from "./k8senv";
import type { CompiledServer } from "./nats";
import { renderConf, type ConfValue, type NatsConf } from "./natsconf";
import { NATS_SERVER_VERSION } from "../tools/pins";

export const NATS_CHART = { chart: "nats", version: "2.14.2", repo: "https://nats-io.github.io/k8s/helm/charts/" } as const;
/** The server image every NATS pod runs: the lattice's one pinned nats-server (`src/tools/pins.json`), not the chart's default. */
export const NATS_IMAGE = { repository: "nats", tag: `${NATS_SERVER_VERSION}-alpine` } as const;
export const NACK_CHART = { chart: "nack", version: "0.34.0", repo: "https://nats-io.github.io/k8s/helm/charts/" } as const;
/** Where the runtime-operator chart mounts `global.certificates.operatorCertSecretName`, and the creds key in it. */
export const WASMCLOUD_OPERATOR_CERT_DIR = "/operator-cert";
export const WASMCLOUD_OPERATOR_CREDS_KEY = "nats.creds";
export const WASMCLOUD_OPERATOR_CHART = { chart: "oci://ghcr.io/wasmcloud/charts/runtime-operator", version: "2.7.0" } as const;
/** Config dir of the chart (the include paths below are relative to it). */
export const CHART_CONFIG_DIR = "/etc/nats-config";
export const AUTH_DIR = "/etc/nats-auth";
export const IDENTITY_DIR = "/etc/nats-identity";
export const IDENTITIES_DIR = "/etc/nats-identities";
export const AUTH_FILE = "auth.conf";
export const IDENTITY_FILE = "identity.conf";
/** Official kubectl image (bash, sed; kubernetes/kubernetes `build/server-image/kubectl/Dockerfile`) of the zone init container. */
export const KUBECTL_IMAGE = "registry.k8s.io/kubectl:v1.33.0";

/**
 * Shell of the `zone` init container: replace the `az:` server tag of the pod's identity file with the zone of the
 * node the pod was scheduled on (its `topology.kubernetes.io/zone` label). The StatefulSet spreads pods over zones,
 * but which ordinal lands where is the scheduler's choice, so the zone cannot be compiled in; `unique_tag: az`
 * places replicas by this tag. Fails (and the pod restarts) rather than start with a wrong or empty zone.
 */
export function zoneTagScript(identityFile: string): string {
  return [
    "set -euo pipefail",
    `zone="$(kubectl get node "$NODE_NAME" --cache-dir=/tmp/kube-cache -o jsonpath='{.metadata.labels.topology\\.kubernetes\\.io/zone}')"`,
    `case "$zone" in ""|*[!A-Za-z0-9-]*) echo "node $NODE_NAME has no usable topology.kubernetes.io/zone label: '$zone'" >&2; exit 1;; esac`,
    `sed -i -E 's/"az:[^"]*"/"az:'"$zone"'"/' ${identityFile}`,
    `grep -qF '"az:'"$zone"'"' ${identityFile}`,
  ].join("\n");
}

/** The servers of one cluster that run in one cloud: one Helm release there. */
export interface NatsReleaseGroup {
  /** Helm release (and StatefulSet) name. */
  readonly release: string;
  readonly cluster: string;
  /** Cloud whose Kubernetes cluster runs the release. */
  readonly cloud: string;
  /** Pod `<release>-<i>` runs `servers[i]`. */
  readonly servers: readonly ServerNode[];
}

/** Release groups per cloud: the hub, and the cloud's members of the stretched cluster. Tie-breaker servers run on VMs. */
export function natsReleaseGroups(spec: LatticeSpec, topo: Topology): NatsReleaseGroup[] {
  const clouds = new Set(spec.clouds.map((c) => c.name));
  const out: NatsReleaseGroup[] = [];
  for (const cluster of topo.clusters) {
    for (const cloud of spec.clouds.map((c) => c.name)) {
      const servers = cluster.servers.filter((s) => s.site === cloud && clouds.has(s.site));
      if (servers.length) out.push({ release: releaseName(cluster.name), cluster: cluster.name, cloud, servers });
    }
  }
  return out;
}

/** Name of a release's pod `i` (StatefulSet ordinal). */
export function podName(release: string, i: number): string {
  return `${release}-${i}`;
}

export interface NatsSecretNames {
  readonly tls: string;
  readonly auth: string;
  readonly identity: string;
}

export function natsSecretNames(release: string): NatsSecretNames {
  return { tls: `${release}-tls`, auth: `${release}-auth`, identity: `${release}-identity` };
}

function portOf(listen: ConfValue | undefined): number {
  const m = /:([0-9]+)$/.exec(String(listen));
  if (!m) throw new Error(`compiled listen address without a port: ${String(listen)}`);
  return Number(m[1]);
}

function block(conf: NatsConf, key: string): NatsConf | undefined {
  return conf[key] as NatsConf | undefined;
}

/** A block as merged into the chart's values: its `advertise` points at the pod's identity variable. */
function perPod(b: NatsConf, key: keyof typeof ADVERTISED): NatsConf {
  return b.advertise === undefined ? b : { ...b, advertise: `<< $${ADVERTISED[key]} >>` };
}

/** Keys of the compiled config that live in the auth Secret rather than the values. */
const AUTH_KEYS = ["operator", "system_account", "resolver", "resolver_preload"] as const;
/** Keys that differ per server and live in the identity file. */
const IDENTITY_KEYS = ["server_name", "server_tags"] as const;
/** Blocks whose `advertise` differs per server (a stretched member's own address): an identity variable each. */
const ADVERTISED = { cluster: "LF_CLUSTER_ADVERTISE", gateway: "LF_GATEWAY_ADVERTISE", leafnodes: "LF_LEAFNODE_ADVERTISE" } as const;

/** The auth include (operator JWT, resolver preload with the account JWTs): the same on every server. Secret. */
export function natsAuthInclude(compiled: CompiledServer): string {
  const conf: NatsConf = {};
  for (const k of AUTH_KEYS) conf[k] = compiled.conf[k];
  return renderConf(conf, `auth of ${compiled.cluster ?? compiled.name}. Generated by latticeform; do not edit.`);
}

/** Per-pod identity files, keyed by pod name: nats-server variables read by the chart config. */
export function natsIdentityFiles(group: NatsReleaseGroup, compiled: readonly CompiledServer[]): Record<string, string> {
  const out: Record<string, string> = {};
  group.servers.forEach((s, i) => {
    const c = compiled.find((x) => x.name === s.name);
    if (!c) throw new Error(`no compiled config for server ${s.name}`);
    const vars: NatsConf = { LF_SERVER_NAME: c.conf.server_name, LF_SERVER_TAGS: c.conf.server_tags };
    for (const [b, v] of Object.entries(ADVERTISED)) {
      const adv = block(c.conf, b)?.advertise;
      if (adv !== undefined) vars[v] = adv;
    }
    out[`${podName(group.release, i)}.conf`] = renderConf(vars);
  });
  return out;
}

/**
 * The NATS chart values of one release group. `compiled` holds the compiled configs of (at least) the group's
 * servers. Per-server differences other than the identity (routes skip the server itself) are merged into
 * their union: a route to oneself is ignored by nats-server.
 */
export function natsHelmValues(
  spec: LatticeSpec,
  group: NatsReleaseGroup,
  compiled: readonly CompiledServer[],
  /** The JetStream volumes' StorageClass: explicit, never the cluster default (EKS 1.30+ has none). */
  opts: { storageClassName: string },
): Record<string, unknown> {
  const confs = group.servers.map((s) => {
    const c = compiled.find((x) => x.name === s.name);
    if (!c) throw new Error(`no compiled config for server ${s.name}`);
    return c.conf;
  });
  const first = confs[0]!;
  const names = natsSecretNames(group.release);
  const cloud = spec.clouds.find((c) => c.name === group.cloud)!;
  const cluster = block(first, "cluster")!;
  const gateway = block(first, "gateway")!;
  const leafnodes = block(first, "leafnodes");
  const jetstream = block(first, "jetstream")!;
  const routes = [...new Set(confs.flatMap((c) => (block(c, "cluster")!.routes as string[]) ?? []))];
  const shared: NatsConf = {};
  for (const [k, v] of Object.entries(first)) {
    if (v === undefined || (AUTH_KEYS as readonly string[]).includes(k) || (IDENTITY_KEYS as readonly string[]).includes(k)) continue;
    if (["listen", "http", "tls", "cluster", "gateway", "leafnodes", "jetstream"].includes(k)) continue;
    shared[k] = v;
  }
  const tls = first.tls as NatsConf | undefined;
  return {
    fullnameOverride: group.release,
    namespaceOverride: NATS_NAMESPACE,
    config: {
      serverNamePrefix: "",
      nats: {
        port: portOf(first.listen),
        // The TLS Secret (tls.crt, tls.key, ca.crt) is mounted once, at the directory the compiler names.
        tls: { enabled: true, secretName: names.tls, dir: TLS_MOUNT, ...(tls ? { merge: tls } : {}) },
      },
      cluster: {
        enabled: true,
        port: portOf(cluster.listen),
        replicas: group.servers.length,
        noAdvertise: true,
        merge: { ...perPod(cluster, "cluster"), routes },
      },
      gateway: { enabled: true, port: portOf(gateway.listen), merge: perPod(gateway, "gateway") },
      leafnodes: leafnodes ? { enabled: true, port: portOf(leafnodes.listen), merge: perPod(leafnodes, "leafnodes") } : { enabled: false },
      monitor: { enabled: true, port: portOf(first.http) },
      jetstream: {
        enabled: true,
        fileStore: {
          enabled: true,
          dir: String(jetstream.store_dir ?? JS_STORE),
          pvc: {
            enabled: true,
            size: cloud.hub.jetstream.storage,
            storageClassName: opts.storageClassName,
          },
        },
        memoryStore: { enabled: true, maxSize: cloud.hub.jetstream.memory },
        merge: jetstream,
      },
      resolver: { enabled: false },
      merge: {
        // The chart renders keys sorted: these come before every block that uses their variables
        // (nats-server resolves a variable from what it has parsed so far).
        "0-auth$include": `../${AUTH_DIR.split("/").pop()}/${AUTH_FILE}`,
        "0-identity$include": `../${IDENTITY_DIR.split("/").pop()}/${IDENTITY_FILE}`,
        server_name: "<< $LF_SERVER_NAME >>",
        server_tags: "<< $LF_SERVER_TAGS >>",
        ...shared,
      },
    },
    container: {
      image: { ...NATS_IMAGE },
      patch: [
        { op: "add", path: "/volumeMounts/-", value: { name: "nats-auth", mountPath: AUTH_DIR, readOnly: true } },
        { op: "add", path: "/volumeMounts/-", value: { name: "nats-identity", mountPath: IDENTITY_DIR, readOnly: true } },
      ],
    },
    podTemplate: {
      topologySpreadConstraints: { "topology.kubernetes.io/zone": { maxSkew: 1, whenUnsatisfiable: "DoNotSchedule" } },
      patch: [
        { op: "add", path: "/spec/volumes/-", value: { name: "nats-auth", secret: { secretName: names.auth, defaultMode: 0o400 } } },
        { op: "add", path: "/spec/volumes/-", value: { name: "nats-identities", configMap: { name: names.identity } } },
        { op: "add", path: "/spec/volumes/-", value: { name: "nats-identity", emptyDir: {} } },
        { op: "add", path: "/spec/volumes/-", value: { name: "zone-tmp", emptyDir: {} } },
        {
          op: "add",
          path: "/spec/initContainers",
          value: [
            {
              name: "identity",
              image: `${NATS_IMAGE.repository}:${NATS_IMAGE.tag}`,
              command: ["sh", "-c", `cp ${IDENTITIES_DIR}/$(POD_NAME).conf ${IDENTITY_DIR}/${IDENTITY_FILE}`],
              env: [{ name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
              volumeMounts: [
                { name: "nats-identities", mountPath: IDENTITIES_DIR, readOnly: true },
                { name: "nats-identity", mountPath: IDENTITY_DIR },
              ],
            },
            {
              name: "zone",
              image: KUBECTL_IMAGE,
              command: ["bash", "-c", zoneTagScript(`${IDENTITY_DIR}/${IDENTITY_FILE}`)],
              env: [{ name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }],
              volumeMounts: [
                { name: "nats-identity", mountPath: IDENTITY_DIR },
                { name: "zone-tmp", mountPath: "/tmp" },
              ],
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                runAsUser: 65532,
                capabilities: { drop: ["ALL"] },
              },
            },
          ],
        },
      ],
    },
    // Its own service account: the zone init container may read nodes (natsNodeReader), nothing else.
    serviceAccount: { enabled: true },
    // The chart's ClusterIP service carries client and leafnode ports in-cluster; the load balancer is ours.
    service: { enabled: true },
    natsBox: { enabled: false },
    podDisruptionBudget: { enabled: true },
  };
}

/** Secret (ca.crt, tls.crt, tls.key) the runtime-operator presents to NATS: issued from the lattice CA by latticeform. */
export const WASMCLOUD_OPERATOR_TLS_SECRET = "wasmcloud-operator-tls";

/**
 * Values of the wasmCloud runtime-operator chart: no bundled NATS, the cloud's hub as scheduler and data plane,
 * TLS with the lattice CA (not the chart's generated one, which the hub would not trust).
 */
export function wasmcloudOperatorValues(spec: LatticeSpec, cloud: string): Record<string, unknown> {
  const c = spec.clouds.find((x) => x.name === cloud)!;
  const url = `tls://${releaseName(cloud)}.${NATS_NAMESPACE}.svc.cluster.local:${c.hub.ports.client}`;
  return {
    global: {
      nats: { schedulerUrl: url, dataUrl: url },
      tls: { enabled: true },
      certificates: { generate: false, operatorCertSecretName: WASMCLOUD_OPERATOR_TLS_SECRET },
    },
    nats: { enabled: false },
    // The hub runs in operator (JWT) mode, where a client certificate alone authenticates no one: the
    // operator also presents its user creds, mounted with its certificate (the chart mounts that secret).
    operator: { enabled: true, extraArgs: [`-nats-creds=${WASMCLOUD_OPERATOR_CERT_DIR}/${WASMCLOUD_OPERATOR_CREDS_KEY}`] },
    gateway: { enabled: false },
    // Hosts run as latticeform's own pods with a per-host leaf sidecar (the compiled leaf config).
    runtime: { hostGroups: [] },
  };
}

/** Values of the NATS JetStream controller (NACK): CRDs for streams and KV buckets, TLS + creds to the home hub. */
export function nackValues(spec: LatticeSpec, cloud: string, credsSecret: string, tlsSecret: string): Record<string, unknown> {
  const c = spec.clouds.find((x) => x.name === cloud)!;
  return {
    jetstream: {
      nats: { url: `tls://${releaseName(cloud)}.${NATS_NAMESPACE}.svc.cluster.local:${c.hub.ports.client}` },
      tls: { enabled: true, secretName: tlsSecret },
      additionalArgs: [`--creds=${CREDS_MOUNT}/nack.creds`],
    },
    additionalVolumes: [{ name: "nack-creds", secret: { secretName: credsSecret, defaultMode: 0o400 } }],
    additionalVolumeMounts: [{ name: "nack-creds", mountPath: CREDS_MOUNT, readOnly: true }],
    namespaced: false,
  };
}
