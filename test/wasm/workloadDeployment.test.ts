/**
 * WorkloadDeployment wiring for wash 2.7 hosts, checked against the runtime-operator's CRD
 * (test/fixtures/crds/wasmcloud-workloaddeployments.yaml): hostInterfaces for what the component imports,
 * hosts selected by hostgroup, the component referenced by the digest of its pushed artifact; the CRD's
 * openAPIV3Schema and its CEL rules (`x-kubernetes-validations`, evaluated by ../compile/crdCel.ts).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { parseAllDocuments } from "yaml";
import { workloadObjects } from "../../src/compile/kubernetes";
import { hostInterfacesOf, queueGroupOf } from "../../src/compile/workloadDeployment";
import { readStackConfig } from "../../src/model/load";
import type { LatticeInput } from "../../src/model/schema";
import { parseLattice } from "../../src/model/validate";
import { pathArtifactFacts } from "../../src/oci/facts";
import { celFailures } from "../compile/crdCel";
import { crdSchema, schemaProblems } from "../compile/k8sSchema";

type WD = { metadata: { name: string }; spec: { replicas: number; template: { spec: Record<string, unknown> } } };

const small = () => structuredClone(readStackConfig("stacks/Pulumi.small.yaml")) as LatticeInput;

describe("WorkloadDeployments for wash 2.7", () => {
  it("carry hostInterfaces for what each component imports, select by hostgroup, reference by digest, and pass the CRD", async () => {
    const spec = parseLattice(small());
    const facts = pathArtifactFacts(spec);
    for (const w of spec.workloads) {
      const [wd, ...more] = workloadObjects(spec, w, "aws", "registry.example/lf", facts[w.name]) as unknown as WD[];
      assert.equal(more.length, 0);
      assert.deepEqual(await schemaProblems(wd as never), []);
      const t = wd!.spec.template.spec;
      assert.deepEqual(t.hostSelector, { hostgroup: "aws-hosts" });
      assert.deepEqual(t.components, [{ name: w.name, image: `registry.example/lf/small/${w.name}@${facts[w.name]!.digest}` }]);
      assert.match(facts[w.name]!.digest, /^sha256:[0-9a-f]{64}$/);
      const hi = t.hostInterfaces as {
        namespace: string;
        package: string;
        version: string;
        interfaces: string[];
        config?: Record<string, string>;
      }[];
      assert.deepEqual(hi[0], {
        namespace: "wasmcloud",
        package: "messaging",
        version: "0.2.0",
        interfaces: ["consumer", "handler", "types"],
        config: { subscriptions: w.subject, consumer_group: queueGroupOf(spec, w) },
      });
      // Key-value only where the workload declares a bucket; the bucket itself is what the component opens.
      if (w.kv)
        assert.deepEqual(hi[1], { namespace: "wasi", package: "keyvalue", version: "0.2.0-draft", interfaces: ["atomics", "store"] });
      else assert.equal(hi.length, 1);
    }
    // The queue group is the one the local hosts join.
    assert.equal(queueGroupOf(spec, spec.workloads[0]!), "latticeform.small.validator");
  });

  it("lists only the interfaces a component uses (an entry whose interfaces it does not use never applies on wash)", () => {
    const spec = parseLattice(small());
    const trapLike = { imports: ["wasmcloud:messaging/types@0.2.0"], exports: ["wasmcloud:messaging/handler@0.2.0"] };
    assert.deepEqual(hostInterfacesOf(spec, spec.workloads[0]!, trapLike)[0]!.interfaces, ["handler", "types"]);
  });

  it("one WorkloadDeployment per host pool of the cloud, replicas spread, each selecting its pool's hostgroup", async () => {
    const input = small();
    input.clouds![0]!.hostPools = [
      { name: "a", hosts: 1 },
      { name: "b", hosts: 1 },
    ];
    input.workloads![0]!.instances = { aws: 3, gcp: 1 };
    const spec = parseLattice(input);
    const w = spec.workloads[0]!;
    const wds = workloadObjects(spec, w, "aws", "r.example", pathArtifactFacts(spec)[w.name]) as unknown as WD[];
    assert.deepEqual(
      wds.map((x) => [x.metadata.name, x.spec.replicas, x.spec.template.spec.hostSelector]),
      [
        ["validator-a", 2, { hostgroup: "aws-a" }],
        ["validator-b", 1, { hostgroup: "aws-b" }],
      ],
    );
    for (const x of wds) assert.deepEqual(await schemaProblems(x as never), []);
  });

  it("never references a path artifact by tag: without its digest there is no object", () => {
    const spec = parseLattice(small());
    assert.throws(
      () => workloadObjects(spec, spec.workloads[0]!, "aws", "r.example"),
      /workloads\.validator\.artifact: the digest of workloads\/build\/validator\.wasm/,
    );
  });
});

const WD_KIND = "runtime.wasmcloud.dev/v1alpha1/WorkloadDeployment";
const DUPLICATE = "hostInterfaces must not contain duplicate entries with the same namespace, package, name, and version";
const UNNAMED =
  "at most one unnamed hostInterface is allowed per namespace:package; set a unique name to disambiguate multiple imports of the same package";

/** Every WorkloadDeployment latticeform builds for a stack: each wasmCloud workload on each cloud, path artifacts by digest. */
function stackWorkloadDeployments(stack: string): WD[] {
  const spec = parseLattice(readStackConfig(`stacks/Pulumi.${stack}.yaml`));
  const facts = pathArtifactFacts(spec);
  return spec.clouds.flatMap((c) =>
    spec.workloads.flatMap((w) =>
      workloadObjects(spec, w, c.name, "r.example/lf", facts[w.name]).filter((o) => o.kind === "WorkloadDeployment"),
    ),
  ) as unknown as WD[];
}

