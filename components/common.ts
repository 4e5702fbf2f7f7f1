/**
 * Shared pieces of the components (not a component): tags and labels from the spec, creating the pure
 * compilers' Kubernetes objects as Pulumi resources, and what every cloud site offers the rest of the lattice.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { tlsSecret, type K8sObject, type ReservedAddress } from "../src/compile/kubernetes";
import type { PemSet } from "./credentials";

/** Tags of every taggable AWS resource: the spec's tags plus the lattice and role. */
export function awsTags(tags: Readonly<Record<string, string>>, lattice: string, role: string): Record<string, string> {
  return { ...tags, "latticeform:lattice": lattice, "latticeform:role": role };
}

/** GCP labels: lower-case keys and values of letters, digits, '_' and '-', at most 63 characters. */
export function gcpLabels(tags: Readonly<Record<string, string>>, lattice: string, role: string): Record<string, string> {
  const clean = (s: string) =>
    s
      .toLowerCase()
      .replace(/[^a-z0-9_-]/g, "_")
      .slice(0, 63);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...tags, "latticeform-lattice": lattice, "latticeform-role": role })) out[clean(k)] = clean(v);
  return out;
}

/** What a cloud site (a new EKS / GKE cluster or an existing one) gives the rest of the lattice. */
export interface KubeSite {
  /** Kubernetes provider of the site's cluster. */
  readonly provider: k8s.Provider;
  /** Kubeconfig of the cluster (secret). */
  readonly kubeconfig: pulumi.Output<string>;
  /** Egress addresses of the site (CIDRs): the other sites allow these on their load balancers. */
  readonly egressCidrs: pulumi.Output<string[]>;
  readonly clusterName: pulumi.Output<string>;
  /** StorageClass of the JetStream volumes (named in the NATS chart values). */
  readonly storageClassName: string;
  /** What a NATS release waits for before its volumes can bind (the StorageClass and its CSI driver). */
  readonly storage: pulumi.Resource;
}

/** Addresses reserved for one NATS load balancer: what peers dial and what the Service binds to. */
export interface LbAddress {
  /** The reserved IPs (one per AWS public subnet; one on GCP). */
  readonly ips: pulumi.Output<string[]>;
  readonly reserved: pulumi.Output<ReservedAddress>;
}

/** Logical name of a Kubernetes object's resource under a component. */
export function objectResourceName(parent: string, obj: K8sObject): string {
  const ns = obj.metadata.namespace ? `${obj.metadata.namespace}-` : "";
  return `${parent}-${obj.kind.toLowerCase()}-${ns}${obj.metadata.name}`;
}

/**
 * Create one object from the pure compilers as a typed Pulumi resource (CRD objects as CustomResource).
 * Secrets go through `applySecret` so their content is a secret output.
 */
export function applyObject(name: string, obj: K8sObject, opts: pulumi.CustomResourceOptions): pulumi.CustomResource {
  const { apiVersion, kind, metadata, ...rest } = obj;
  const args = { metadata, ...rest } as Record<string, unknown>;
  switch (`${apiVersion}/${kind}`) {
    case "v1/Namespace":
      return new k8s.core.v1.Namespace(name, args, opts);
    case "v1/Service":
      return new k8s.core.v1.Service(name, args, opts);
    case "v1/ConfigMap":
      return new k8s.core.v1.ConfigMap(name, args, opts);
    case "v1/Secret":
      throw new Error(`${name}: Secrets go through applySecret`);
    case "apps/v1/Deployment":
      return new k8s.apps.v1.Deployment(name, args as unknown as k8s.apps.v1.DeploymentArgs, opts);
    case "apps/v1/DaemonSet":
      return new k8s.apps.v1.DaemonSet(name, args as unknown as k8s.apps.v1.DaemonSetArgs, opts);
    case "rbac.authorization.k8s.io/v1/ClusterRole":
      return new k8s.rbac.v1.ClusterRole(name, args, opts);
    case "rbac.authorization.k8s.io/v1/ClusterRoleBinding":
      return new k8s.rbac.v1.ClusterRoleBinding(name, args as unknown as k8s.rbac.v1.ClusterRoleBindingArgs, opts);
    case "storage.k8s.io/v1/StorageClass":
      return new k8s.storage.v1.StorageClass(name, args as unknown as k8s.storage.v1.StorageClassArgs, opts);
    case "node.k8s.io/v1/RuntimeClass":
      return new k8s.node.v1.RuntimeClass(name, args as unknown as k8s.node.v1.RuntimeClassArgs, opts);
    default:
      return new k8s.apiextensions.CustomResource(name, { apiVersion, kind, ...args }, opts);
  }
}

/** A Secret whose content is computed from secret outputs: the whole stringData stays secret. */
export function applySecret(
  name: string,
  obj: pulumi.Output<K8sObject>,
  metadata: K8sObject["metadata"],
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.Secret {
  return new k8s.core.v1.Secret(
    name,
    {
      metadata,
      // The type is not secret (only the content is).
      type: pulumi.unsecret(obj.apply((o) => String(o.type ?? "Opaque"))),
      stringData: pulumi.secret(obj.apply((o) => o.stringData as Record<string, string>)),
    },
    opts,
  );
}

/** A `kubernetes.io/tls` Secret `secretName` in `namespace` holding a certificate, its key and the lattice CA. */
export function applyTlsSecret(
  name: string,
  secretName: string,
  namespace: string,
  pem: PemSet,
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.Secret {
  const obj = pulumi.all([pem.cert, pem.key, pem.ca]).apply(([cert, key, ca]) => tlsSecret(secretName, namespace, { cert, key, ca }));
  return applySecret(name, obj, { name: secretName, namespace }, opts);
}

/** IAM trust policy letting an AWS service (`ec2.amazonaws.com`, ...) assume a role. */
export function assumeRole(service: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  });
}
