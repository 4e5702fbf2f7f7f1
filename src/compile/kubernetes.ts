/**
 * Kubernetes objects of a lattice, per cloud: namespaces, the NATS load balancers, Secrets and ConfigMaps the
 * NATS releases mount, Wasm host pods (wasmCloud host + compiled leaf sidecar), RuntimeClasses and shim
 * installers, workloads on each runtime, and the JetStream controller's Stream / KeyValue objects. Pure: the
 * Pulumi components create exactly these objects, `latticeform render` writes them, tests validate them.
 */
import type { Cloud, LatticeSpec, NodePool, Workload } from "../model/schema";
import { instancesPerCloud } from "../model/topology";
import { durationNs } from "./jetstream";
import { CREDS_MOUNT, kubernetesEnv, NATS_NAMESPACE, releaseName } from "./k8senv";
import { NATS_CHART, natsSecretNames, podName, type NatsReleaseGroup } from "./helm";
import { artifactRef, workloadDeployments, type ComponentFacts } from "./workloadDeployment";

export { artifactRef } from "./workloadDeployment";

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** A Kubernetes object as applied (apiVersion, kind, metadata and the kind's own fields). */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export const WASM_NAMESPACE = "wasm";
export const LABEL = {
  lattice: "latticeform.io/lattice",
  cloud: "latticeform.io/cloud",
  region: "latticeform.io/region",
  pool: "latticeform.io/pool",
  host: "latticeform.io/host",
  workload: "latticeform.io/workload",
  runtime: "latticeform.io/wasm-runtime",
  zone: "topology.kubernetes.io/zone",
} as const;
/** Krustlet nodes' architecture label and taint (Krustlet's own convention). */
export const WASM_ARCH = { key: "kubernetes.io/arch", value: "wasm32-wasi" } as const;
export const KRUSTLET_TAINTS = [
  { key: WASM_ARCH.key, value: WASM_ARCH.value, effect: "NoExecute" },
  { key: WASM_ARCH.key, value: WASM_ARCH.value, effect: "NoSchedule" },
] as const;
export const KRUSTLET_TOLERATIONS = [
  ...KRUSTLET_TAINTS.map((t) => ({ key: t.key, operator: "Equal", value: t.value, effect: t.effect })),
  { key: "node.kubernetes.io/network-unavailable", operator: "Exists", effect: "NoSchedule" },
];
/** Taint of runtime-class nodes: only pods of the RuntimeClass (which carries the toleration) land there. */
export function runtimeTaint(runtime: string): { key: string; value: string; effect: "NoSchedule" } {
  return { key: LABEL.runtime, value: runtime, effect: "NoSchedule" };
}

export const IMAGES = {
  wasmcloudHost: "ghcr.io/wasmcloud/wash:2.7.0",
  nats: `nats:${NATS_CHART.version}-alpine`,
  shimInstaller: "debian:bookworm-slim",
} as const;

/** Container security context of the restricted Pod Security profile (uid 65532: the images' nonroot user). */
export const RESTRICTED = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  runAsUser: 65532,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
};

/** Labels of every object of a cloud. */
export function labels(spec: LatticeSpec, cloud: Cloud, extra: Record<string, string> = {}): Record<string, string> {
  return {
    "app.kubernetes.io/managed-by": "latticeform",
    [LABEL.lattice]: spec.name,
    [LABEL.cloud]: cloud.name,
    [LABEL.region]: cloud.region,
    ...extra,
  };
}

export function cloudOf(spec: LatticeSpec, name: string): Cloud {
  const c = spec.clouds.find((x) => x.name === name);
  if (!c) throw new Error(`no cloud named ${name}`);
  return c;
}

export function namespaces(spec: LatticeSpec, cloud: string): K8sObject[] {
  const c = cloudOf(spec, cloud);
  return [NATS_NAMESPACE, WASM_NAMESPACE].map((name) => ({
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name,
      labels: {
        ...labels(spec, c),
        // The shim installer needs privileged pods, in kube-system; everything of ours runs restricted-compatible.
        "pod-security.kubernetes.io/enforce": "baseline",
      },
    },
  }));
}

/**
 * Cloud-specific annotations of a public L4 load balancer that only the other sites may reach: an NLB from the
 * in-tree AWS cloud provider (no extra controller to install; `loadBalancerSourceRanges` become node security
 * group rules), a backend-service-based passthrough load balancer on GKE.
 */
