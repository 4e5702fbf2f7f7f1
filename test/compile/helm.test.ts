import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { buildCredentials } from "../../src/compile/credentials";
import {
  AUTH_DIR,
  AUTH_FILE,
  IDENTITY_DIR,
  IDENTITY_FILE,
  NATS_CHART,
  KUBECTL_IMAGE,
  natsAuthInclude,
  natsHelmValues,
  natsIdentityFiles,
  natsReleaseGroups,
  podName,
  wasmcloudOperatorValues,
} from "../../src/compile/helm";
import { JS_STORE, kubernetesEnv, TLS_MOUNT } from "../../src/compile/k8senv";
import { natsNodeReader, type K8sObject } from "../../src/compile/kubernetes";
import { compileNats } from "../../src/compile/nats";
import type { NatsConf } from "../../src/compile/natsconf";
import { writePodCerts } from "./podCerts";
import { readStackConfig } from "../../src/model/load";
import type { LatticeSpec } from "../../src/model/schema";
import { topologyOf } from "../../src/model/topology";
import { parseLattice } from "../../src/model/validate";
import { chartConfig, renderChartConfig } from "./natsChart";
import { NATS_SERVER_VERSION, natsServerBin } from "../../src/tools/pins";
import { JETSTREAM_STORAGE_CLASS } from "../../src/compile/storage";

const run = promisify(execFile);
const MASTER = new Uint8Array(32).fill(9);
let dir = "";
let certDir = "";

function stack(name: string): LatticeSpec {
  return parseLattice(readStackConfig(`stacks/Pulumi.${name}.yaml`));
}

async function compiled(spec: LatticeSpec) {
  const topo = topologyOf(spec);
  const creds = await buildCredentials(spec, topo, MASTER, 1_767_225_600);
  return { topo, creds, nats: compileNats(spec, topo, kubernetesEnv(spec), creds) };
}

/** Write the pod's files as the chart and latticeform's volumes lay them out, and run `nats-server -t`. */
async function checkPod(name: string, conf: string, auth: string, identity: string): Promise<string> {
  const root = path.join(dir, name);
  for (const d of ["nats-config", AUTH_DIR.split("/").pop()!, IDENTITY_DIR.split("/").pop()!])
    mkdirSync(path.join(root, d), { recursive: true });
  // Mount points of the TLS Secret and the JetStream volume, relocated into the temp dir.
  const text = conf.replaceAll(`${TLS_MOUNT}/`, `${certDir}/`).replaceAll(JS_STORE, path.join(root, "js"));
  writeFileSync(path.join(root, "nats-config", "nats.conf"), text);
  writeFileSync(path.join(root, AUTH_DIR.split("/").pop()!, AUTH_FILE), auth, { mode: 0o600 });
  writeFileSync(path.join(root, IDENTITY_DIR.split("/").pop()!, IDENTITY_FILE), identity);
  try {
    await run(natsServerBin(), ["-t", "-c", path.join(root, "nats-config", "nats.conf")]);
    return "";
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string };
    return `${name}: ${err.stderr ?? ""}${err.stdout ?? ""}`;
  }
}

/** The chart document with `<< $VAR >>` references replaced by the identity file's values, as nats-server reads it. */
function resolveVars(v: unknown, vars: Record<string, unknown>): unknown {
  if (typeof v === "string") {
    const m = /^<< \$([A-Z_]+) >>$/.exec(v);
    return m && m[1]! in vars ? vars[m[1]!] : v;
  }
  if (Array.isArray(v)) return v.map((x) => resolveVars(x, vars));
  if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolveVars(x, vars)]));
  return v;
}

/** Parse an identity file (`KEY: value` lines of JSON values). */
function identityVars(text: string): Record<string, unknown> {
  return Object.fromEntries(
    text
      .split("\n")
      .filter((l) => /^[A-Z_]+: /.test(l))
      .map((l) => [l.slice(0, l.indexOf(":")), JSON.parse(l.slice(l.indexOf(":") + 2))]),
  );
}

