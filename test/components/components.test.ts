import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { AwsSite } from "../../components/awsSite";
import { LatticeCredentials, type PemSet } from "../../components/credentials";
import { GcpSite } from "../../components/gcpSite";
import { HubCluster } from "../../components/hubCluster";
import { JetStreamAssets } from "../../components/jetstreamAssets";
import { KrustletPool } from "../../components/krustletPool";
import { NatsExposure } from "../../components/natsExposure";
import { RuntimeClassPool } from "../../components/runtimeClassPool";
import { TieBreakerSite } from "../../components/tieBreakerSite";
import { WasmcloudOperator } from "../../components/wasmcloudOperator";
import { WasmHostPool } from "../../components/wasmHostPool";
import { Workloads } from "../../components/workloads";
import { buildCredentials } from "../../src/compile/credentials";
import { natsReleaseGroups } from "../../src/compile/helm";
import { readStackConfig } from "../../src/model/load";
import type { LatticeInput, LatticeSpec } from "../../src/model/schema";
import { topologyOf } from "../../src/model/topology";
import { parseLattice } from "../../src/model/validate";
import { evaluateProgram, type Recorded } from "./harness";

function stack(name: string): LatticeSpec {
  return parseLattice(readStackConfig(`stacks/Pulumi.${name}.yaml`) as LatticeInput);
}

function pems(): PemSet {
  return { cert: pulumi.output("CERT"), key: pulumi.secret("KEY"), ca: pulumi.output("CA") };
}

/** Every child is named after its parent, parented by a component of the tree, and (for custom resources) uses a provider. */
function assertTree(resources: Recorded[], root: string, providerOf?: (r: Recorded) => string | undefined): void {
  const names = new Set(resources.map((r) => r.name));
  for (const r of resources.filter((x) => x.name !== root)) {
    assert.ok(r.parent && names.has(r.parent), `${r.name}: parent ${String(r.parent)} in the tree`);
    assert.ok(r.name.startsWith(`${r.parent}-`), `${r.name} named after ${r.parent}`);
    if (providerOf && r.custom && !r.type.startsWith("pulumi:providers:"))
      assert.equal(r.provider, providerOf(r), `${r.type} ${r.name} provider`);
  }
}

const spec = stack("prod");
const topo = topologyOf(spec);

