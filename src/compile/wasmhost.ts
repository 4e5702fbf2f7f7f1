/**
 * wasmCloud host pods in the clouds: a `wash host` (2.7) container and its NATS leaf-node sidecar. Pure.
 *
 * What wash 2.7 reads (wasmCloud/wasmCloud tag v2.7.0, `crates/wash/src/cli/host.rs`): `--host-group`,
 * `--host-name`, `--environment` (env `WASMCLOUD_HOST_ENVIRONMENT`), `--scheduler-nats-url`/`--data-nats-url` with
 * `-tls-ca`/`-tls-cert`/`-tls-key`/`-tls-first`, `--oci-cache-dir`, `HOME`; it connects with TLS only
 * (`crates/wash-runtime/src/washlet/mod.rs` `connect_nats`: no creds, JWT or nkey), and advertises one label,
 * `hostgroup`. So a host reaches the operator-mode hubs through its pod's sidecar on loopback: the sidecar accepts
 * the host without credentials (it listens on 127.0.0.1 only) and its leaf remote authenticates to the hubs with
 * the host's own leaf user. `connection: direct` pools get the same sidecar in the clouds (a wash host cannot hold
 * creds); `direct` keeps its meaning in the local lattice, whose hosts are latticeform's own processes.
 * Host name and environment follow the runtime-operator chart's host Deployment (`charts/runtime-operator/
 * templates/runtime/deployment.yaml`): `--host-name=$(WASMCLOUD_HOST_IP)` (the operator maps pods to Host objects
 * by that address) and `--environment=$(WASMCLOUD_HOST_ENVIRONMENT)` (the namespace), `fsGroup` for Secret files.
 */
import type { LatticeSpec } from "../model/schema";
import type { HostNode, Topology } from "../model/topology";
import { defaultAccount, workloadsOnHost, type Credentials } from "./credentials";
import { hostGroupOf, HOST_POD_LABEL } from "./hostgroup";
import { CREDS_MOUNT, TLS_MOUNT } from "./k8senv";
import { cloudOf, credsFileName, IMAGES, LABEL, labels, RESTRICTED, secret, WASM_NAMESPACE, type K8sObject } from "./kubernetes";
import { compileLeaf, type CompileEnv } from "./nats";
import { renderConf, type NatsConf } from "./natsconf";

/** uid/gid the wash and nats images run as (both "nonroot" 65532); Secret files are group-readable for it. */
export const HOST_POD_GID = 65532;
/** The local user the sidecar gives every loopback connection (no credentials: wash 2.7 cannot send any). */
export const SIDECAR_USER = "wash";
/** Loopback ports of the sidecar in the pod. */
export const SIDECAR_PORTS = { client: 4222, monitor: 8222 } as const;

/**
 * A probe command (busybox sh, wget and grep of the nats alpine image) that succeeds while the sidecar has at
 * least one leaf connection: nats-server's `/leafz` reports their count as `"leafnodes": N`.
 */
export function leafUpProbe(monitorPort: number): string[] {
  return ["sh", "-c", `wget -q -O - http://127.0.0.1:${monitorPort}/leafz | grep -q '"leafnodes": [1-9]'`];
}
const LEAF_DIR = "/etc/nats-leaf";

export function hostDeploymentName(host: HostNode): string {
  return `wasmcloud-${host.name}`;
}

export function hostSecretNames(host: HostNode): { tls: string; creds: string; leaf: string } {
  const base = hostDeploymentName(host);
  return { tls: `${base}-tls`, creds: `${base}-creds`, leaf: `${base}-leaf` };
}

/**
 * The sidecar's nats-server config: the host's compiled leaf (remote, TLS, pings, server name and tags) with
 * config-mode auth instead of the operator: one local account bound to the hub account through the remote, and
 * `no_auth_user` for loopback clients. Listens on 127.0.0.1 only.
 */
export function hostSidecarConf(spec: LatticeSpec, topo: Topology, env: CompileEnv, creds: Credentials, host: HostNode): NatsConf {
  const leaf = compileLeaf(spec, topo, env, creds, host).conf;
  const { operator: _o, system_account: _s, resolver: _r, resolver_preload: _p, ...rest } = leaf;
  const app = defaultAccount(spec);
  const leafnodes = leaf.leafnodes as { remotes: NatsConf[] } & NatsConf;
  return {
    ...rest,
    listen: `127.0.0.1:${SIDECAR_PORTS.client}`,
    http: `127.0.0.1:${SIDECAR_PORTS.monitor}`,
    accounts: { [app]: { users: [{ user: SIDECAR_USER }], ...washBucketMappings(spec, host) } },
    no_auth_user: SIDECAR_USER,
    leafnodes: { ...leafnodes, remotes: leafnodes.remotes.map((r) => ({ ...r, account: app })) },
  };
}

