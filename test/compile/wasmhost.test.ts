/**
 * wasmCloud host pods against what wash 2.7 and Kubernetes read: flags and environment of `wash host`
 * (wasmCloud/wasmCloud v2.7.0 crates/wash/src/cli/host.rs), the host group label the operator matches, Secret
 * file permissions for uid 65532, and the leaf sidecar's config checked by the pinned nats-server as the pod
 * mounts it, then run: a client with TLS and no credentials (what wash sends) is accepted on loopback.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { connect } from "@nats-io/transport-node";
import { buildCredentials } from "../../src/compile/credentials";
import { HOST_POD_LABEL, hostGroupOf } from "../../src/compile/hostgroup";
import { CREDS_MOUNT, kubernetesEnv, TLS_MOUNT } from "../../src/compile/k8senv";
import type { K8sObject } from "../../src/compile/kubernetes";
import { hostCredsSecret, hostDeployment, hostSidecarConf, hostSidecarText, SIDECAR_PORTS } from "../../src/compile/wasmhost";
import { writePodCerts } from "./podCerts";
import { readStackConfig } from "../../src/model/load";
import type { LatticeSpec } from "../../src/model/schema";
import { topologyOf } from "../../src/model/topology";
import { parseLattice } from "../../src/model/validate";
import { natsServerBin } from "../../src/tools/pins";
import { spawnNatsServer } from "../local/helpers/natsServer";
import { schemaProblems } from "./k8sSchema";

const run = promisify(execFile);
const MASTER = new Uint8Array(32).fill(4);

/** Long flags of `wash host` at v2.7.0 (crates/wash/src/cli/host.rs `#[arg(long = ...)]`), test data. */
const WASH_HOST_FLAGS = new Set([
  "host-group", "scheduler-nats-url", "scheduler-nats-tls-ca", "scheduler-nats-tls-first", "scheduler-nats-tls-cert",
  "scheduler-nats-tls-key", "data-nats-url", "data-nats-tls-ca", "data-nats-tls-first", "data-nats-tls-cert",
  "data-nats-tls-key", "host-name", "environment", "http-addr", "tls-cert-path", "tls-key-path", "tls-ca-path",
  "http-client-ca-path", "http-client-trust-roots", "max-connections", "max-outbound-http-connections-per-workload",
  "max-outbound-socket-connections-per-workload", "max-inbound-socket-connections-per-workload", "http-connection-wait",
  "wasi-webgpu", "postgres-url", "allow-insecure-registries", "oci-ca-path", "registry-pull-timeout", "oci-cache-dir",
  "wasi-otel", "allow-host-loopback", "socket-egress", "deny-special-ranges", "deny-private-ranges", "wasm-proposal",
  "host-plugin", "host-plugin-registry-user", "host-plugin-registry-password",
]); // prettier-ignore
/** Environment `wash host` 2.7.0 reads (`env = ...` in host.rs, and HOME for its XDG directories). */
const WASH_HOST_ENV = new Set([
  "HOME", "WASMCLOUD_HOST_ENVIRONMENT", "WASH_HTTP_CLIENT_CA_PATHS", "WASH_HTTP_CLIENT_TRUST_ROOTS", "WASH_MAX_CONNECTIONS",
  "WASH_MAX_OUTBOUND_HTTP_CONNECTIONS_PER_WORKLOAD", "WASH_MAX_OUTBOUND_SOCKET_CONNECTIONS_PER_WORKLOAD",
  "WASH_MAX_INBOUND_SOCKET_CONNECTIONS_PER_WORKLOAD", "WASH_HTTP_CONNECTION_WAIT", "WASH_POSTGRES_URL", "WASH_OCI_CA_PATHS",
  "WASH_WASM_PROPOSALS", "WASH_HOST_PLUGINS", "WASH_HOST_PLUGIN_REGISTRY_USER", "WASH_HOST_PLUGIN_REGISTRY_PASSWORD",
]); // prettier-ignore

