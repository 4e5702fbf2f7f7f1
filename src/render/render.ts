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
import { kubernetesEnv, NATS_NAMESPACE } from "../compile/k8senv";
import {
  WASM_NAMESPACE,
  credsFileName,
  hostDeployment,
  CLOSED_SOURCE_RANGE,
  hostSecretNames,
  hubLoadBalancer,
  jetstreamObjects,
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
import { compileNats, type CompiledNats } from "../compile/nats";
import type { LatticeSpec } from "../model/schema";
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

export async function renderNatsArtifacts(spec: LatticeSpec, master: Uint8Array, issuedAt: number): Promise<Artifact[]> {
  const topo = topologyOf(spec);
  const creds = await buildCredentials(spec, topo, master, issuedAt);
  const nats = compileNats(spec, topo, kubernetesEnv(spec), creds);
  return [...nats.servers, ...nats.leafs].map((s) => ({ path: `nats/${s.name}.conf`, content: s.text, secret: true }));
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
  opts: { sourceRanges?: readonly string[]; registry?: string } = {},
): CloudBundle[] {
  const ranges = opts.sourceRanges ?? [CLOSED_SOURCE_RANGE];
  const groups = natsReleaseGroups(spec, topo);
  const out: CloudBundle[] = spec.clouds.map((c) => {
    const objects: K8sObject[] = [...namespaces(spec, c.name), hubLoadBalancer(spec, c.name, ranges)];
    const secrets: K8sObject[] = [];
    const releases: CloudBundle["releases"][number][] = [];
    const boot: { name: string; script: string }[] = [];
    for (const g of groups.filter((x) => x.cloud === c.name)) {
      if (g.cluster !== c.name) g.servers.forEach((_, i) => objects.push(memberLoadBalancer(spec, g, i, ranges)));
      objects.push(natsIdentityConfigMap(spec, g, natsIdentityFiles(g, nats.servers)));
      objects.push(...natsNodeReader(spec, g));
      const first = nats.servers.find((s) => s.name === g.servers[0]!.name)!;
      secrets.push(secret(natsSecretNames(g.release).auth, NATS_NAMESPACE, { [AUTH_FILE]: natsAuthInclude(first) }));
      releases.push({ name: g.release, namespace: NATS_NAMESPACE, ...NATS_CHART, values: natsHelmValues(spec, g, nats.servers) });
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
      const names = hostSecretNames(h);
      const files: Record<string, string> = { [credsFileName(spec, `host:${h.name}`)]: creds.users[`host:${h.name}`]!.creds };
      if (h.connection === "leaf") {
        files[credsFileName(spec, `leaf:${h.name}`)] = creds.users[`leaf:${h.name}`]!.creds;
        secrets.push(secret(names.leaf, WASM_NAMESPACE, { "leaf.conf": nats.leafs.find((l) => l.host === h.name)!.text }));
      }
      secrets.push(secret(names.creds, WASM_NAMESPACE, files));
      objects.push(hostDeployment(spec, topo, h, nats));
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
    for (const w of spec.workloads) objects.push(...workloadObjects(spec, w, c.name, opts.registry ?? "ghcr.io/latticeform"));
    const js = jetstreamObjects(spec, c.name);
    if (js.length) {
      objects.push(...js);
      secrets.push(secret("nack-creds", NATS_NAMESPACE, { "nack.creds": creds.users["client"]!.creds }));
      releases.push({ name: "nack", namespace: NATS_NAMESPACE, ...NACK_CHART, values: nackValues(spec, c.name, "nack-creds", "nack-tls") });
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
