import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { policies } from "../../policies/policies";
import type { LatticePolicy } from "../../policies/lib";
import { UNKNOWN, type EvaluatedResource } from "../../src/review/evaluate";
import { resolvePolicyConfig, runPolicies, type Enforcement } from "../../src/review/review";
import { readStackConfig } from "../../src/model/load";
import type { LatticeSpec } from "../../src/model/schema";
import { parseLattice } from "../../src/model/validate";

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const goodSpec = (): LatticeSpec => parseLattice(readStackConfig("stacks/Pulumi.prod.yaml"));

function res(type: string, props: Any, name = "r"): EvaluatedResource {
  return {
    type,
    name,
    urn: `urn:pulumi:t::latticeform::${type}::${name}`,
    props,
    dependencies: [],
    custom: !type.startsWith("latticeform:"),
    unknownPaths: [],
  };
}
const lattice = (spec: LatticeSpec) => res("latticeform:index:Lattice", { spec }, "t");

async function messages(policy: string, resources: EvaluatedResource[], cfg: Any = {}, level?: Enforcement): Promise<string[]> {
  const p = policies.find((x) => x.name === policy);
  assert.ok(p, `no policy ${policy}`);
  const config = resolvePolicyConfig([p], {
    ...(level ? { [policy]: { enforcementLevel: level, ...cfg } } : Object.keys(cfg).length ? { [policy]: cfg } : {}),
  });
  return (await runPolicies(resources, [p], config)).map((f) => (f.status === "violation" ? f.message : `NOT CHECKABLE: ${f.message}`));
}

function mutate(f: (s: Any) => void): LatticeSpec {
  const s = goodSpec() as unknown as Any;
  f(s);
  return s as unknown as LatticeSpec;
}

const eks = (over: Any = {}) => ({
  vpcConfig: { endpointPublicAccess: false, endpointPrivateAccess: true },
  encryptionConfig: { provider: { keyArn: "arn:aws:kms:eu-west-1:1:key/x" }, resources: ["secrets"] },
  tags: { owner: "o", "data-classification": "c" },
  ...over,
});
const gke = (over: Any = {}) => ({
  privateClusterConfig: { enablePrivateNodes: true, enablePrivateEndpoint: true },
  workloadIdentityConfig: { workloadPool: "p.svc.id.goog" },
  enableShieldedNodes: true,
  resourceLabels: { owner: "o", data_classification: "c" },
  ...over,
});
const lb = (ranges: string[] | undefined) => ({
  spec: { type: "LoadBalancer", ports: [{ port: 7222 }, { port: 7422 }], ...(ranges ? { loadBalancerSourceRanges: ranges } : {}) },
});