interface Container {
  name: string;
  args: string[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  volumeMounts: { name: string; mountPath: string }[];
  securityContext?: { runAsUser?: number; runAsGroup?: number };
}
interface PodSpec {
  securityContext: { runAsUser?: number; runAsGroup?: number; fsGroup?: number; supplementalGroups?: number[] };
  initContainers?: (Container & { restartPolicy?: string })[];
  containers: Container[];
  volumes: { name: string; secret?: { secretName: string; defaultMode?: number } }[];
}

function podOf(d: K8sObject): { labels: Record<string, string>; spec: PodSpec } {
  const t = (d as unknown as { spec: { template: { metadata: { labels: Record<string, string> }; spec: PodSpec } } }).spec.template;
  return { labels: t.metadata.labels, spec: t.spec };
}

/**
 * Can the container read the files of a Secret volume? Kubelet writes them root-owned; with `fsGroup` it sets their
 * group to fsGroup (kubernetes pkg/volume/volume_linux.go SetVolumeOwnership) and the process gets fsGroup as a
 * supplementary group. Modeled conservatively: the mode is `defaultMode` as given.
 */
function canRead(pod: PodSpec, c: Container, volume: string): boolean {
  const v = pod.volumes.find((x) => x.name === volume)!;
  const mode = v.secret!.defaultMode ?? 0o644;
  const uid = c.securityContext?.runAsUser ?? pod.securityContext.runAsUser ?? 0;
  const groups = [
    c.securityContext?.runAsGroup ?? pod.securityContext.runAsGroup,
    pod.securityContext.fsGroup,
    ...(pod.securityContext.supplementalGroups ?? []),
  ];
  const fileGid = pod.securityContext.fsGroup ?? 0;
  if (uid === 0) return true;
  if (groups.includes(fileGid) && (mode & 0o040) !== 0) return true;
  return (mode & 0o004) !== 0;
}

function prod(): LatticeSpec {
  return parseLattice(readStackConfig("stacks/Pulumi.prod.yaml"));
}

let dir = "";
let certDir = "";

describe("wasmCloud host pods (wash 2.7 + leaf sidecar)", () => {
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "lf-wasmhost-"));
    certDir = path.join(dir, "certs");
    await writePodCerts(certDir, "wasmhost");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("wash host gets only flags and environment wash 2.7 reads; no WASMCLOUD_LATTICE / JS_DOMAIN / LABEL_* / NATS_CREDS", () => {
    const spec = prod();
    for (const h of topologyOf(spec).hosts) {
      const d = hostDeployment(spec, h);
      const host = podOf(d).spec.containers.find((c) => c.name === "host")!;
      assert.equal(host.args[0], "host");
      for (const a of host.args.slice(1)) {
        const flag = /^--([a-z-]+)=/.exec(a)?.[1];
        assert.ok(flag && WASH_HOST_FLAGS.has(flag), `${h.name}: ${a} is not a wash host 2.7 flag`);
      }
      const names = (host.env ?? []).map((e) => e.name);
      const referenced = new Set(host.args.flatMap((a) => [...a.matchAll(/\$\(([A-Z_]+)\)/g)].map((m) => m[1]!)));
      for (const n of names) assert.ok(WASH_HOST_ENV.has(n) || referenced.has(n), `${h.name}: wash 2.7 ignores ${n}`);
      for (const n of referenced) assert.ok(names.includes(n), `${h.name}: $(${n}) is not defined`);
    }
  });

  it("hosts advertise hostgroup <cloud>-<pool>; pods carry the operator's host pod label; every pool has its own group", () => {
    const spec = prod();
    const groups = new Set<string>();
    for (const h of topologyOf(spec).hosts) {
      const pod = podOf(hostDeployment(spec, h));
      const host = pod.spec.containers.find((c) => c.name === "host")!;
      assert.ok(host.args.includes(`--host-group=${hostGroupOf(h.cloud, h.pool)}`), h.name);
      assert.equal(pod.labels[HOST_POD_LABEL], hostGroupOf(h.cloud, h.pool));
      groups.add(hostGroupOf(h.cloud, h.pool));
    }
    assert.deepEqual([...groups].sort(), ["aws-core", "aws-edge", "gcp-core", "gcp-edge"]);
  });

  it("every pool, direct included, reaches NATS through its sidecar on loopback; the sidecar starts first", async () => {
    const spec = prod();
    for (const h of topologyOf(spec).hosts) {
      const d = hostDeployment(spec, h);
      assert.deepEqual(await schemaProblems(d), [], h.name);
      const pod = podOf(d).spec;
      assert.deepEqual(
        pod.initContainers?.map((c) => [c.name, c.restartPolicy]),
        [["nats-leaf", "Always"]],
      );
      const host = pod.containers.find((c) => c.name === "host")!;
      for (const plane of ["scheduler", "data"])
        assert.ok(host.args.includes(`--${plane}-nats-url=tls://127.0.0.1:${SIDECAR_PORTS.client}`), `${h.name} ${plane}`);
      assert.ok(!host.volumeMounts.some((m) => m.mountPath === CREDS_MOUNT), `${h.name}: the host holds no creds`);
    }
  });