/**
 * JetStream for wash 2.7 through the sidecar, for each bucket the host's workloads declare. wash has no JetStream
 * domain setting (wasmCloud v2.7.0 crates/wash-runtime/src/plugin/wasi_keyvalue/nats.rs, over async-nats 0.49.1),
 * and behind a leaf node neither `$JS.API.…` nor a bucket's `$KV.<bucket>.…` subjects reach the lattice's
 * JetStream domain (no responders, measured in test/local/washKv.test.ts): the sidecar maps them into the domain,
 * as a domain-aware client would address them (`$JS.<domain>.API.…`, puts as `$JS.<domain>.API.$KV.<bucket>.…`).
 * And wash opens a bucket with `create_key_value` and async-nats' default config (R1, history 1, no placement),
 * which the server refuses for a bucket that exists with the spec's settings ("stream name already in use with a
 * different configuration"): that create is mapped to the bucket's stream info, which async-nats reads as the
 * created stream (an untagged `Response<Info>`), so `open` binds to the bucket as the spec declared it and a
 * workload can neither create nor reconfigure it (the servers answering it are lenient: `jetstreamStrictFor`).
 * Every mapping is exact or on a prefix of its own: nats-server applies the first that matches, in an order the
 * config does not fix (v2.14.2 `accounts.go` `selectMappedSubject`).
 */
export function washBucketMappings(spec: LatticeSpec, host: HostNode): { mappings?: Record<string, string> } {
  const buckets = [...new Set(workloadsOnHost(spec, host).flatMap((w) => (w.kv ? [w.kv] : [])))];
  if (buckets.length === 0) return {};
  const api = "$JS.API";
  const dom = `$JS.${spec.jetstream.domain}.API`;
  const m: Record<string, string> = { [`${api}.INFO`]: `${dom}.INFO` };
  for (const b of buckets) {
    const s = `KV_${b}`;
    m[`${api}.STREAM.CREATE.${s}`] = `${dom}.STREAM.INFO.${s}`;
    for (const exact of [`STREAM.INFO.${s}`, `STREAM.MSG.GET.${s}`, `DIRECT.GET.${s}`]) m[`${api}.${exact}`] = `${dom}.${exact}`;
    for (const prefix of [`DIRECT.GET.${s}`, `CONSUMER.CREATE.${s}`, `CONSUMER.INFO.${s}`, `CONSUMER.DELETE.${s}`])
      m[`${api}.${prefix}.>`] = `${dom}.${prefix}.>`;
    m[`$KV.${b}.>`] = `${dom}.$KV.${b}.>`;
  }
  return { mappings: m };
}

export function hostSidecarText(spec: LatticeSpec, topo: Topology, env: CompileEnv, creds: Credentials, host: HostNode): string {
  return renderConf(
    hostSidecarConf(spec, topo, env, creds, host),
    `${host.name}-leaf: leaf-node sidecar of wasmCloud host ${host.name} (pod loopback; cloud ${host.cloud}, lattice ${spec.name}). Generated by latticeform; do not edit.`,
  );
}

/** Creds Secret of a host pod: the sidecar's leaf user (the host itself holds none). */
export function hostCredsSecret(spec: LatticeSpec, host: HostNode, creds: Credentials): K8sObject {
  const id = `leaf:${host.name}`;
  return secret(hostSecretNames(host).creds, WASM_NAMESPACE, { [credsFileName(spec, id)]: creds.users[id]!.creds });
}

/** The sidecar config as the Secret the pod mounts. */
export function hostLeafSecret(host: HostNode, text: string): K8sObject {
  return secret(hostSecretNames(host).leaf, WASM_NAMESPACE, { "leaf.conf": text });
}