function lbAnnotations(provider: "aws" | "gcp"): Record<string, string> {
  return provider === "aws" ? { "service.beta.kubernetes.io/aws-load-balancer-type": "nlb" } : { "cloud.google.com/l4-rbs": "enabled" };
}

/** Source range that matches no address: load balancers rendered without Pulumi's egress addresses stay closed. */
export const CLOSED_SOURCE_RANGE = "0.0.0.0/32";

/**
 * Addresses reserved for a load balancer, so that what servers advertise survives the Service being re-created:
 * AWS Elastic IPs, one per public subnet (the in-tree NLB requires exactly as many as the subnets it discovers,
 * kubernetes/cloud-provider-aws `aws_loadbalancer.go`), or a GCP regional static address.
 */
export type ReservedAddress =
  { readonly kind: "eip"; readonly allocationIds: readonly string[] } | { readonly kind: "static-ip"; readonly ip: string };

/** Annotations and spec fields that bind a Service to its reserved address. */
function reservedFields(r: ReservedAddress | undefined): { annotations: Record<string, string>; spec: Record<string, unknown> } {
  if (!r) return { annotations: {}, spec: {} };
  if (r.kind === "eip")
    return { annotations: { "service.beta.kubernetes.io/aws-load-balancer-eip-allocations": r.allocationIds.join(",") }, spec: {} };
  return { annotations: {}, spec: { loadBalancerIP: r.ip } };
}

/**
 * The part of an exposure Service that makes it independent of readiness: the chart's pods are Ready only once
 * JetStream has a meta leader, which needs the gateways this Service carries. With `publishNotReadyAddresses` the
 * EndpointSlice controller marks every selected pod ready (kubernetes `pkg/controller/endpointslice` ->
 * `endpointslice/util.podToEndpoint`), so kube-proxy's health check node port passes and the load balancer forwards.
 */
const EXPOSURE_SPEC = { type: "LoadBalancer", externalTrafficPolicy: "Local", publishNotReadyAddresses: true } as const;

/** Name of the hub's load balancer Service. */
export function hubLoadBalancerName(cloud: string): string {
  return `${releaseName(cloud)}-external`;
}

/**
 * The hub's load balancer: gateway, leafnode and client ports, reachable only from `sourceRanges` (the other
 * sites' egress addresses and any operator ranges). Selects the chart's pods by its selector labels.
 */
export function hubLoadBalancer(spec: LatticeSpec, cloud: string, sourceRanges: readonly string[], reserved?: ReservedAddress): K8sObject {
  const c = cloudOf(spec, cloud);
  const r = reservedFields(reserved);
  if (sourceRanges.length === 0) throw new Error(`hub load balancer of ${cloud}: no source ranges (it would be open to the internet)`);
  const p = c.hub.ports;
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: hubLoadBalancerName(cloud),
      namespace: NATS_NAMESPACE,
      labels: labels(spec, c),
      annotations: { ...lbAnnotations(c.provider), ...r.annotations },
    },
    spec: {
      ...EXPOSURE_SPEC,
      ...r.spec,
      loadBalancerSourceRanges: [...sourceRanges],
      selector: {
        "app.kubernetes.io/name": "nats",
        "app.kubernetes.io/instance": releaseName(cloud),
        "app.kubernetes.io/component": "nats",
      },
      ports: [
        { name: "gateway", port: p.gateway, targetPort: p.gateway, protocol: "TCP" },
        { name: "leafnodes", port: p.leafnode, targetPort: p.leafnode, protocol: "TCP" },
        { name: "nats", port: p.client, targetPort: p.client, protocol: "TCP" },
      ],
    },
  };
}

/** A stretched-cluster member's own load balancer (route and gateway ports): its peers sit in other clouds. */
export function memberLoadBalancer(
  spec: LatticeSpec,
  group: NatsReleaseGroup,
  i: number,
  sourceRanges: readonly string[],
  reserved?: ReservedAddress,
): K8sObject {
  const c = cloudOf(spec, group.cloud);
  const r = reservedFields(reserved);
  if (sourceRanges.length === 0) throw new Error(`load balancer of ${group.servers[i]!.name}: no source ranges`);
  const p = c.hub.ports;
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: `${podName(group.release, i)}-external`,
      namespace: NATS_NAMESPACE,
      labels: labels(spec, c, { "latticeform.io/server": group.servers[i]!.name }),
      annotations: { ...lbAnnotations(c.provider), ...r.annotations },
    },
    spec: {
      ...EXPOSURE_SPEC,
      ...r.spec,
      loadBalancerSourceRanges: [...sourceRanges],
      selector: { "statefulset.kubernetes.io/pod-name": podName(group.release, i) },
      ports: [
        { name: "cluster", port: p.cluster, targetPort: p.cluster, protocol: "TCP" },
        { name: "gateway", port: p.gateway, targetPort: p.gateway, protocol: "TCP" },
      ],
    },
  };
}