  it("uid 65532 can read every Secret file it mounts (fsGroup, group-readable modes)", () => {
    const spec = prod();
    for (const h of topologyOf(spec).hosts) {
      const pod = podOf(hostDeployment(spec, h)).spec;
      for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
        assert.equal(c.securityContext?.runAsUser ?? pod.securityContext.runAsUser, 65532);
        for (const m of c.volumeMounts.filter((x) => pod.volumes.find((v) => v.name === x.name)?.secret))
          assert.ok(canRead(pod, c, m.name), `${h.name}/${c.name} cannot read ${m.mountPath}`);
      }
    }
    // The model can fail: a 0400 Secret without fsGroup is unreadable for uid 65532.
    const bare: PodSpec = {
      securityContext: { runAsUser: 65532 },
      containers: [],
      volumes: [{ name: "s", secret: { secretName: "s", defaultMode: 0o400 } }],
    };
    assert.equal(canRead(bare, { name: "x", args: [], volumeMounts: [] }, "s"), false);
  });

  it("sidecar config: loopback only, no operator JWTs, remote authenticated with the host's leaf user whose creds the pod mounts", async () => {
    const spec = prod();
    const topo = topologyOf(spec);
    const creds = await buildCredentials(spec, topo, MASTER, 1_767_225_600);
    const env = kubernetesEnv(spec);
    for (const h of topo.hosts) {
      const conf = hostSidecarConf(spec, topo, env, creds, h) as Record<string, unknown>;
      assert.equal(conf.listen, `127.0.0.1:${SIDECAR_PORTS.client}`);
      assert.equal(conf.http, `127.0.0.1:${SIDECAR_PORTS.monitor}`);
      for (const k of ["operator", "resolver", "resolver_preload", "system_account"]) assert.equal(conf[k], undefined, k);
      const remote = (conf.leafnodes as { remotes: { credentials: string; urls: string[]; account: string }[] }).remotes[0]!;
      assert.equal(remote.account, "APP");
      const file = path.basename(remote.credentials);
      assert.ok(Object.keys((hostCredsSecret(spec, h, creds) as unknown as { stringData: object }).stringData).includes(file), h.name);
      // Home cloud first, through its hub's in-cluster headless Service.
      assert.ok(remote.urls[0]!.startsWith(`tls://nats-${h.cloud}-headless.`), `${h.name}: home cloud first`);
    }
  });

  it("the pinned nats-server accepts the sidecar config as the pod mounts it, and admits a TLS client with no credentials on loopback", async () => {
    const spec = prod();
    const topo = topologyOf(spec);
    const creds = await buildCredentials(spec, topo, MASTER, 1_767_225_600);
    const h = topo.hosts.find((x) => x.cloud === "aws" && x.pool === "core")!;
    const root = path.join(dir, h.name);
    mkdirSync(path.join(root, "creds"), { recursive: true });
    for (const [f, text] of Object.entries(
      (hostCredsSecret(spec, h, creds) as unknown as { stringData: Record<string, string> }).stringData,
    ))
      writeFileSync(path.join(root, "creds", f), text, { mode: 0o600 });
    // The pod's mount points, relocated into the temp dir; a free port instead of 4222 (other tests share loopback).
    const text = hostSidecarText(spec, topo, kubernetesEnv(spec), creds, h)
      .replaceAll(`${TLS_MOUNT}/`, `${certDir}/`)
      .replaceAll(`${CREDS_MOUNT}/`, `${path.join(root, "creds")}/`)
      .replace(`127.0.0.1:${SIDECAR_PORTS.client}`, "127.0.0.1:-1")
      .replace(`127.0.0.1:${SIDECAR_PORTS.monitor}`, "127.0.0.1:-1");
    const conf = path.join(root, "leaf.conf");
    writeFileSync(conf, text);
    await run(natsServerBin(), ["-t", "-c", conf]);
    const { proc, port } = await spawnNatsServer(conf);
    try {
      const nc = await connect({ servers: `tls://127.0.0.1:${port}`, tls: { caFile: path.join(certDir, "ca.crt") }, timeout: 5000 });
      const sub = nc.subscribe("wasmbus.probe", { max: 1 });
      nc.publish("wasmbus.probe", "x");
      for await (const m of sub) assert.equal(m.string(), "x");
      await nc.close();
    } finally {
      proc.kill("SIGKILL");
    }
  });
});
