import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse as parseYaml } from "yaml";
import { buildCredentials } from "../../src/compile/credentials";
import { kubernetesEnv } from "../../src/compile/k8senv";
import { hubLoadBalancer, KRUSTLET_TAINTS, runtimeTaint, WASM_ARCH, workloadObjects, type K8sObject } from "../../src/compile/kubernetes";
import { jetstreamObjects } from "../../src/compile/jetstreamObjects";
import { compileNats } from "../../src/compile/nats";
import { hostSidecarConf } from "../../src/compile/wasmhost";
import { pathArtifactFacts } from "../../src/oci/facts";
import { kubernetesBundles, renderKubernetesArtifacts } from "../../src/render/render";
import { readStackConfig } from "../../src/model/load";
import type { LatticeInput, LatticeSpec } from "../../src/model/schema";
import { topologyOf } from "../../src/model/topology";
import { parseLattice } from "../../src/model/validate";
import { withVouchedKrustlet } from "../fixtures/krustlet";
import { schemaProblems } from "./k8sSchema";

const MASTER = new Uint8Array(32).fill(3);

function stackInput(name: string): LatticeInput {
  return readStackConfig(`stacks/Pulumi.${name}.yaml`) as LatticeInput;
}

async function bundles(spec: LatticeSpec) {
  const topo = topologyOf(spec);
  const creds = await buildCredentials(spec, topo, MASTER, 1_767_225_600);
  const nats = compileNats(spec, topo, kubernetesEnv(spec), creds);
  return { topo, creds, bundles: kubernetesBundles(spec, topo, nats, creds, { sourceRanges: ["203.0.113.7/32"] }) };
}

type Obj = K8sObject & { spec: Record<string, unknown> };

