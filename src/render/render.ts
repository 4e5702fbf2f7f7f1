/** Everything `latticeform render` writes, as (path, content) pairs: pure given the spec and the master secret. */
import { stringify as toYaml } from "yaml";
import {
  krustletBootScript,
  krustletBootstrapSecretId,
  shimInstallScript,
  tieBreakerBootScript,
  tieBreakerSecretIds,
} from "../compile/boot";
import { buildCredentials, type Credentials } from "../compile/credentials";
import {
  AUTH_FILE,
  NACK_CHART,
  NATS_CHART,
  WASMCLOUD_OPERATOR_CHART,
  nackValues,
  natsAuthInclude,
  natsHelmValues,
  natsIdentityFiles,
  natsReleaseGroups,
  natsSecretNames,
  wasmcloudOperatorValues,
} from "../compile/helm";
import { hubClientUrl, kubernetesEnv, NATS_NAMESPACE } from "../compile/k8senv";
import {
  WASM_NAMESPACE,
  CLOSED_SOURCE_RANGE,
  hubLoadBalancer,
  memberLoadBalancer,
  namespaces,
  natsIdentityConfigMap,
  natsNodeReader,
  runtimeClass,
  secret,
  shimInstaller,
  workloadObjects,
  type K8sObject,
} from "../compile/kubernetes";
import { jetstreamObjects } from "../compile/jetstreamObjects";
import { leaderKeeperCredsSecret, leaderKeeperObjects } from "../compile/keeperObjects";
import { compileNats, type CompiledNats, type CompileEnv } from "../compile/nats";
import { JETSTREAM_STORAGE_CLASS, jetstreamStorageClass } from "../compile/storage";
import { hostCredsSecret, hostDeployment, hostLeafSecret, hostSidecarText } from "../compile/wasmhost";
import type { LatticeSpec } from "../model/schema";
import type { ComponentFacts } from "../compile/workloadDeployment";
import { pathArtifactFacts } from "../oci/facts";
import { topologyOf, type Topology } from "../model/topology";

export interface Artifact {
  /** Path relative to the output folder. */
  readonly path: string;
  readonly content: string;
  /** Holds key material or JWTs: written with mode 0600. */
  readonly secret: boolean;
}

/** Extra renderers (Kubernetes objects, boot scripts) register here, so `render` stays one command. */
export type Renderer = (spec: LatticeSpec, ctx: { master: Uint8Array; issuedAt: number }) => Promise<Artifact[]> | Artifact[];
const renderers: Renderer[] = [];
export function registerRenderer(r: Renderer): void {
  renderers.push(r);
}

/** nats/<server>.conf for every server, and nats/<host>-leaf.conf: each host pod's sidecar config as the pod mounts it. */
export async function renderNatsArtifacts(spec: LatticeSpec, master: Uint8Array, issuedAt: number): Promise<Artifact[]> {
  const topo = topologyOf(spec);
  const creds = await buildCredentials(spec, topo, master, issuedAt);
  const env = kubernetesEnv(spec);
  const nats = compileNats(spec, topo, env, creds);
  return [
    ...nats.servers.map((s) => ({ path: `nats/${s.name}.conf`, content: s.text, secret: true })),
    ...topo.hosts.map((h) => ({ path: `nats/${h.name}-leaf.conf`, content: hostSidecarText(spec, topo, env, creds, h), secret: true })),
  ];
}

/** One cloud's Kubernetes objects, Helm releases and boot scripts, as the Pulumi components create them. */
export interface CloudBundle {
  readonly cloud: string;
  readonly objects: readonly K8sObject[];
  /** Objects holding key material (Secrets). */
  readonly secrets: readonly K8sObject[];
  readonly releases: readonly {
    name: string;
    namespace: string;
    chart: string;
    version: string;
    repo?: string;
    values: Record<string, unknown>;
  }[];
  readonly boot: readonly { name: string; script: string }[];
}

/**
 * Every cloud's bundle. Load balancers allow `sourceRanges` (Pulumi fills in the sites' egress addresses;
 * rendered without them they match nothing). TLS Secrets are not rendered: @pulumi/tls issues them.
 */