/** Every CEL rule in the fixture CRDs, by file. */
function fixtureRules(): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const collect = (x: unknown, into: string[]): void => {
    if (Array.isArray(x)) x.forEach((v) => collect(v, into));
    else if (typeof x === "object" && x !== null)
      for (const [k, v] of Object.entries(x)) {
        if (k === "x-kubernetes-validations") into.push(...(v as { rule: string }[]).map((r) => r.rule));
        else collect(v, into);
      }
  };
  for (const file of ["nack.yml", "wasmcloud-workloaddeployments.yaml"]) {
    out[file] = [];
    for (const doc of parseAllDocuments(readFileSync(`test/fixtures/crds/${file}`, "utf8"))) collect(doc.toJS(), out[file]);
  }
  return out;
}

describe("WorkloadDeployment CRD CEL rules (runtime-operator CRD, x-kubernetes-validations)", () => {
  const messagesOf = async (wd: WD) => (await celFailures(crdSchema(WD_KIND), wd)).map((f) => `${f.path}: ${f.message}`);
  const at = "spec.template.spec.hostInterfaces";

  for (const stack of ["small", "prod"]) {
    it(`${stack}: every WorkloadDeployment latticeform builds passes every CEL rule of the CRD`, async () => {
      const wds = stackWorkloadDeployments(stack);
      assert.ok(wds.length >= 4, `${wds.length} WorkloadDeployments`);
      for (const wd of wds) {
        // The rules sit on hostInterfaces: each object reaches them.
        assert.ok((wd.spec.template.spec.hostInterfaces as unknown[]).length >= 1, wd.metadata.name);
        assert.deepEqual(await messagesOf(wd), [], wd.metadata.name);
      }
    });
  }

  it("refuses duplicate hostInterfaces and two unnamed entries of one namespace:package, with the CRD's messages", async () => {
    const [wd] = stackWorkloadDeployments("small");
    const hi = wd!.spec.template.spec.hostInterfaces as Record<string, unknown>[];
    const withHi = (entries: Record<string, unknown>[]): WD => {
      const x = structuredClone(wd!);
      x.spec.template.spec.hostInterfaces = entries;
      return x;
    };
    const named = { ...hi[0]!, name: "orders" };
    // The same named entry twice: a duplicate (the unnamed rule does not apply to named entries).
    assert.deepEqual(await messagesOf(withHi([named, { ...named }])), [`${at}: ${DUPLICATE}`]);
    // Two unnamed entries of wasmcloud:messaging (versions differ, so no duplicate).
    assert.deepEqual(await messagesOf(withHi([hi[0]!, { ...hi[0]!, version: "0.3.0" }])), [`${at}: ${UNNAMED}`]);
    // An unnamed duplicate breaks both; the existing schema check reports it too.
    assert.deepEqual(await messagesOf(withHi([hi[0]!, { ...hi[0]! }])), [`${at}: ${DUPLICATE}`, `${at}: ${UNNAMED}`]);
    assert.match((await schemaProblems(withHi([hi[0]!, { ...hi[0]! }]) as never)).join("\n"), /must not contain duplicate entries/);
    // Named apart, the same package twice is what the CRD allows.
    assert.deepEqual(await messagesOf(withHi([hi[0]!, named, { ...named, name: "audit" }])), []);
  });

  it("every rule of the fixture CRDs is exercised by a failing case above", () => {
    // NACK's CRDs (nats-io/k8s @957650f) carry no x-kubernetes-validations; the WorkloadDeployment CRD two, both above.
    const rules = fixtureRules();
    assert.deepEqual(rules["nack.yml"], []);
    const hostInterfaces = crdSchema(WD_KIND).properties!.spec!.properties!.template!.properties!.spec!.properties!.hostInterfaces!;
    const exercised = (hostInterfaces["x-kubernetes-validations"] ?? []).map((r) => r.message);
    assert.deepEqual(exercised, [DUPLICATE, UNNAMED]);
    assert.equal(rules["wasmcloud-workloaddeployments.yaml"]!.length, exercised.length, "a new rule needs a failing case");
  });
});

describe("Workloads component (Pulumi mocks)", () => {
  it("pushes each path artifact once per cloud and deploys it by the pushed digest", async () => {
    const { evaluateProgram } = await import("../components/harness");
    const k8s = await import("@pulumi/kubernetes");
    const { Workloads } = await import("../../components/workloads");
    const spec = parseLattice(small());
    const facts = pathArtifactFacts(spec);
    const ev = await evaluateProgram("wd1", (opts) => {
      const provider = new k8s.Provider("k", { kubeconfig: "x" });
      return new Workloads("W", { spec, cloud: "aws", provider, registry: "r.example/lf" }, opts);
    });
    const pushes = ev.resources.filter((r) => r.type === "pulumi-nodejs:dynamic:Resource");
    assert.deepEqual(pushes.map((r) => r.name).sort(), ["W-ledger-artifact-push", "W-validator-artifact-push"]);
    assert.equal(ev.byName.get("W-validator-artifact-push")!.inputs!.digest, facts.validator!.digest);
    assert.equal(ev.byName.get("W-validator-artifact")!.parent, "W");
    const wd = ev.byName.get("W-ledger")!;
    assert.equal(wd.type, "kubernetes:runtime.wasmcloud.dev/v1alpha1:WorkloadDeployment");
    const comps = (wd.inputs!.spec as { template: { spec: { components: { image: string }[] } } }).template.spec.components;
    assert.deepEqual(comps, [{ name: "ledger", image: `r.example/lf/small/ledger@${facts.ledger!.digest}` }]);
  });
});