describe("Kubernetes objects", () => {
  for (const name of ["small", "prod"]) {
    it(`${name}: every object and Secret passes its schema (kubernetes-models; CRD openAPIV3Schema and CEL rules)`, async () => {
      const { bundles: bs } = await bundles(parseLattice(stackInput(name)));
      const all = bs.flatMap((b) => [...b.objects, ...b.secrets]);
      assert.ok(all.length > 20, `${all.length} objects`);
      const problems = (await Promise.all(all.map((o) => schemaProblems(o)))).flat();
      assert.deepEqual(problems, []);
      // Each kind the components create is covered.
      const kinds = new Set(all.map((o) => o.kind));
      for (const k of ["Namespace", "Service", "ConfigMap", "Secret", "Deployment", "WorkloadDeployment", "Stream"])
        assert.ok(kinds.has(k), k);
    });
  }

  it("a bucket wash uses is declared as its stream without direct gets; any other bucket as a KeyValue; both pass their CRDs", async () => {
    const input = stackInput("small") as { kv: unknown[] };
    input.kv.push({ bucket: "sessions", replicas: 3, placement: { cluster: "stretch" } });
    const spec = parseLattice(input);
    const objs = spec.clouds.flatMap((c) => jetstreamObjects(spec, c.name)) as Obj[];
    const balances = objs.find((o) => o.metadata.name === "kv-balances")!;
    assert.equal(balances.kind, "Stream");
    assert.deepEqual(
      [balances.spec.name, balances.spec.subjects, balances.spec.allowDirect, balances.spec.denyDelete, balances.spec.allowRollup],
      ["KV_balances", ["$KV.balances.>"], undefined, true, true],
    );
    const sessions = objs.find((o) => o.metadata.name === "kv-sessions")!;
    assert.equal(sessions.kind, "KeyValue");
    assert.deepEqual((await Promise.all([balances, sessions].map((o) => schemaProblems(o)))).flat(), []);
  });

  it("the schema check fails on broken objects (a misspelt CRD field, a wrong type, a missing field)", async () => {
    const stream = { apiVersion: "jetstream.nats.io/v1beta2", kind: "Stream", metadata: { name: "x" }, spec: { name: "X", replica: 3 } };
    assert.match((await schemaProblems(stream)).join("\n"), /additional properties/);
    const wd = { apiVersion: "runtime.wasmcloud.dev/v1alpha1", kind: "WorkloadDeployment", metadata: { name: "x" }, spec: { replicas: 1 } };
    assert.match((await schemaProblems(wd)).join("\n"), /template/);
    const svc = { apiVersion: "v1", kind: "Service", metadata: { name: "x" }, spec: { ports: [{ port: "http" }] } };
    assert.match((await schemaProblems(svc)).join("\n"), /integer/);
    assert.match((await schemaProblems({ apiVersion: "x/v1", kind: "Nope", metadata: { name: "y" } })).join(), /no schema/);
  });

  it("load balancers: only the given ranges, never the open internet; empty ranges refused", () => {
    const spec = parseLattice(stackInput("small"));
    const lb = hubLoadBalancer(spec, "aws", ["52.1.2.3/32", "34.5.6.7/32"]) as Obj;
    assert.equal(lb.spec.type, "LoadBalancer");
    assert.deepEqual(lb.spec.loadBalancerSourceRanges, ["52.1.2.3/32", "34.5.6.7/32"]);
    assert.deepEqual(
      (lb.spec.ports as { name: string; port: number }[]).map((p) => `${p.name}:${p.port}`),
      ["gateway:7222", "leafnodes:7422", "nats:4222"],
    );
    assert.throws(() => hubLoadBalancer(spec, "aws", []), /no source ranges/);
  });

  it("active-passive: the primary gets its instances, each standby cloud its warm instances", async () => {
    const input = stackInput("small");
    const ledger = input.workloads!.find((w) => w.name === "ledger")!;
    const spec = parseLattice({
      ...input,
      workloads: [{ ...ledger, instances: { aws: 3, gcp: 3 }, failover: { mode: "active-passive", primary: "aws", warmStandby: 2 } }],
    });
    const w = spec.workloads[0]!;
    const facts = pathArtifactFacts(spec)[w.name];
    const replicas = (cloud: string) => (workloadObjects(spec, w, cloud, "r.example", facts)[0] as Obj | undefined)?.spec.replicas;
    assert.equal(replicas("aws"), 3);
    assert.equal(replicas("gcp"), 2);
    const cold = parseLattice({
      ...input,
      workloads: [{ ...ledger, failover: { mode: "active-passive", primary: "gcp", warmStandby: 0 } }],
    });
    assert.deepEqual(workloadObjects(cold, cold.workloads[0]!, "aws", "r.example", facts), [], "no warm instances: no object");
    const wd = workloadObjects(spec, w, "gcp", "r.example", facts)[0] as Obj;
    assert.equal(wd.kind, "WorkloadDeployment");
    assert.deepEqual((wd.spec.template as { spec: { hostSelector: unknown } }).spec.hostSelector, { hostgroup: "gcp-hosts" });
  });

  it("Krustlet workloads select wasm32-wasi nodes and tolerate their taints; runtime-class workloads name the RuntimeClass", async () => {
    const input = withVouchedKrustlet(stackInput("prod"));
    const spec = parseLattice({
      ...input,
      workloads: [
        ...input.workloads!,
        { name: "edge-fn", artifact: { oci: "ghcr.io/x/edge-fn:1" }, runtime: "krustlet", subject: "edge.fn" },
      ],
    });
    const k = workloadObjects(
      spec,
      spec.workloads.find((w) => w.name === "edge-fn")!,
      "aws",
      "r.example",
    )[0] as Obj;
    const pod = (
      k.spec.template as { spec: { nodeSelector: Record<string, string>; tolerations: { key: string; value?: string; effect: string }[] } }
    ).spec;
    assert.equal(pod.nodeSelector[WASM_ARCH.key], WASM_ARCH.value);
    for (const t of KRUSTLET_TAINTS)
      assert.ok(pod.tolerations.some((x) => x.key === t.key && x.value === t.value && x.effect === t.effect));
    const { bundles: bs } = await bundles(spec);
    const aws = bs.find((b) => b.cloud === "aws")!;
    const fraud = aws.objects.find((o) => o.kind === "Deployment" && o.metadata.name === "fraud-score") as Obj;
    assert.equal((fraud.spec.template as { spec: { runtimeClassName: string } }).spec.runtimeClassName, "wasmedge");
    const rc = aws.objects.find((o) => o.kind === "RuntimeClass" && o.metadata.name === "wasmedge") as K8sObject & {
      scheduling: { tolerations: unknown[] };
    };
    const t = runtimeTaint("wasmedge");
    assert.deepEqual(rc.scheduling.tolerations, [{ key: t.key, operator: "Equal", value: t.value, effect: t.effect }]);
  });

  it("host sidecars (leaf and direct pools alike) reach their home hub in-cluster and the other cloud at its exposed addresses", async () => {
    const spec = parseLattice(stackInput("prod"));
    const topo = topologyOf(spec);
    const creds = await buildCredentials(spec, topo, MASTER, 1_767_225_600);
    const env = kubernetesEnv(spec, { endpoints: { aws: { leafnode: ["52.0.0.1", "52.0.0.2"] }, gcp: { leafnode: "34.0.0.1" } } });
    for (const h of topo.hosts.filter((x) => x.cloud === "gcp")) {
      const conf = hostSidecarConf(spec, topo, env, creds, h) as { leafnodes: { remotes: { urls: string[] }[] } };
      const urls = conf.leafnodes.remotes[0]!.urls;
      // Home hub through the chart's headless Service (not-ready pods too), never a placeholder or a load balancer.
      assert.equal(urls[0], "tls://nats-gcp-headless.nats.svc.cluster.local:7422", h.name);
      assert.deepEqual(
        [...urls].sort(),
        ["tls://52.0.0.1:7422", "tls://52.0.0.2:7422", "tls://nats-gcp-headless.nats.svc.cluster.local:7422"].sort(),
        h.name,
      );
    }
  });

  it("render writes kubernetes/<cloud>/ and boot/<site>/; Secrets (and only they) hold key material and are marked secret", async () => {
    const spec = parseLattice(stackInput("prod"));
    const arts = await renderKubernetesArtifacts(spec, MASTER, 1_767_225_600);
    const dirs = new Set(arts.map((a) => a.path.split("/").slice(0, 2).join("/")));
    assert.deepEqual([...dirs].sort(), ["boot/aws", "boot/gcp", "boot/tb", "kubernetes/aws", "kubernetes/gcp"]);
    for (const a of arts) {
      const keyMaterial = /-----BEGIN|eyJ0eXAiOiJKV1Qi|SUA[A-Z2-7]{50}/.test(a.content);
      if (a.path.startsWith("kubernetes/") && !a.path.includes("helm-")) {
        const obj = parseYaml(a.content) as K8sObject;
        assert.equal(a.secret, obj.kind === "Secret", a.path);
        assert.deepEqual(await schemaProblems(obj), [], a.path);
      }
      if (!a.secret) assert.equal(keyMaterial, false, `${a.path} holds key material`);
    }
    assert.ok(
      arts.some((a) => a.secret && /eyJ0eXAiOiJKV1Qi/.test(a.content)),
      "the auth include and creds are rendered, as secrets",
    );
  });
});