/** A wasmCloud host pod pinned to its zone: the leaf sidecar (a native sidecar, started first) and `wash host`. */
export function hostDeployment(spec: LatticeSpec, host: HostNode): K8sObject {
  const c = cloudOf(spec, host.cloud);
  const pool = c.hostPools.find((p) => p.name === host.pool)!;
  const names = hostSecretNames(host);
  const group = hostGroupOf(host.cloud, host.pool);
  const meta = {
    ...pool.labels,
    ...labels(spec, c, { [LABEL.pool]: host.pool, [LABEL.host]: host.name, "app.kubernetes.io/name": "wasmcloud-host" }),
    [HOST_POD_LABEL]: group,
  };
  const url = `${spec.security.tls.client === false ? "nats" : "tls"}://127.0.0.1:${SIDECAR_PORTS.client}`;
  const natsFlags = (plane: "scheduler" | "data") => [
    `--${plane}-nats-url=${url}`,
    ...(spec.security.tls.client === false
      ? []
      : [
          `--${plane}-nats-tls-ca=${TLS_MOUNT}/ca.crt`,
          `--${plane}-nats-tls-cert=${TLS_MOUNT}/tls.crt`,
          `--${plane}-nats-tls-key=${TLS_MOUNT}/tls.key`,
        ]),
  ];
  const healthz = ["wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${SIDECAR_PORTS.monitor}/healthz`];
  const sidecar = {
    name: "nats-leaf",
    image: IMAGES.nats,
    // A native sidecar (restartPolicy Always in initContainers, Kubernetes 1.29+): running before the host starts.
    restartPolicy: "Always",
    args: ["-c", `${LEAF_DIR}/leaf.conf`],
    // Started once a leaf connection to a hub is up (healthz is green before): wash's first JetStream request
    // then finds the hub's interest across the leaf instead of no responders.
    startupProbe: { exec: { command: leafUpProbe(SIDECAR_PORTS.monitor) }, periodSeconds: 1, failureThreshold: 60 },
    livenessProbe: { exec: { command: healthz }, periodSeconds: 10 },
    volumeMounts: [
      { name: "leaf", mountPath: LEAF_DIR, readOnly: true },
      { name: "tls", mountPath: TLS_MOUNT, readOnly: true },
      { name: "creds", mountPath: CREDS_MOUNT, readOnly: true },
    ],
    securityContext: RESTRICTED,
    resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "256Mi" } },
  };
  const wash = {
    name: "host",
    image: IMAGES.wasmcloudHost,
    args: [
      "host",
      "--host-name=$(WASMCLOUD_HOST_IP)",
      `--host-group=${group}`,
      "--environment=$(WASMCLOUD_HOST_ENVIRONMENT)",
      ...natsFlags("scheduler"),
      ...natsFlags("data"),
      "--oci-cache-dir=/oci-cache",
    ],
    env: [
      { name: "HOME", value: "/tmp" },
      { name: "WASMCLOUD_HOST_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
      { name: "WASMCLOUD_HOST_ENVIRONMENT", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
    ],
    volumeMounts: [
      { name: "oci-cache", mountPath: "/oci-cache" },
      { name: "tmp", mountPath: "/tmp" },
      { name: "tls", mountPath: TLS_MOUNT, readOnly: true },
    ],
    securityContext: RESTRICTED,
    resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { memory: "1Gi" } },
  };
  // Secret files: root-owned, group HOST_POD_GID through fsGroup, mode 0440, so uid 65532 reads them.
  const secretVolume = (name: string, secretName: string) => ({ name, secret: { secretName, defaultMode: 0o440 } });
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: hostDeploymentName(host), namespace: WASM_NAMESPACE, labels: meta },
    spec: {
      replicas: 1,
      strategy: { type: "Recreate" },
      selector: { matchLabels: { [LABEL.host]: host.name } },
      template: {
        metadata: { labels: meta },
        spec: {
          automountServiceAccountToken: false,
          nodeSelector: { [LABEL.zone]: host.zone },
          securityContext: {
            runAsNonRoot: true,
            runAsUser: HOST_POD_GID,
            runAsGroup: HOST_POD_GID,
            fsGroup: HOST_POD_GID,
            seccompProfile: { type: "RuntimeDefault" },
          },
          initContainers: [sidecar],
          containers: [wash],
          volumes: [
            { name: "oci-cache", emptyDir: {} },
            { name: "tmp", emptyDir: {} },
            secretVolume("tls", names.tls),
            secretVolume("creds", names.creds),
            secretVolume("leaf", names.leaf),
          ],
        },
      },
    },
  };
}