/** RBAC of a NATS release group: a ClusterRole that may get nodes (the zone init container's lookup), bound to the chart's service account. */
export function natsNodeReader(spec: LatticeSpec, group: NatsReleaseGroup): K8sObject[] {
  const meta = labels(spec, cloudOf(spec, group.cloud));
  const role = `latticeform-${group.release}-node-reader`;
  return [
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: role, labels: meta },
      rules: [{ apiGroups: [""], resources: ["nodes"], verbs: ["get"] }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: role, labels: meta },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
      // The chart names its service account after the release (fullnameOverride).
      subjects: [{ kind: "ServiceAccount", name: group.release, namespace: NATS_NAMESPACE }],
    },
  ];
}

export function configMap(name: string, namespace: string, data: Record<string, string>, meta: Record<string, string> = {}): K8sObject {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace, labels: meta }, data };
}

/** A Secret (stringData). Its content is key material: the components wrap it in pulumi.secret. */
export function secret(name: string, namespace: string, stringData: Record<string, string>, type = "Opaque"): K8sObject {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace, labels: { "app.kubernetes.io/managed-by": "latticeform" } },
    type,
    stringData,
  };
}

export function tlsSecret(name: string, namespace: string, pem: { cert: string; key: string; ca: string }): K8sObject {
  return secret(name, namespace, { "tls.crt": pem.cert, "tls.key": pem.key, "ca.crt": pem.ca }, "kubernetes.io/tls");
}

/** File name (in CREDS_MOUNT) of a user's creds, as the compiled configs reference it. */
export function credsFileName(spec: LatticeSpec, userId: string): string {
  return kubernetesEnv(spec)
    .credsFile(userId)
    .slice(CREDS_MOUNT.length + 1);
}

/** Objects of a NATS release group that hold no key material (the identity ConfigMap). */
export function natsIdentityConfigMap(spec: LatticeSpec, group: NatsReleaseGroup, files: Record<string, string>): K8sObject {
  return configMap(natsSecretNames(group.release).identity, NATS_NAMESPACE, files, labels(spec, cloudOf(spec, group.cloud)));
}

/** RuntimeClass handler name of a runwasi shim (the containerd runtime name the installer registers). */
export function runtimeHandler(runtime: string): string {
  return runtime;
}

export function runtimeClass(spec: LatticeSpec, cloud: string, pool: NodePool): K8sObject {
  if (pool.kind !== "runtime-class" || !pool.runtime) throw new Error(`node pool ${pool.name}: not a runtime-class pool with a runtime`);
  const t = runtimeTaint(pool.runtime);
  return {
    apiVersion: "node.k8s.io/v1",
    kind: "RuntimeClass",
    metadata: { name: pool.runtime, labels: labels(spec, cloudOf(spec, cloud), { [LABEL.pool]: pool.name }) },
    handler: runtimeHandler(pool.runtime),
    scheduling: {
      nodeSelector: { [LABEL.runtime]: pool.runtime },
      tolerations: [{ key: t.key, operator: "Equal", value: t.value, effect: t.effect }],
    },
  };
}

/**
 * Installs the runwasi shim on the pool's nodes (GKE node pools take no boot script; EKS uses the same path so
 * both clouds behave alike): a privileged DaemonSet in kube-system running the install script on the host.
 */
