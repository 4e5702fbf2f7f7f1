/**
 * The `nats` CLI (the pinned natscli build) pointed at a local lattice: a context file in the state dir with the
 * lattice's URLs, the `client` user's creds, the lattice CA and its JetStream domain, so `nats --context <file>`
 * looks inside a running lattice as an independent client.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { natsCliBin } from "../tools/pins";
import { serverUrls } from "./client";
import type { LocalRender } from "./state";

/** Path of the lattice's `nats` context file (mode 0600: it names the creds file). */
export function natsContextPath(r: LocalRender): string {
  return path.join(r.layout.stateDir, "nats-context.json");
}

/** Write the context: every server of `servers` (default: every hub of every cloud) as URLs, `client` creds, CA. */
export function writeNatsContext(r: LocalRender, servers?: readonly string[]): string {
  const names = servers ?? r.nats.servers.filter((s) => s.kind === "hub").map((s) => s.name);
  const tls = r.layout.env.tlsFiles("client");
  const ctx = {
    description: `latticeform local lattice ${r.spec.name} (stack ${r.stack})`,
    url: serverUrls(r, names).join(","),
    creds: r.layout.env.credsFile("client"),
    ca: tls.ca_file,
    ...(r.spec.security.tls.client !== false && r.spec.security.tls.client.verify ? { cert: tls.cert_file, key: tls.key_file } : {}),
    jetstream_domain: r.spec.jetstream.domain,
  };
  const file = natsContextPath(r);
  writeFileSync(file, JSON.stringify(ctx, null, 2) + "\n", { mode: 0o600 });
  return file;
}

/** Run the pinned `nats` CLI with the lattice's context; bounded by `timeoutMs`. */
export function natsCli(
  r: LocalRender,
  args: readonly string[],
  timeoutMs = 20000,
): { status: number | null; stdout: string; stderr: string } {
  const res = spawnSync(natsCliBin(), ["--context", natsContextPath(r), ...args], { encoding: "utf8", timeout: timeoutMs });
  return { status: res.status, stdout: res.stdout ?? "", stderr: (res.stderr ?? "") + (res.error ? String(res.error) : "") };
}
