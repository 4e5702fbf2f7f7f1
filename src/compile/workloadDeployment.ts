/**
 * What a workload is on wasmCloud v2 (runtime-operator / wash 2.7): one WorkloadDeployment per host pool of a
 * cloud, selecting the pool's hosts by `hostgroup`, its component referenced by digest, and `hostInterfaces`
 * for what the component imports (an import nobody serves fails the deploy; a host interface is linked only
 * when asked for). Also the names the local lattice shares with it. Pure.
 *
 * Checked against wasmCloud/wasmCloud v2.7.0: crates/wash-runtime/src/engine/workload.rs (hostInterfaces
 * matched to plugins), src/wit.rs (an entry applies when the component uses every interface it lists;
 * versions must match), src/plugin/wasmcloud_messaging/nats.rs (`subscriptions`, `consumer_group`),
 * src/plugin/wasi_keyvalue/nats.rs (bucket from `open`, no config), runtime-operator/config/samples/messaging.yaml.
 */
import type { LatticeSpec, Workload } from "../model/schema";
import { instancesPerCloud } from "../model/topology";
import { hostSelectorOf } from "./hostgroup";

/** A WorkloadDeployment `hostInterfaces` entry (CRD runtime.wasmcloud.dev/v1alpha1). */
export interface HostInterface {
  readonly namespace: string;
  readonly package: string;
  readonly version: string;
  readonly interfaces: string[];
  readonly config?: Record<string, string>;
}

/** What the compiler knows of a path artifact: the manifest digest it is pushed under and the component's imports. */
export interface ComponentFacts {
  readonly digest: string;
  readonly imports: readonly string[];
  readonly exports: readonly string[];
}

/** The world's imports and export for a workload whose component was not read (an `oci` artifact). */
export function worldFacts(w: Workload): Omit<ComponentFacts, "digest"> {
  const messaging = ["wasmcloud:messaging/types@0.2.0", "wasmcloud:messaging/consumer@0.2.0"];
  const kv = w.kv ? ["wasi:keyvalue/store@0.2.0-draft", "wasi:keyvalue/atomics@0.2.0-draft"] : [];
  return { imports: [...kv, ...messaging], exports: ["wasmcloud:messaging/handler@0.2.0"] };
}

/**
 * The NATS queue group of a workload: wash's messaging plugin joins it through `consumer_group`, the local
 * hosts subscribe with it, so instances of one workload share its messages wherever they run.
 */
export function queueGroupOf(spec: LatticeSpec, w: Workload): string {
  return `latticeform.${spec.name}.${w.name}`;
}

/** The repository a path artifact is pushed to: `<lattice>/<workload>`. */
export function artifactRepository(spec: LatticeSpec, w: Workload): string {
  return `${spec.name}/${w.name}`;
}

/** OCI reference of a workload: its `oci` artifact, or its path artifact pushed to `registry`, by digest. */
export function artifactRef(spec: LatticeSpec, w: Workload, registry: string, facts?: ComponentFacts): string {
  if ("oci" in w.artifact) return w.artifact.oci;
  if (!facts) throw new Error(`workloads.${w.name}.artifact: the digest of ${w.artifact.path} is needed to reference it`);
  return `${registry.replace(/\/$/, "")}/${artifactRepository(spec, w)}@${facts.digest}`;
}

/** Interfaces of `pkg` (e.g. `wasmcloud:messaging@0.2.0`) the component imports or exports, sorted. */
function used(facts: Omit<ComponentFacts, "digest">, pkg: string): string[] {
  const [ns, rest] = pkg.split(":") as [string, string];
  const [name, version] = rest.split("@") as [string, string];
  const re = new RegExp(`^${ns}:${name}/([a-z0-9-]+)@${version.replace(/\./g, "\\.")}$`);
  return [...new Set([...facts.imports, ...facts.exports].map((i) => re.exec(i)?.[1]).filter((x): x is string => !!x))].sort();
}

/** `hostInterfaces` for a workload's component: messaging always (its subject, its queue group), key-value where it declares `kv`. */
export function hostInterfacesOf(spec: LatticeSpec, w: Workload, facts: Omit<ComponentFacts, "digest">): HostInterface[] {
  const out: HostInterface[] = [
    {
      namespace: "wasmcloud",
      package: "messaging",
      version: "0.2.0",
      interfaces: used(facts, "wasmcloud:messaging@0.2.0"),
      config: { subscriptions: w.subject, consumer_group: queueGroupOf(spec, w) },
    },
  ];
  const kv = used(facts, "wasi:keyvalue@0.2.0-draft");
  if (w.kv && kv.length) out.push({ namespace: "wasi", package: "keyvalue", version: "0.2.0-draft", interfaces: kv });
  return out;
}

/** Replicas per wasmcloud host pool of `cloud`: the cloud's instances spread evenly, earlier pools first. */
function replicasPerPool(spec: LatticeSpec, w: Workload, cloud: string): [string, number][] {
  const total = instancesPerCloud(spec, w)[cloud] ?? 0;
  const pools = (spec.clouds.find((c) => c.name === cloud)?.hostPools ?? []).filter((p) => p.runtime === "wasmcloud");
  return pools
    .map((p, i): [string, number] => [p.name, Math.floor(total / pools.length) + (i < total % pools.length ? 1 : 0)])
    .filter(([, n]) => n > 0);
}

/** The WorkloadDeployments of a wasmcloud workload in one cloud (none without instances there). */
export function workloadDeployments(
  spec: LatticeSpec,
  w: Workload,
  cloud: string,
  opts: {
    registry: string;
    facts?: ComponentFacts;
    namespace: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
  },
): Record<string, unknown>[] {
  const pools = replicasPerPool(spec, w, cloud);
  const image = artifactRef(spec, w, opts.registry, opts.facts);
  const hostInterfaces = hostInterfacesOf(spec, w, opts.facts ?? worldFacts(w));
  return pools.map(([pool, replicas]) => ({
    apiVersion: "runtime.wasmcloud.dev/v1alpha1",
    kind: "WorkloadDeployment",
    metadata: {
      name: pools.length > 1 ? `${w.name}-${pool}` : w.name,
      namespace: opts.namespace,
      labels: opts.labels,
      annotations: opts.annotations,
    },
    spec: {
      replicas,
      template: {
        labels: opts.labels,
        spec: { hostSelector: hostSelectorOf(cloud, pool), hostInterfaces, components: [{ name: w.name, image }] },
      },
    },
  }));
}