/** Per policy: resources that pass, resources that violate, and the exact messages. */
const CASES: Record<string, { good: () => EvaluatedResource[]; bad: () => EvaluatedResource[]; expected: string[] }> = {
  "latticeform-nats-tls-every-port": {
    good: () => [lattice(goodSpec())],
    bad: () => [lattice(mutate((s) => (s.security.tls.gateway = false)))],
    expected: ["security.tls.gateway: the gateway port has no TLS."],
  },
  "latticeform-nats-leafnode-verify": {
    good: () => [lattice(goodSpec())],
    bad: () => [lattice(mutate((s) => (s.security.tls.leafnode = { verify: false })))],
    expected: ["security.tls.leafnode.verify is false: any TLS client may open a leafnode connection."],
  },
  "latticeform-nats-no-insecure-tls": {
    good: () => [res("kubernetes:helm.sh/v3:Release", { chart: "nats", values: { config: { nats: { tls: { enabled: true } } } } })],
    bad: () => [
      res("kubernetes:helm.sh/v3:Release", { chart: "nats", values: { config: { gateway: { merge: { tls: { insecure: true } } } } } }),
    ],
    expected: ["values.config.gateway.merge.tls.insecure is true: TLS peers are not verified."],
  },
  "latticeform-nats-no-plaintext-secrets": {
    good: () => [res("kubernetes:core/v1:ConfigMap", { data: { "auth.conf": "include /etc/nats-creds/auth.conf" } })],
    bad: () => [
      res("kubernetes:helm.sh/v3:Release", {
        chart: "nats",
        values: { config: { cluster: { merge: { authorization: { password: "hunter2" } } } } },
      }),
      res("kubernetes:core/v1:ConfigMap", { data: { seed: "SUAIBDPBAUTWCWBKIO6XHQNINK5FWJW4OHLXC3HQ2KFE4PEJUA44CNHTC4" } }),
    ],
    expected: [
      "values.config.cluster.merge.authorization.password: a password in plain text.",
      "data.seed: holds an nkey seed in plain text.",
    ],
  },
  "latticeform-nats-leafnode-authorization": {
    good: () => [lattice(goodSpec())],
    bad: () => [lattice(mutate((s) => (s.security.auth = "none")))],
    expected: ['security.auth is "none": leafnode connections would not present account credentials.'],
  },
  "latticeform-nats-no-public-exposure": {
    good: () => [
      res("kubernetes:core/v1:Service", lb(["34.1.2.3/32"])),
      res("gcp:compute/firewall:Firewall", { allows: [{ ports: ["7222"] }], sourceRanges: ["52.1.2.3/32"] }),
    ],
    bad: () => [
      res("kubernetes:core/v1:Service", lb(["0.0.0.0/0"])),
      res("kubernetes:core/v1:Service", lb(undefined)),
      res("gcp:compute/firewall:Firewall", { allows: [{ ports: ["7222"] }], sourceRanges: ["0.0.0.0/0"] }),
    ],
    expected: [
      "loadBalancerSourceRanges contains 0.0.0.0/0: NATS ports 7222, 7422 are open to the internet.",
      "a LoadBalancer for NATS ports 7222, 7422 has no loadBalancerSourceRanges: it is open to the internet.",
      "a firewall admits 0.0.0.0/0 to NATS ports 7222.",
    ],
  },
  "latticeform-resilience-multi-cloud": {
    good: () => [lattice(goodSpec())],
    bad: () => [lattice(mutate((s) => (s.clouds = [s.clouds[0]])))],
    expected: [
      "the lattice declares 1 cloud(s); at least 2 are required.",
      "every cloud is on aws: losing that provider loses the lattice.",
    ],
  },
  "latticeform-resilience-hub-spread": {
    good: () => [lattice(goodSpec())],
    bad: () => [lattice(mutate((s) => ((s.clouds[0].zones = ["eu-west-1a"]), (s.clouds[1].hub.servers = 4))))],
    expected: ["clouds[0] (aws) spreads its hub over 1 zone(s); at least 3 are required.", "clouds[1].hub.servers is 4; use 3 or 5."],
  },
  "latticeform-resilience-meta-quorum": {
    good: () => [lattice(goodSpec())],
    bad: () => [lattice(mutate((s) => (delete s.tieBreaker, delete s.stretched)))],
    expected: [
      "losing aws leaves 3 of 6 JetStream servers, below the majority of 4.",
      "losing gcp leaves 3 of 6 JetStream servers, below the majority of 4.",
    ],
  },
  "latticeform-resilience-rpo-zero-replication": {
    good: () => [lattice(goodSpec())],
    bad: () => [lattice(mutate((s) => (s.kv[0] = { ...s.kv[0], replicas: 1, placement: { cluster: "aws", tags: [] }, mirrors: [] })))],
    expected: [
      "workload ledger (RPO 0) keeps bucket balances with 1 replica(s); at least 3 are required.",
      "workload ledger (RPO 0) keeps bucket balances only in aws: losing that cloud loses it.",
    ],
  },
  "latticeform-resilience-workload-failover": {
    good: () => [lattice(goodSpec())],
    bad: () => [lattice(mutate((s) => (s.workloads[0].instances = { aws: 2 })))],
    expected: ["workload validator runs only in aws: it has no failover target."],
  },
  "latticeform-resilience-warm-standby": {
    good: () => [lattice(goodSpec())],
    bad: () => [lattice(mutate((s) => (s.workloads[1].failover.warmStandby = 0)))],
    expected: ["workload ledger has a cold standby: promotion needs a cold start."],
  },
  "latticeform-resilience-drill-coverage": {
    good: () => [lattice(goodSpec())],
    bad: () => [
      lattice(
        mutate((s) => {
          s.drills = s.drills.filter((d: { id: string }) => d.id !== "lose-gcp");
          s.drills.push({
            ...s.drills[0],
            id: "freeze-gcp-1",
            faults: [{ kind: "blackhole", cloud: "gcp", server: "gcp-1", durationSeconds: 5 }],
          });
        }),
      ),
    ],
    expected: ["no declared drill takes cloud gcp down."],
  },
  "latticeform-resilience-impact-tolerance": {
    good: () => [lattice(goodSpec())],
    bad: () => [lattice(mutate((s) => ((s.workloads[0].objectives.rtoSeconds = 120), (s.workloads[1].objectives.rpoMessages = 5))))],
    expected: [
      "workload validator: RTO 120 s exceeds the impact tolerance of 60 s.",
      "workload ledger: RPO 5 messages exceeds the tolerance of 0.",
    ],
  },
  "latticeform-resilience-gateway-completeness": {
    good: () => [
      lattice(goodSpec()),
      ...["aws", "gcp", "stretch"].map((c) => res("latticeform:nats:HubCluster", { cluster: c }, c)),
      res("latticeform:nats:TieBreakerSite", { site: "tb" }, "tb"),
    ],
    bad: () => [lattice(goodSpec()), res("latticeform:nats:HubCluster", { cluster: "aws" }, "aws")],
    expected: [
      "cluster gcp of the topology is not deployed: gateways to it have no peer.",
      "cluster stretch of the topology is not deployed: gateways to it have no peer.",
      "the tie-breaker site tb is not deployed: losing a cloud loses the JetStream majority.",
    ],
  },
  "latticeform-residency-allowed-regions": {
    good: () => [lattice(goodSpec())],
    bad: () => [lattice(mutate((s) => (s.clouds[0].region = "us-east-1")))],
    expected: ["clouds[0].region us-east-1 (aws) is outside the allowed regions."],
  },
  "latticeform-aws-eks-private-endpoint": {
    good: () => [res("aws:eks/cluster:Cluster", eks())],
    bad: () => [res("aws:eks/cluster:Cluster", eks({ vpcConfig: { endpointPublicAccess: true } }))],
    expected: [
      "vpcConfig.endpointPublicAccess is not false: the Kubernetes API is reachable from the internet.",
      "vpcConfig.endpointPrivateAccess is not true.",
    ],
  },
  "latticeform-aws-eks-secrets-encryption": {
    good: () => [res("aws:eks/cluster:Cluster", eks())],
    bad: () => [res("aws:eks/cluster:Cluster", eks({ encryptionConfig: undefined }))],
    expected: ["encryptionConfig does not encrypt secrets with a KMS key."],
  },
  "latticeform-gcp-gke-private": {
    good: () => [res("gcp:container/cluster:Cluster", gke())],
    bad: () => [res("gcp:container/cluster:Cluster", gke({ privateClusterConfig: { enablePrivateNodes: true } }))],
    expected: ["privateClusterConfig.enablePrivateEndpoint is not true: the control plane is public."],
  },
  "latticeform-gcp-gke-workload-identity": {
    good: () => [res("gcp:container/cluster:Cluster", gke())],
    bad: () => [res("gcp:container/cluster:Cluster", gke({ workloadIdentityConfig: undefined }))],
    expected: ["workloadIdentityConfig.workloadPool is not set."],
  },
  "latticeform-gcp-gke-shielded-nodes": {
    good: () => [res("gcp:container/cluster:Cluster", gke())],
    bad: () => [res("gcp:container/cluster:Cluster", gke({ enableShieldedNodes: false }))],
    expected: ["enableShieldedNodes is not true."],
  },
  "latticeform-cloud-volume-encryption": {
    good: () => [res("aws:ec2/launchTemplate:LaunchTemplate", { blockDeviceMappings: [{ ebs: { encrypted: "true" } }] })],
    bad: () => [
      res("aws:ec2/launchTemplate:LaunchTemplate", { blockDeviceMappings: [{ ebs: { encrypted: "false" } }] }),
      res("aws:ec2/launchTemplate:LaunchTemplate", {}),
    ],
    expected: [
      "blockDeviceMappings[0].ebs.encrypted is not true.",
      "the launch template declares no block device: its root volume would be unencrypted by default.",
    ],
  },
  "latticeform-cloud-no-public-ip": {
    good: () => [
      res("aws:ec2/launchTemplate:LaunchTemplate", { networkInterfaces: [{ associatePublicIpAddress: "false" }] }),
      res("gcp:compute/instanceTemplate:InstanceTemplate", { networkInterfaces: [{}] }),
    ],
    bad: () => [
      res("aws:ec2/launchTemplate:LaunchTemplate", { networkInterfaces: [{ associatePublicIpAddress: "true" }] }),
      res("gcp:compute/instanceTemplate:InstanceTemplate", { networkInterfaces: [{ accessConfigs: [{}] }] }),
    ],
    expected: ["networkInterfaces[0].associatePublicIpAddress is true.", "networkInterfaces[0].accessConfigs gives the host a public IP."],
  },
  "latticeform-cloud-required-tags": {
    good: () => [res("aws:eks/cluster:Cluster", eks()), res("gcp:container/cluster:Cluster", gke())],
    bad: () => [
      res("aws:eks/cluster:Cluster", eks({ tags: { owner: "o" } })),
      res("gcp:container/cluster:Cluster", gke({ resourceLabels: {} })),
    ],
    expected: ["tags lack data-classification.", "resourceLabels lack owner, data-classification."],
  },
  "latticeform-wasm-krustlet-unmaintained": {
    good: () => [lattice(goodSpec())],
    bad: () => [
      lattice(
        mutate((s) =>
          s.clouds.forEach((c: Any) =>
            c.nodePools.push({
              name: "krustlet",
              kind: "krustlet",
              krustletBuild: { url: "https://builds.example.com/krustlet.tar.gz", sha256: "b".repeat(64), vouchedBy: "platform-team" },
            }),
          ),
        ),
      ),
    ],
    expected: [
      "clouds[0].nodePools[1] (aws/krustlet) uses Krustlet, which is not maintained upstream (build vouched for by platform-team).",
      "clouds[1].nodePools[1] (gcp/krustlet) uses Krustlet, which is not maintained upstream (build vouched for by platform-team).",
    ],
  },
  "latticeform-wasm-node-pool-taints": {
    good: () => [
      res("aws:eks/nodeGroup:NodeGroup", {
        labels: { "latticeform.dev/wasm-runtime": "wasmedge" },
        taints: [{ key: "k", value: "v", effect: "NO_SCHEDULE" }],
      }),
    ],
    bad: () => [
      res("gcp:container/nodePool:NodePool", { nodeConfig: { labels: { "latticeform.dev/wasm-runtime": "wasmtime" }, taints: [] } }),
    ],
    expected: ["a Wasm node pool without a NoSchedule taint: any pod may land on it."],
  },
  "latticeform-wasm-artifact-digest": {
    good: () => [lattice(goodSpec())],
    bad: () => [lattice(mutate((s) => (s.workloads[2].artifact = { oci: "ghcr.io/x/y:latest" })))],
    expected: ["workloads[2].artifact.oci ghcr.io/x/y:latest is not pinned by digest."],
  },
};