export function kubernetesBundles(
  spec: LatticeSpec,
  topo: Topology,
  nats: CompiledNats,
  creds: Credentials,
  opts: { sourceRanges?: readonly string[]; registry?: string; env?: CompileEnv; facts?: Record<string, ComponentFacts> } = {},
): CloudBundle[] {
  // Path artifacts are referenced by the digest of their OCI artifact, computed from the component file.
  const facts = opts.facts ?? pathArtifactFacts(spec);
  const ranges = opts.sourceRanges ?? [CLOSED_SOURCE_RANGE];
  const groups = natsReleaseGroups(spec, topo);
  const out: CloudBundle[] = spec.clouds.map((c) => {
    // The components fill in the site's KMS key (AWS); rendered without it, EBS uses the account's default key.
    const objects: K8sObject[] = [
      ...namespaces(spec, c.name),
      jetstreamStorageClass(c.provider, spec.name),
      hubLoadBalancer(spec, c.name, ranges),
    ];
    const secrets: K8sObject[] = [];
    const releases: CloudBundle["releases"][number][] = [];
    const boot: { name: string; script: string }[] = [];
    for (const g of groups.filter((x) => x.cloud === c.name)) {
      if (g.cluster !== c.name) g.servers.forEach((_, i) => objects.push(memberLoadBalancer(spec, g, i, ranges)));
      objects.push(natsIdentityConfigMap(spec, g, natsIdentityFiles(g, nats.servers)));
      objects.push(...natsNodeReader(spec, g));
      const first = nats.servers.find((s) => s.name === g.servers[0]!.name)!;
      secrets.push(secret(natsSecretNames(g.release).auth, NATS_NAMESPACE, { [AUTH_FILE]: natsAuthInclude(first) }));
      releases.push({
        name: g.release,
        namespace: NATS_NAMESPACE,
        ...NATS_CHART,
        values: natsHelmValues(spec, g, nats.servers, { storageClassName: JETSTREAM_STORAGE_CLASS }),
      });
    }
    const needsOperator = c.hostPools.length > 0 || spec.workloads.some((w) => w.runtime === "wasmcloud");
    if (needsOperator) {
      releases.push({
        name: "wasmcloud-operator",
        namespace: WASM_NAMESPACE,
        ...WASMCLOUD_OPERATOR_CHART,
        values: wasmcloudOperatorValues(spec, c.name),
      });
    }
    for (const h of topo.hosts.filter((x) => x.cloud === c.name)) {
      secrets.push(
        hostCredsSecret(spec, h, creds),
        hostLeafSecret(h, hostSidecarText(spec, topo, opts.env ?? kubernetesEnv(spec), creds, h)),
      );
      objects.push(hostDeployment(spec, h));
    }
    for (const pool of c.nodePools) {
      if (pool.kind === "runtime-class") {
        const script = shimInstallScript(spec, pool);
        objects.push(runtimeClass(spec, c.name, pool), ...shimInstaller(spec, c.name, pool, script));
        boot.push({ name: `shim-${pool.name}.sh`, script });
      } else {
        boot.push({
          name: `krustlet-${pool.name}.sh`,
          script: krustletBootScript(spec, { cloud: c.name, pool, bootstrapSecret: krustletBootstrapSecretId(spec, c.name, pool.name) }),
        });
      }
    }
    for (const w of spec.workloads)
      objects.push(...workloadObjects(spec, w, c.name, opts.registry ?? "ghcr.io/latticeform", facts[w.name]));
    const js = jetstreamObjects(spec, c.name);
    if (js.length) {
      objects.push(...js);
      secrets.push(secret("nack-creds", NATS_NAMESPACE, { "nack.creds": creds.users["client"]!.creds }));
      releases.push({ name: "nack", namespace: NATS_NAMESPACE, ...NACK_CHART, values: nackValues(spec, c.name, "nack-creds", "nack-tls") });
    }
    const hub = groups.find((g) => g.cloud === c.name && g.cluster === c.name);
    const keeper = hub ? leaderKeeperObjects(spec, topo, c.name, hubClientUrl(spec, c.name, hub.release)) : [];
    if (keeper.length) {
      objects.push(...keeper);
      secrets.push(leaderKeeperCredsSecret(creds));
    }
    return { cloud: c.name, objects, secrets, releases, boot };
  });
  const tb = spec.tieBreaker;
  if (tb) {
    const boot = topo.servers
      .filter((s) => s.role === "tiebreaker")
      .map((s) => ({
        name: `nats-${s.name}.sh`,
        script: tieBreakerBootScript(spec, s, { files: tieBreakerSecretIds(spec, s), dataDevice: "/dev/disk/by-id/google-nats-data" }),
      }));
    out.push({ cloud: tb.name, objects: [], secrets: [], releases: [], boot });
  }
  return out;
}

function objectFile(o: K8sObject, i: number): string {
  const ns = o.metadata.namespace ? `${o.metadata.namespace}-` : "";
  return `${String(i).padStart(3, "0")}-${o.kind.toLowerCase()}-${ns}${o.metadata.name}.yaml`;
}

/** kubernetes/<cloud>/*.yaml (one object per file; Secrets 0600), helm/<cloud>/<release>.values.yaml, boot/<site>/*. */
export async function renderKubernetesArtifacts(spec: LatticeSpec, master: Uint8Array, issuedAt: number): Promise<Artifact[]> {
  const topo = topologyOf(spec);
  const creds = await buildCredentials(spec, topo, master, issuedAt);
  const nats = compileNats(spec, topo, kubernetesEnv(spec), creds);
  const out: Artifact[] = [];
  for (const b of kubernetesBundles(spec, topo, nats, creds)) {
    let i = 0;
    for (const o of b.objects) out.push({ path: `kubernetes/${b.cloud}/${objectFile(o, i++)}`, content: toYaml(o), secret: false });
    for (const o of b.secrets) out.push({ path: `kubernetes/${b.cloud}/${objectFile(o, i++)}`, content: toYaml(o), secret: true });
    for (const r of b.releases) {
      const header = `# Helm release ${r.name} (namespace ${r.namespace}): chart ${r.chart} ${r.version}${r.repo ? ` from ${r.repo}` : ""}\n`;
      out.push({ path: `kubernetes/${b.cloud}/helm-${r.name}.values.yaml`, content: header + toYaml(r.values), secret: false });
    }
    for (const s of b.boot) out.push({ path: `boot/${b.cloud}/${s.name}`, content: s.script, secret: false });
  }
  return out;
}

export async function renderArtifacts(spec: LatticeSpec, master: Uint8Array, issuedAt: number): Promise<Artifact[]> {
  const out = [...(await renderNatsArtifacts(spec, master, issuedAt)), ...(await renderKubernetesArtifacts(spec, master, issuedAt))];
  for (const r of renderers) out.push(...(await r(spec, { master, issuedAt })));
  return out;
}
