/**
 * A small OCI distribution client (distribution-spec v1.1 push and pull by digest) for the artifacts the
 * Pulumi program pushes: monolithic blob uploads, manifest PUT, Basic credentials or the Bearer token
 * challenge registries such as ECR, Artifact Registry and Docker Hub answer with. Self-contained (global
 * fetch only), so Pulumi can serialize it into its dynamic provider.
 */
import type { Blob, WasmArtifact } from "./artifact";

export interface RegistryTarget {
  /** `host[:port]` of the registry. */
  readonly registry: string;
  readonly repository: string;
  /** Plain HTTP (a registry on loopback in tests). @default false */
  readonly insecure?: boolean;
  readonly username?: string;
  readonly password?: string;
}

async function request(
  t: RegistryTarget,
  method: string,
  url: string,
  init: { body?: Uint8Array; headers?: Record<string, string> } = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...init.headers };
  if (t.username !== undefined) headers.authorization = `Basic ${Buffer.from(`${t.username}:${t.password ?? ""}`).toString("base64")}`;
  const body = init.body ? Buffer.from(init.body) : undefined;
  let res = await fetch(url, { method, headers, body, redirect: "follow" });
  const challenge = res.headers.get("www-authenticate") ?? "";
  if (res.status === 401 && /^bearer /i.test(challenge)) {
    // Token auth: ask the realm for a token for this scope, with the Basic credentials if any.
    const params = Object.fromEntries([...challenge.slice(7).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    const q = new URLSearchParams({
      ...(params.service ? { service: params.service } : {}),
      scope: params.scope ?? `repository:${t.repository}:pull,push`,
    });
    const tokenRes = await fetch(`${params.realm}?${q}`, {
      headers: headers.authorization ? { authorization: headers.authorization } : {},
    });
    if (!tokenRes.ok) throw new Error(`registry token request failed: ${tokenRes.status} ${await tokenRes.text()}`);
    const tok = (await tokenRes.json()) as { token?: string; access_token?: string };
    headers.authorization = `Bearer ${tok.token ?? tok.access_token}`;
    res = await fetch(url, { method, headers, body, redirect: "follow" });
  }
  return res;
}

function base(t: RegistryTarget): string {
  return `${t.insecure ? "http" : "https"}://${t.registry}/v2/${t.repository}`;
}

async function pushBlob(t: RegistryTarget, b: Blob): Promise<void> {
  const head = await request(t, "HEAD", `${base(t)}/blobs/${b.digest}`);
  if (head.ok) return;
  const start = await request(t, "POST", `${base(t)}/blobs/uploads/`);
  if (start.status !== 202) throw new Error(`blob upload refused: ${start.status} ${await start.text()}`);
  const location = new URL(start.headers.get("location")!, `${t.insecure ? "http" : "https"}://${t.registry}`);
  location.searchParams.set("digest", b.digest);
  const put = await request(t, "PUT", location.href, { body: b.bytes, headers: { "content-type": "application/octet-stream" } });
  if (put.status !== 201) throw new Error(`blob ${b.digest} not stored: ${put.status} ${await put.text()}`);
}

/** Push the artifact and return the manifest digest the registry reports (checked against ours). */
export async function pushArtifact(t: RegistryTarget, a: WasmArtifact): Promise<string> {
  await pushBlob(t, a.config);
  await pushBlob(t, a.layer);
  const res = await request(t, "PUT", `${base(t)}/manifests/${a.manifest.digest}`, {
    body: a.manifest.bytes,
    headers: { "content-type": a.manifest.mediaType },
  });
  if (res.status !== 201) throw new Error(`manifest not stored: ${res.status} ${await res.text()}`);
  const digest = res.headers.get("docker-content-digest") ?? a.manifest.digest;
  if (digest !== a.manifest.digest) throw new Error(`registry stored manifest ${digest}, expected ${a.manifest.digest}`);
  return digest;
}

/** Pull by digest: the manifest and its first `application/wasm` layer, both checked against their digests. */
export async function pullArtifact(
  t: RegistryTarget,
  digest: string,
): Promise<{ manifest: Record<string, unknown>; component: Uint8Array }> {
  const { createHash } = await import("node:crypto");
  const sha = (b: Uint8Array) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
  const m = await request(t, "GET", `${base(t)}/manifests/${digest}`, {
    headers: { accept: "application/vnd.oci.image.manifest.v1+json" },
  });
  if (!m.ok) throw new Error(`manifest ${digest}: ${m.status}`);
  const mBytes = new Uint8Array(await m.arrayBuffer());
  if (sha(mBytes) !== digest) throw new Error(`manifest content does not match ${digest}`);
  const manifest = JSON.parse(new TextDecoder().decode(mBytes)) as { layers: { mediaType: string; digest: string }[] };
  const layer = manifest.layers.find((l) => l.mediaType === "application/wasm");
  if (!layer) throw new Error("no application/wasm layer");
  const b = await request(t, "GET", `${base(t)}/blobs/${layer.digest}`);
  if (!b.ok) throw new Error(`blob ${layer.digest}: ${b.status}`);
  const component = new Uint8Array(await b.arrayBuffer());
  if (sha(component) !== layer.digest) throw new Error(`layer content does not match ${layer.digest}`);
  return { manifest: manifest as unknown as Record<string, unknown>, component };
}