describe("components one by one, under mocks", () => {
  it("AwsSite: children on the caller's provider (each names its region), a secret kubeconfig; refuses a GCP cloud", async () => {
    const ev = await evaluateProgram(
      "c1",
      (opts) => new AwsSite("site", { cloud: spec.clouds[0]!, lattice: spec.name, tags: spec.tags }, opts),
    );
    assert.equal(ev.resources[0]!.type, "latticeform:cloud:AwsSite");
    assertTree(ev.resources, "site", (r) => (r.type.startsWith("kubernetes:") ? "site-k8s" : undefined));
    assert.equal(ev.ofType("aws:ec2/subnet:Subnet").length, 6);
    for (const s of ev.ofType("aws:ec2/subnet:Subnet")) assert.equal(s.inputs!.region, "eu-west-1");
    assert.equal(ev.ofType("pulumi:providers:aws").length, 0);
    assert.equal(ev.ofType("pulumi:providers:kubernetes").length, 1);
    assert.equal(await pulumi.isSecret(ev.root.kubeconfig), true);
    const kc = JSON.parse(await ev.value(ev.root.kubeconfig)) as { users: { user: { exec: { command: string } } }[] };
    assert.equal(kc.users[0]!.user.exec.command, "aws", "no static token in the kubeconfig");
    await assert.rejects(
      evaluateProgram("c1b", (opts) => new AwsSite("site", { cloud: spec.clouds[1]!, lattice: spec.name, tags: spec.tags }, opts)),
      /has provider gcp, expected aws/,
    );
  });

  it("GcpSite: children on the caller's provider (each names its project), workload identity pool; refuses an AWS cloud", async () => {
    const ev = await evaluateProgram(
      "c2",
      (opts) => new GcpSite("site", { cloud: spec.clouds[1]!, lattice: spec.name, tags: spec.tags, project: "p1" }, opts),
    );
    assertTree(ev.resources, "site", (r) => (r.type.startsWith("kubernetes:") ? "site-k8s" : undefined));
    assert.equal(ev.ofType("pulumi:providers:gcp").length, 0);
    assert.equal(ev.byName.get("site-network")!.inputs!.project, "p1");
    const gke = ev.byName.get("site-gke")!.inputs!;
    assert.deepEqual(gke.workloadIdentityConfig, { workloadPool: "p1.svc.id.goog" });
    assert.deepEqual(await ev.value(ev.root.egressCidrs), [`${String(ev.byName.get("site-nat-ip")!.state!.address)}/32`]);
    await assert.rejects(
      evaluateProgram(
        "c2b",
        (opts) => new GcpSite("site", { cloud: spec.clouds[0]!, lattice: spec.name, tags: spec.tags, project: "p" }, opts),
      ),
      /expected gcp/,
    );
  });

  it("NatsExposure: a hub load balancer and one per stretched member, with the given ranges", async () => {
    const groups = natsReleaseGroups(spec, topo).filter((g) => g.cloud === "aws");
    let provider: k8s.Provider;
    const ev = await evaluateProgram("c3", (opts) => {
      provider = new k8s.Provider("k", { kubeconfig: "x" });
      return new NatsExposure("lb", { spec, cloud: "aws", groups, sourceRanges: pulumi.output(["10.1.1.1/32"]), provider }, opts);
    });
    assertTree(ev.resources, "lb", () => "k");
    assert.deepEqual(
      ev.ofType("kubernetes:core/v1:Service").map((r) => r.name),
      ["lb-service-nats-nats-aws-external", "lb-service-nats-nats-stretch-0-external"],
    );
    for (const s of ev.ofType("kubernetes:core/v1:Service"))
      assert.deepEqual((s.inputs!.spec as { loadBalancerSourceRanges: string[] }).loadBalancerSourceRanges, ["10.1.1.1/32"]);
    assert.match((await ev.value(ev.root.hubAddresses))[0]!, /elb\.mock$/);
    // Exposure does not wait for readiness: the chart's pods are Ready only once JetStream has a meta leader.
    for (const s of ev.ofType("kubernetes:core/v1:Service"))
      assert.equal((s.inputs!.spec as { publishNotReadyAddresses?: boolean }).publishNotReadyAddresses, true, s.name);
    assert.deepEqual(Object.keys(ev.root.memberAddresses), ["stretch-aws-1"]);
  });

  it("LatticeCredentials: a master secret, a CA and one certificate per subject; credentials secret; unknown or duplicate subjects refused", async () => {
    const subjects = [
      { id: "a", dnsNames: ["a"] },
      { id: "b", dnsNames: ["b"], ipAddresses: ["10.0.0.1"] },
    ];
    const ev = await evaluateProgram("c4", (opts) => new LatticeCredentials("cr", { spec, subjects }, opts));
    assertTree(ev.resources, "cr");
    assert.equal(ev.byName.get("cr-master")!.inputs!.length, 32);
    assert.equal(ev.ofType("tls:index/locallySignedCert:LocallySignedCert").length, 2);
    assert.deepEqual(ev.byName.get("cr-b-csr")!.inputs!.ipAddresses, ["10.0.0.1"]);
    assert.equal(await pulumi.isSecret(ev.root.credentials), true);
    assert.equal(await pulumi.isSecret(ev.root.pem("a").key), true);
    const c = await ev.value(ev.root.credentials);
    assert.equal(c.users["client"]!.account, "APP");
    // Same master, same credentials: what makes a second `pulumi up` a no-op.
    const master = await ev.value(ev.root.master);
    const again = await buildCredentials(spec, topo, new Uint8Array(Buffer.from(master, "base64")), 1767225600);
    assert.equal(again.operator.jwt, c.operator.jwt);
    assert.throws(() => ev.root.pem("zz"), /no TLS subject zz/);
    await assert.rejects(
      evaluateProgram("c4b", (opts) => new LatticeCredentials("cr", { spec, subjects: [subjects[0]!, subjects[0]!] }, opts)),
      /given twice/,
    );
  });

  it("HubCluster: the release gets exactly the values given; TLS and auth Secrets secret; identity ConfigMap", async () => {
    const group = natsReleaseGroups(spec, topo)[0]!;
    const values = { config: { cluster: { enabled: true } }, marker: 42 };
    const ev = await evaluateProgram("c5", (opts) => {
      const provider = new k8s.Provider("k", { kubeconfig: "x" });
      return new HubCluster(
        "hub",
        {
          spec,
          group,
          values,
          identityFiles: { "nats-aws-0.conf": "LF_SERVER_NAME: aws-1" },
          authInclude: pulumi.secret("operator: x"),
          tls: pems(),
          provider,
        },
        opts,
      );
    });
    assertTree(ev.resources, "hub", () => "k");
    const rel = ev.byName.get("hub-release")!.inputs!;
    assert.deepEqual(rel.values, values);
    assert.equal(rel.name, "nats-aws");
    assert.equal(rel.chart, "nats");
    for (const s of ["hub-tls", "hub-auth"]) assert.ok(ev.byName.get(s)!.secretInputs.includes("stringData"), s);
    assert.deepEqual(ev.byName.get("hub-tls")!.inputs!.stringData, { "tls.crt": "CERT", "tls.key": "KEY", "ca.crt": "CA" });
    assert.equal(ev.byName.get("hub-tls")!.inputs!.type, "kubernetes.io/tls");
    assert.deepEqual(ev.byName.get("hub-identity")!.inputs!.data, { "nats-aws-0.conf": "LF_SERVER_NAME: aws-1" });
  });

  it("WasmHostPool: one pod per host with its Secrets; every pool (direct too) has its sidecar config; an empty pool refused", async () => {
    const creds = pulumi.secret(buildCredentials(spec, topo, new Uint8Array(32).fill(2), 1767225600));
    const leafConfs = Object.fromEntries(topo.hosts.map((h) => [h.name, `# leaf ${h.name}`]));
    const run = (pool: string, name: string) =>
      evaluateProgram(name, (opts) => {
        const provider = new k8s.Provider("k", { kubeconfig: "x" });
        return new WasmHostPool(
          "pool",
          { spec, topology: topo, cloud: "aws", pool, leafConfs, credentials: creds, tls: () => pems(), provider },
          opts,
        );
      });
    const edge = await run("edge", "c6");
    assertTree(edge.resources, "pool", () => "k");
    assert.deepEqual(
      edge.ofType("kubernetes:apps/v1:Deployment").map((r) => r.name),
      ["pool-aws-edge-1", "pool-aws-edge-2"],
    );
    assert.deepEqual(edge.byName.get("pool-aws-edge-1-leaf")!.inputs!.stringData, { "leaf.conf": "# leaf aws-edge-1" });
    const core = await run("core", "c6b");
    // wash 2.7 hosts hold no creds: direct pools reach the hubs through their sidecar too.
    assert.equal(core.resources.filter((r) => r.name.endsWith("-leaf")).length, 2, "direct hosts have their sidecar config");
    for (const s of core.ofType("kubernetes:core/v1:Secret")) assert.ok(s.secretInputs.includes("stringData"));
    await assert.rejects(run("nope", "c6c"), /no hosts in pool nope/);
  });

  it("RuntimeClassPool on an existing cluster: RuntimeClass and shim installer only; KrustletPool refuses a runtime-class pool", async () => {
    const pool = spec.clouds[0]!.nodePools.find((p) => p.kind === "runtime-class")!;
    const ev = await evaluateProgram("c7", (opts) => {
      const provider = new k8s.Provider("k", { kubeconfig: "x" });
      return new RuntimeClassPool("rc", { spec, cloud: "aws", pool, site: { kind: "existing" }, provider }, opts);
    });
    assertTree(ev.resources, "rc", () => "k");
    assert.deepEqual(ev.resources.map((r) => r.type).sort(), [
      "kubernetes:apps/v1:DaemonSet",
      "kubernetes:core/v1:ConfigMap",
      "kubernetes:node.k8s.io/v1:RuntimeClass",
      "latticeform:wasm:RuntimeClassPool",
    ]);
    const site = await evaluateProgram(
      "c7s",
      (opts) => new AwsSite("site", { cloud: spec.clouds[0]!, lattice: spec.name, tags: spec.tags }, opts),
    );
    await assert.rejects(
      evaluateProgram(
        "c7b",
        (opts) =>
          new KrustletPool("kp", { spec, cloud: "aws", pool, site: { kind: "aws", site: site.root }, provider: site.root.provider }, opts),
      ),
      /expected krustlet/,
    );
  });

  it("TieBreakerSite: addresses first, VMs on start (once), on GCP and AWS", async () => {
    const servers = topo.servers.filter((s) => s.role === "tiebreaker");
    let tb!: TieBreakerSite;
    const ev = await evaluateProgram("c8", (opts) => {
      tb = new TieBreakerSite("tb", { spec, servers, project: "p", sourceRanges: ["10.2.2.2/32"] }, opts);
      tb.start({ "tb-1": "server_name: tb-1" }, () => pems());
      return tb;
    });
    assertTree(ev.resources, "tb", () => undefined);
    assert.equal(ev.ofType("gcp:compute/instance:Instance").length, 1);
    const conf = ev.resources.find((r) => r.name === "tb-payments-tb-1-conf-v")!;
    assert.ok(conf.secretInputs.includes("secretData"));
    assert.equal(conf.inputs!.secretData, "server_name: tb-1");
    assert.throws(() => tb.start({}, () => pems()), /started twice/);
    // An AWS site: VPC, security group, Elastic IPs, Secrets Manager entries the instance role alone may read, encrypted disks.
    const awsTb = parseLattice({
      ...(readStackConfig("stacks/Pulumi.prod.yaml") as LatticeInput),
      tieBreaker: { name: "tb", provider: "aws", region: "eu-central-1", zones: ["eu-central-1a"] },
    });
    const awsServers = topologyOf(awsTb).servers.filter((s) => s.role === "tiebreaker");
    const aev = await evaluateProgram("c8b", (opts) => {
      const site = new TieBreakerSite("tb", { spec: awsTb, servers: awsServers, sourceRanges: ["10.2.2.2/32"] }, opts);
      site.start({ "tb-1": "server_name: tb-1" }, () => pems());
      return site;
    });
    assertTree(aev.resources, "tb", () => undefined);
    assert.equal(aev.byName.get("tb-vpc")!.inputs!.region, "eu-central-1");
    const vm = aev.byName.get("tb-tb-1-vm")!.inputs!;
    assert.deepEqual(vm.metadataOptions, { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 });
    assert.equal(spawnSync("bash", ["-n"], { input: String(vm.userData) }).status, 0);
    assert.match(String(vm.userData), /aws secretsmanager get-secret-value --region 'eu-central-1' --secret-id 'payments-tb-1-conf'/);
    assert.ok(aev.byName.get("tb-payments-tb-1-key-v")!.secretInputs.includes("secretString"));
    const policy = JSON.parse(String(aev.byName.get("tb-tb-1-read")!.inputs!.policy)) as { Statement: { Resource: string[] }[] };
    assert.equal(policy.Statement[0]!.Resource.length, 4);
    const ingress = aev.byName.get("tb-nats-sg")!.inputs!.ingress as { cidrBlocks: string[] }[];
    for (const r of ingress) assert.deepEqual(r.cidrBlocks, ["10.2.2.2/32"]);
    assert.equal(aev.byName.get("tb-tb-1-data")!.inputs!.encrypted, true);
    assert.deepEqual(await aev.value(aev.root.egressCidrs), [`${String(aev.byName.get("tb-tb-1-ip")!.state!.publicIp)}/32`]);
    await assert.rejects(
      evaluateProgram("c8c", (opts) => new TieBreakerSite("tb", { spec, servers, sourceRanges: [] }, opts)),
      /needs a project/,
    );
  });

  it("Workloads, JetStreamAssets, WasmcloudOperator: objects of one cloud on its provider", async () => {
    const ev = await evaluateProgram("c9", (opts) => {
      const provider = new k8s.Provider("k", { kubeconfig: "x" });
      const parent = new pulumi.ComponentResource("latticeform:index:Lattice", "L", {}, opts);
      new Workloads("L-w", { spec, cloud: "gcp", provider, registry: "r.example" }, { parent });
      const credentials = pulumi.secret(buildCredentials(spec, topo, new Uint8Array(32), 1));
      new JetStreamAssets("L-js", { spec, cloud: "aws", credentials, tls: pems(), provider }, { parent });
      new WasmcloudOperator("L-op", { spec, cloud: "gcp", tls: pems(), credentials, provider }, { parent });
      return parent;
    });
    // The artifact pushes talk to the registry, not to the cluster: they take no Kubernetes provider.
    assertTree(ev.resources, "L", (r) => (r.type === "pulumi-nodejs:dynamic:Resource" ? undefined : "k"));
    const w = ev.byName.get("L-w")!.inputs!;
    assert.deepEqual(w.instances, { validator: 2, ledger: 1, "fraud-score": 2 });
    assert.equal(ev.byName.get("L-w-fraud-score")!.type, "kubernetes:apps/v1:Deployment");
    assert.deepEqual(
      ev.resources.filter((r) => r.type.startsWith("kubernetes:jetstream")).map((r) => r.name),
      // The ledger's bucket is wash's: declared as its stream, without direct gets (see jetstreamObjects).
      ["L-js-stream-nats-ledger", "L-js-stream-nats-audit", "L-js-stream-nats-kv-balances"],
    );
    const op = ev.byName.get("L-op-release")!.inputs!.values as {
      nats: { enabled: boolean };
      global: { certificates: { generate: boolean; operatorCertSecretName: string } };
      operator: { extraArgs: string[] };
    };
    assert.equal(op.nats.enabled, false);
    assert.equal(op.global.certificates.generate, false, "the operator trusts the lattice CA, not a chart-generated one");
    // The hub is in operator (JWT) mode: the operator's creds ride in the secret the chart mounts at /operator-cert.
    assert.deepEqual(op.operator.extraArgs, ["-nats-creds=/operator-cert/nats.creds"]);
    const opSecret = ev.byName.get("L-op-tls")!;
    assert.equal(
      opSecret.inputs!.metadata && (opSecret.inputs!.metadata as { name: string }).name,
      op.global.certificates.operatorCertSecretName,
    );
    const data = opSecret.inputs!.stringData as Record<string, string>;
    assert.deepEqual(Object.keys(data).sort(), ["ca.crt", "nats.creds", "tls.crt", "tls.key"]);
    assert.match(data["nats.creds"]!, /-----BEGIN NATS USER JWT-----[\s\S]*-----BEGIN USER NKEY SEED-----/);
    const creds = await buildCredentials(spec, topo, new Uint8Array(32), 1);
    assert.equal(data["nats.creds"], creds.users["wasmcloud-operator"]!.creds);
    assert.equal(creds.users["wasmcloud-operator"]!.account, "APP");
  });
});