export function shimInstaller(spec: LatticeSpec, cloud: string, pool: NodePool, script: string): K8sObject[] {
  const c = cloudOf(spec, cloud);
  const name = `wasm-shim-${pool.name}`;
  const meta = labels(spec, c, { [LABEL.pool]: pool.name, "app.kubernetes.io/name": name });
  const t = runtimeTaint(pool.runtime!);
  return [
    configMap(name, "kube-system", { "install.sh": script }, meta),
    {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name, namespace: "kube-system", labels: meta },
      spec: {
        selector: { matchLabels: { "app.kubernetes.io/name": name } },
        template: {
          metadata: { labels: meta },
          spec: {
            hostPID: true,
            nodeSelector: { [LABEL.runtime]: pool.runtime!, [LABEL.pool]: pool.name },
            tolerations: [{ key: t.key, operator: "Equal", value: t.value, effect: t.effect }],
            initContainers: [
              {
                name: "install",
                image: IMAGES.shimInstaller,
                command: ["nsenter", "--target", "1", "--mount", "--uts", "--ipc", "--net", "--pid", "--", "bash", "-c", "$(SCRIPT)"],
                env: [{ name: "SCRIPT", valueFrom: { configMapKeyRef: { name, key: "install.sh" } } }],
                securityContext: { privileged: true },
              },
            ],
            containers: [{ name: "pause", image: "registry.k8s.io/pause:3.10", securityContext: RESTRICTED }],
          },
        },
      },
    },
  ];
}

/** A workload's objects in one cloud (none when it has no instances there); `facts` of its path artifact's component. */
export function workloadObjects(spec: LatticeSpec, w: Workload, cloud: string, registry: string, facts?: ComponentFacts): K8sObject[] {
  const c = cloudOf(spec, cloud);
  const replicas = instancesPerCloud(spec, w)[cloud] ?? 0;
  if (replicas === 0) return [];
  const meta = labels(spec, c, { [LABEL.workload]: w.name });
  const image = artifactRef(spec, w, registry, facts);
  const annotations: Record<string, string> = {
    "latticeform.io/subject": w.subject,
    "latticeform.io/failover": w.failover.mode === "active-passive" ? `active-passive primary=${w.failover.primary}` : "active-active",
  };
  if (w.runtime === "wasmcloud") {
    const opts = { registry, namespace: WASM_NAMESPACE, labels: meta, annotations, ...(facts ? { facts } : {}) };
    return workloadDeployments(spec, w, cloud, opts) as unknown as K8sObject[];
  }
  const krustlet = w.runtime === "krustlet";
  return [
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: w.name, namespace: WASM_NAMESPACE, labels: meta, annotations },
      spec: {
        replicas,
        selector: { matchLabels: { [LABEL.workload]: w.name } },
        template: {
          metadata: { labels: meta, annotations: krustlet ? {} : { "module.wasm.image/variant": "compat-smart" } },
          spec: krustlet
            ? {
                automountServiceAccountToken: false,
                nodeSelector: { [WASM_ARCH.key]: WASM_ARCH.value },
                tolerations: KRUSTLET_TOLERATIONS,
                containers: [{ name: w.name, image, resources: { limits: { memory: `${w.limits.memoryMiB}Mi` } } }],
              }
            : {
                automountServiceAccountToken: false,
                runtimeClassName: w.runtime,
                containers: [
                  { name: w.name, image, resources: { limits: { memory: `${w.limits.memoryMiB}Mi` } }, securityContext: RESTRICTED },
                ],
              },
        },
      },
    },
  ];
}

/** Kubeconfig of an EKS cluster (token from `aws eks get-token`: no long-lived credentials in it). */
export function eksKubeconfig(name: string, endpoint: string, caData: string, region: string): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name, cluster: { server: endpoint, "certificate-authority-data": caData } }],
    contexts: [{ name, context: { cluster: name, user: name } }],
    "current-context": name,
    users: [
      {
        name,
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: "aws",
            args: ["eks", "get-token", "--cluster-name", name, "--region", region, "--output", "json"],
            interactiveMode: "Never",
          },
        },
      },
    ],
  });
}

/** Kubeconfig of a GKE cluster (token from gke-gcloud-auth-plugin). */
export function gkeKubeconfig(name: string, endpoint: string, caData: string): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name, cluster: { server: `https://${endpoint}`, "certificate-authority-data": caData } }],
    contexts: [{ name, context: { cluster: name, user: name } }],
    "current-context": name,
    users: [
      {
        name,
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: "gke-gcloud-auth-plugin",
            provideClusterInfo: true,
            interactiveMode: "Never",
          },
        },
      },
    ],
  });
}

/** Duration string of the spec -> seconds (for probes and timeouts). */
export function durationSeconds(d: string): number {
  return durationNs(d) / 1e9;
}
