/**
 * A workload component as an OCI artifact, in the layout wash 2.7 pulls (wasmCloud/wasmCloud v2.7.0,
 * crates/wash-runtime/src/oci.rs: oci-client `pull` accepting `application/wasm` layers; push through
 * oci-wasm 0.6's WasmConfig): an OCI image manifest whose config is `application/vnd.wasm.config.v0+json`
 * and whose one layer is the component, `application/wasm`. Pure and deterministic (a fixed `created`), so
 * the manifest digest, which deployments reference, is known before anything is pushed.
 */
import { createHash } from "node:crypto";

export const MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json";
export const WASM_CONFIG_MEDIA_TYPE = "application/vnd.wasm.config.v0+json";
export const WASM_LAYER_MEDIA_TYPE = "application/wasm";

export interface Blob {
  readonly mediaType: string;
  readonly digest: string;
  readonly bytes: Uint8Array;
}

export interface WasmArtifact {
  readonly config: Blob;
  readonly layer: Blob;
  readonly manifest: Blob;
}

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

function blob(mediaType: string, bytes: Uint8Array): Blob {
  return { mediaType, digest: sha256Digest(bytes), bytes };
}

/** The artifact of a component (its imports and exports go into the config, as oci-wasm records them). */
export function wasmArtifact(component: Uint8Array, world: { imports: string[]; exports: string[] }): WasmArtifact {
  const layer = blob(WASM_LAYER_MEDIA_TYPE, component);
  const configJson = {
    created: "1970-01-01T00:00:00Z",
    architecture: "wasm",
    os: "wasip2",
    layerDigests: [layer.digest],
    component: { exports: world.exports, imports: world.imports },
  };
  const config = blob(WASM_CONFIG_MEDIA_TYPE, new TextEncoder().encode(JSON.stringify(configJson)));
  const descriptor = (b: Blob) => ({ mediaType: b.mediaType, digest: b.digest, size: b.bytes.length });
  const manifestJson = {
    schemaVersion: 2,
    mediaType: MANIFEST_MEDIA_TYPE,
    artifactType: WASM_CONFIG_MEDIA_TYPE,
    config: descriptor(config),
    layers: [descriptor(layer)],
  };
  return { config, layer, manifest: blob(MANIFEST_MEDIA_TYPE, new TextEncoder().encode(JSON.stringify(manifestJson))) };
}

/** `<registry>/<repository>@<digest>`: a reference that cannot move (never a tag such as `:latest`). */
export function digestRef(registry: string, repository: string, digest: string): string {
  return `${registry.replace(/\/$/, "")}/${repository}@${digest}`;
}
