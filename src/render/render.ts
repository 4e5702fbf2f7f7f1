/** Everything `latticeform render` writes, as (path, content) pairs: pure given the spec and the master secret. */
import { buildCredentials } from "../compile/credentials";
import { kubernetesEnv } from "../compile/k8senv";
import { compileNats } from "../compile/nats";
import type { LatticeSpec } from "../spec/schema";
import { topologyOf } from "../spec/topology";

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

export async function renderArtifacts(spec: LatticeSpec, master: Uint8Array, issuedAt: number): Promise<Artifact[]> {
  const out = await renderNatsArtifacts(spec, master, issuedAt);
  for (const r of renderers) out.push(...(await r(spec, { master, issuedAt })));
  return out;
}