describe("policy pack", () => {
  it("has at least 20 policies, every one with a test case here", () => {
    assert.ok(policies.length >= 20, `${policies.length} policies`);
    assert.deepEqual(policies.map((p) => p.name).sort(), Object.keys(CASES).sort());
  });

  it("names, severities, enforcement levels, descriptions and remediation are complete", () => {
    for (const p of policies as LatticePolicy[]) {
      assert.match(p.name, /^latticeform-(nats|resilience|residency|aws|gcp|cloud|wasm)-[a-z0-9-]+$/);
      assert.ok(["low", "medium", "high", "critical"].includes(p.severity), p.name);
      assert.ok(["advisory", "mandatory"].includes(p.enforcementLevel ?? ""), p.name);
      assert.ok((p.description ?? "").length > 20, p.name);
      assert.ok(p.remediationSteps.length > 10, p.name);
      for (const [k, s] of Object.entries((p.configSchema?.properties ?? {}) as Any))
        assert.ok("default" in s, `${p.name}.${k} has no default`);
    }
  });

  it("config schemas give defaults and refuse bad settings, naming them", () => {
    const cfg = resolvePolicyConfig(policies, {});
    assert.deepEqual(cfg.get("latticeform-resilience-impact-tolerance")!.settings, { maxRtoSeconds: 60, maxRpoMessages: 0 });
    assert.deepEqual(cfg.get("latticeform-cloud-required-tags")!.settings, { requiredTags: ["owner", "data-classification"] });
    assert.throws(
      () =>
        resolvePolicyConfig(policies, {
          "latticeform-resilience-impact-tolerance": { maxRtoSeconds: "soon" },
          "latticeform-nope": {},
          all: "loud",
        }),
      (e: Error) =>
        /latticeform-nope: no such policy/.test(e.message) &&
        /all: invalid enforcement level \(got "loud"; allowed advisory, mandatory, remediate, disabled\)/.test(e.message) &&
        /latticeform-resilience-impact-tolerance.maxRtoSeconds: must be number/.test(e.message),
    );
  });

  for (const [name, c] of Object.entries(CASES)) {
    it(`${name}: passes the compliant fixture and reports the violating one exactly`, async () => {
      assert.deepEqual(await messages(name, c.good()), []);
      assert.deepEqual(await messages(name, c.bad()), c.expected);
    });
  }

  it("reads a value unknown before deploy as not checkable, never as a pass", async () => {
    const got = await messages("latticeform-aws-eks-secrets-encryption", [
      res("aws:eks/cluster:Cluster", eks({ encryptionConfig: { provider: { keyArn: UNKNOWN }, resources: ["secrets"] } })),
    ]);
    assert.equal(got.length, 1);
    assert.match(
      got[0]!,
      /^NOT CHECKABLE: not checkable before deploy: string value at .encryptionConfig.provider.keyArn can't be known during preview/,
    );
  });

  it("honours the enforcement matrix on one violation: advisory and mandatory report, disabled does not", async () => {
    const bad = CASES["latticeform-wasm-artifact-digest"]!.bad();
    const p = policies.find((x) => x.name === "latticeform-wasm-artifact-digest")!;
    for (const level of ["advisory", "mandatory", "disabled"] as const) {
      const f = await runPolicies(bad, [p], resolvePolicyConfig([p], { [p.name]: { enforcementLevel: level } }));
      if (level === "disabled") assert.deepEqual(f, []);
      else
        assert.deepEqual(
          f.map((x) => [x.enforcement, x.status]),
          [[level, "violation"]],
        );
    }
    const all = await runPolicies(bad, [p], resolvePolicyConfig([p], { all: "advisory" }));
    assert.equal(all[0]!.enforcement, "advisory");
  });

  it("policy settings change the verdict (allowed regions, impact tolerance)", async () => {
    const us = [lattice(mutate((s) => (s.clouds[0].region = "us-east-1")))];
    assert.deepEqual(
      await messages("latticeform-residency-allowed-regions", us, { allowedRegions: ["us-east-1", "europe-west3", "europe-west4"] }),
      [],
    );
    const slow = [lattice(mutate((s) => (s.workloads[0].objectives.rtoSeconds = 120)))];
    assert.deepEqual(await messages("latticeform-resilience-impact-tolerance", slow, { maxRtoSeconds: 300 }), []);
  });
});