describe("Helm values of the NATS chart", () => {
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "lf-helm-"));
    certDir = path.join(dir, "certs");
    await writePodCerts(certDir, "helm");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const name of ["small", "prod"]) {
    it(`${name}: one release per cluster and cloud; every pod's chart config equals the compiled config and passes nats-server -t`, async () => {
      const spec = stack(name);
      const { topo, nats } = await compiled(spec);
      const groups = natsReleaseGroups(spec, topo);
      // Hubs of both clouds, and the stretched cluster's members in each cloud; the tie-breaker runs on VMs.
      assert.deepEqual(
        groups.map((g) => `${g.release}@${g.cloud}:${g.servers.length}`),
        ["nats-aws@aws:3", "nats-gcp@gcp:3", "nats-stretch@aws:1", "nats-stretch@gcp:1"],
      );
      const errors: string[] = [];
      for (const g of groups) {
        const values = natsHelmValues(spec, g, nats.servers, { storageClassName: JETSTREAM_STORAGE_CLASS });
        const identity = natsIdentityFiles(g, nats.servers);
        const rawDoc = chartConfig(values);
        const text = renderChartConfig(rawDoc);
        for (const [i, s] of g.servers.entries()) {
          const want = nats.servers.find((x) => x.name === s.name)!.conf;
          const auth = natsAuthInclude(nats.servers.find((x) => x.name === s.name)!);
          const idText = identity[`${podName(g.release, i)}.conf`]!;
          // Identity: the pod's server name and tags, and what it advertises (a stretched member's own address).
          const vars = identityVars(idText);
          // Gateways advertise an address other sites reach (nats-server gossips it), never a pod IP.
          assert.ok(vars.LF_GATEWAY_ADVERTISE, `${s.name} advertises its gateway`);
          const adv = (b: string) => (want[b] as NatsConf | undefined)?.advertise;
          const advertised = {
            LF_CLUSTER_ADVERTISE: adv("cluster"),
            LF_GATEWAY_ADVERTISE: adv("gateway"),
            LF_LEAFNODE_ADVERTISE: adv("leafnodes"),
          };
          assert.deepEqual(vars, {
            LF_SERVER_NAME: want.server_name,
            LF_SERVER_TAGS: want.server_tags,
            ...Object.fromEntries(Object.entries(advertised).filter(([, v]) => v !== undefined)),
          });
          const doc = resolveVars(rawDoc, vars) as NatsConf;
          // Every other compiled key, as the chart renders it.
          for (const [k, v] of Object.entries(want)) {
            if (v === undefined || k === "server_name" || k === "server_tags") continue;
            if (["operator", "system_account", "resolver", "resolver_preload"].includes(k)) {
              assert.ok(auth.includes(`${k}: `), `${k} in the auth include`);
              continue;
            }
            if (k === "listen") assert.equal(`0.0.0.0:${String(doc.port)}`, v);
            else if (k === "http") assert.equal(`0.0.0.0:${String(doc.http_port)}`, v);
            else if (k === "cluster") {
              const { routes, ...rest } = v as NatsConf;
              const got = doc.cluster as NatsConf;
              for (const [ck, cv] of Object.entries(rest)) assert.deepEqual(got[ck], cv, `${s.name} cluster.${ck}`);
              for (const r of routes as string[]) assert.ok((got.routes as string[]).includes(r), `${s.name} route ${r}`);
            } else if (typeof v === "object" && !Array.isArray(v)) {
              for (const [bk, bv] of Object.entries(v)) assert.deepEqual((doc[k] as NatsConf)[bk], bv, `${s.name} ${k}.${bk}`);
            } else assert.deepEqual(doc[k], v, `${s.name} ${k}`);
          }
          errors.push(await checkPod(`${name}-${podName(g.release, i)}`, text, auth, idText));
        }
      }
      assert.deepEqual(errors.filter(Boolean), []);
    });
  }

  it("TLS on every port; gateways list the other clusters; no key material in the values", async () => {
    const spec = stack("prod");
    const { topo, nats, creds } = await compiled(spec);
    for (const g of natsReleaseGroups(spec, topo)) {
      const values = natsHelmValues(spec, g, nats.servers, { storageClassName: JETSTREAM_STORAGE_CLASS });
      const cfg = values.config as Record<string, Record<string, unknown>>;
      assert.equal((cfg.nats!.tls as { enabled: boolean }).enabled, true);
      const doc = chartConfig(values);
      for (const block of ["cluster", "gateway", ...(g.cluster === g.cloud ? ["leafnodes"] : [])]) {
        const tls = (doc[block] as { tls?: { verify?: boolean; cert_file?: string } }).tls;
        assert.equal(tls?.verify, true, `${g.release} ${block} verifies peers`);
        assert.equal(tls?.cert_file, `${TLS_MOUNT}/tls.crt`);
      }
      const gws = (doc.gateway as { gateways: { name: string }[] }).gateways.map((x) => x.name).sort();
      assert.deepEqual(
        gws,
        topo.clusters
          .map((c) => c.name)
          .filter((c) => c !== g.cluster)
          .sort(),
      );
      const text = JSON.stringify(values);
      for (const a of Object.values(creds.accounts))
        assert.ok(!text.includes(a.jwt) && !text.includes(a.publicKey), "no account JWT or key");
      assert.ok(!text.includes(creds.operator.jwt));
      assert.ok(!/-----BEGIN|SUA[A-Z0-9]{20}/.test(text), "no PEM or seed");
    }
  });

  it("derives from the compiled configs: endpoints given to the compiler land in the gateway merge", async () => {
    const spec = stack("small");
    const topo = topologyOf(spec);
    const creds = await buildCredentials(spec, topo, MASTER, 1_767_225_600);
    const env = kubernetesEnv(spec, { endpoints: { gcp: { gateway: "gw.gcp.example" } } });
    const nats = compileNats(spec, topo, env, creds);
    const g = natsReleaseGroups(spec, topo).find((x) => x.release === "nats-aws")!;
    const doc = chartConfig(natsHelmValues(spec, g, nats.servers, { storageClassName: JETSTREAM_STORAGE_CLASS }));
    const gcp = (doc.gateway as { gateways: { name: string; urls: string[] }[] }).gateways.find((x) => x.name === "gcp")!;
    assert.deepEqual(gcp.urls, ["tls://gw.gcp.example:7222"]);
  });

  it("every NATS pod runs the pinned nats-server image (the one the local lattice and the tests run), not the chart's default", async () => {
    const spec = stack("prod");
    const { topo, nats } = await compiled(spec);
    const tag = `${NATS_SERVER_VERSION}-alpine`;
    for (const g of natsReleaseGroups(spec, topo)) {
      const v = natsHelmValues(spec, g, nats.servers, { storageClassName: JETSTREAM_STORAGE_CLASS }) as {
        container: { image: { repository: string; tag: string } };
        podTemplate: { patch: { path: string; value: { image: string }[] }[] };
      };
      assert.deepEqual(v.container.image, { repository: "nats", tag }, g.release);
      const init = v.podTemplate.patch.find((p) => p.path === "/spec/initContainers")!.value;
      // The identity init container runs the pinned server; the zone init container is kubectl.
      assert.deepEqual(
        init.map((c) => c.image),
        [`nats:${tag}`, KUBECTL_IMAGE],
      );
    }
    // The chart version follows the server (its appVersion is the server it ships).
    assert.equal(NATS_CHART.version, NATS_SERVER_VERSION);
  });

  it("the az: tag is the zone of the node the pod runs on (zone init container, node-reader RBAC); the result passes nats-server -t", async () => {
    const spec = stack("small");
    const { topo, nats } = await compiled(spec);
    const g = natsReleaseGroups(spec, topo)[0]!;
    const values = natsHelmValues(spec, g, nats.servers, { storageClassName: JETSTREAM_STORAGE_CLASS }) as {
      fullnameOverride: string;
      serviceAccount: { enabled: boolean };
      podTemplate: { patch: { path: string; value: unknown }[] };
    };
    assert.equal(values.serviceAccount.enabled, true);
    const inits = values.podTemplate.patch.find((p) => p.path === "/spec/initContainers")!.value as {
      name: string;
      image: string;
      command: string[];
      env: { name: string; valueFrom: { fieldRef: { fieldPath: string } } }[];
    }[];
    assert.deepEqual(
      inits.map((c) => c.name),
      ["identity", "zone"],
    );
    const zone = inits[1]!;
    assert.equal(zone.image, KUBECTL_IMAGE);
    assert.deepEqual(zone.env, [{ name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }]);
    // The chart's service account (named after the release) may get nodes, nothing else.
    const [role, binding] = natsNodeReader(spec, g) as [
      K8sObject & { rules: unknown[] },
      K8sObject & { subjects: unknown[]; roleRef: { name: string } },
    ];
    assert.deepEqual(role.rules, [{ apiGroups: [""], resources: ["nodes"], verbs: ["get"] }]);
    assert.deepEqual(binding.subjects, [{ kind: "ServiceAccount", name: values.fullnameOverride, namespace: "nats" }]);
    assert.equal(binding.roleRef.name, role.metadata.name);
    // Run the init container's script against the pod's identity file with a kubectl that answers like the API.
    const root = path.join(dir, "zone");
    const idDir = path.join(root, IDENTITY_DIR.split("/").pop()!);
    mkdirSync(idDir, { recursive: true });
    writeFileSync(
      path.join(root, "kubectl"),
      `#!/bin/sh\n[ "$3" = "node-c" ] || exit 3\ncase "$*" in *'topology\\.kubernetes\\.io/zone'*) printf %s "$ZONE";; *) exit 4;; esac\n`,
    );
    chmodSync(path.join(root, "kubectl"), 0o755);
    const identity = natsIdentityFiles(g, nats.servers)[`${podName(g.release, 0)}.conf`]!;
    assert.ok(identity.includes('"az:eu-west-1a"'), "ordinal 0's compiled zone");
    const runZone = (z: string) => {
      writeFileSync(path.join(idDir, IDENTITY_FILE), identity);
      const script = zone.command[2]!.replaceAll(IDENTITY_DIR, idDir);
      return spawnSync("bash", ["-c", script], { env: { PATH: `${root}:/usr/bin:/bin`, NODE_NAME: "node-c", ZONE: z }, encoding: "utf8" });
    };
    const ok = runZone("eu-west-1c");
    assert.equal(ok.status, 0, ok.stderr);
    const fixed = readFileSync(path.join(idDir, IDENTITY_FILE), "utf8");
    assert.deepEqual(identityVars(fixed).LF_SERVER_TAGS, ["cloud:aws", "provider:aws", "region:eu-west-1", "az:eu-west-1c", "cluster:aws"]);
    const bad = runZone("");
    assert.notEqual(bad.status, 0, "a node without a zone label stops the pod");
    assert.match(bad.stderr, /no usable topology.kubernetes.io\/zone label/);
    const text = renderChartConfig(chartConfig(values as unknown as Record<string, unknown>));
    const auth = natsAuthInclude(nats.servers.find((x) => x.name === g.servers[0]!.name)!);
    assert.equal(await checkPod("zone-pod", text, auth, fixed), "");
  });

  it("refuses a group whose servers were not compiled", () => {
    const spec = stack("small");
    const topo = topologyOf(spec);
    const g = natsReleaseGroups(spec, topo)[0]!;
    assert.throws(() => natsHelmValues(spec, g, [], { storageClassName: JETSTREAM_STORAGE_CLASS }), /no compiled config for server aws-1/);
  });

  it("wasmCloud operator: no bundled NATS, the cloud's hub over TLS", () => {
    const v = wasmcloudOperatorValues(stack("small"), "gcp") as { nats: { enabled: boolean }; global: { nats: { schedulerUrl: string } } };
    assert.equal(v.nats.enabled, false);
    assert.equal(v.global.nats.schedulerUrl, "tls://nats-gcp.nats.svc.cluster.local:4222");
  });
});
