import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readStackConfig } from "../../src/model/load";
import { formatProblem, subjectProblem, validateLattice } from "../../src/model/validate";
import type { LatticeInput } from "../../src/model/schema";

type Mutable = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const small = () => structuredClone(readStackConfig("stacks/Pulumi.small.yaml")) as Mutable;

function problems(input: unknown): string[] {
  const r = validateLattice(input);
  return r.ok ? [] : r.problems.map(formatProblem);
}

function expectProblem(mutate: (s: Mutable) => void, expected: string): void {
  const s = small();
  mutate(s);
  const got = problems(s);
  assert.ok(got.includes(expected), `expected\n  ${expected}\namong\n  ${got.join("\n  ")}`);
}

describe("lattice spec validation", () => {
  it("accepts both example stacks", () => {
    for (const stack of ["small", "prod"]) {
      const r = validateLattice(readStackConfig(`stacks/Pulumi.${stack}.yaml`));
      assert.equal(r.ok, true, r.ok ? "" : r.problems.map(formatProblem).join("\n"));
    }
  });

  it("applies defaults so short stacks stay short", () => {
    const r = validateLattice(small());
    assert.ok(r.ok);
    const spec = r.spec;
    assert.equal(spec.clouds[0]!.hub.servers, 3);
    assert.deepEqual(spec.clouds[0]!.hub.ports, { client: 4222, cluster: 6222, gateway: 7222, leafnode: 7422, monitor: 8222 });
    assert.deepEqual(spec.security.tls.leafnode, { verify: true });
    assert.equal(spec.security.systemAccount, "SYS");
    assert.equal(spec.jetstream.domain, "hub");
    assert.equal(spec.tuning.pingInterval, "1s");
  });

  it("rejects unknown keys, naming the allowed ones", () =>
    expectProblem(
      (s) => (s.clouds[0].hubb = {}),
      'clouds[0].hubb: unknown key (got "hubb"; allowed name, provider, region, zones, hub, hostPools, nodePools, existingKubeconfig)',
    ));

  it("rejects wrong types", () =>
    expectProblem(
      (s) => (s.clouds[0].hub = { servers: "three" }),
      'clouds[0].hub.servers: expected number (got "three"; allowed a number)',
    ));

  it("rejects an unknown provider", () =>
    expectProblem((s) => (s.clouds[1].provider = "azure"), 'clouds[1].provider: invalid value (got "azure"; allowed aws, gcp)'));

  it("rejects duplicate cloud, workload, stream and zone names", () => {
    expectProblem(
      (s) => (s.clouds[1].name = "aws"),
      'clouds[1].name: duplicate cloud name (first at index 0) (got "aws"; allowed a cloud name not used before)',
    );
    expectProblem(
      (s) => s.workloads.push({ ...s.workloads[0] }),
      'workloads[2].name: duplicate workload name (first at index 0) (got "validator"; allowed a workload name not used before)',
    );
    expectProblem(
      (s) => s.streams.push({ ...s.streams[0] }),
      'streams[1].name: duplicate stream name (first at index 0) (got "PAYMENTS"; allowed a stream name not used before)',
    );
    expectProblem(
      (s) => s.clouds[0].zones.push("eu-west-1a"),
      'clouds[0].zones[3]: duplicate zone (first at index 0) (got "eu-west-1a"; allowed a zone not used before)',
    );
  });

  it("rejects a region or zone that does not belong to the provider", () => {
    expectProblem(
      (s) => (s.clouds[0].region = "europe-west3"),
      'clouds[0].region: not a region of aws (got "europe-west3"; allowed us-east-1, us-east-2, us-west-1, us-west-2, af-south-1, ap-east-1, ... (33 aws regions))',
    );
    expectProblem(
      (s) => (s.clouds[1].zones = ["europe-west3-a", "europe-west4-b"]),
      'clouds[1].zones[1]: not a zone of europe-west3 (got "europe-west4-b"; allowed europe-west3-a..europe-west3-f)',
    );
  });

  it("rejects an even or too small hub", () => {
    expectProblem(
      (s) => (s.clouds[0].hub = { servers: 4 }),
      "clouds[0].hub.servers: an even or oversized hub cluster gains no fault tolerance (got 4; allowed 3, 5)",
    );
    expectProblem(
      (s) => (s.clouds[0].hub = { servers: 1 }),
      "clouds[0].hub.servers: a hub cluster needs at least 3 servers for a JetStream quorum (got 1; allowed 3, 5)",
    );
  });

  it("rejects more replicas than the cluster has servers, or more than 5", () => {
    expectProblem((s) => (s.kv[0].replicas = 4), 'kv[0].replicas: more replicas than cluster "stretch" has servers (got 4; allowed 1..3)');
    expectProblem((s) => (s.streams[0].replicas = 6), "streams[0].replicas: JetStream keeps at most 5 replicas (got 6; allowed 1..5)");
  });

  it("rejects placement or mirrors in undeclared clouds, and a mirror into its own cloud", () => {
    expectProblem(
      (s) => (s.streams[0].placement.cluster = "azure"),
      'streams[0].placement.cluster: not a declared cloud, stretched cluster or tie-breaker site (got "azure"; allowed aws, gcp, stretch)',
    );
    expectProblem((s) => (s.kv[0].mirrors = ["ibm"]), 'kv[0].mirrors[0]: mirror into an undeclared cloud (got "ibm"; allowed aws, gcp)');
    expectProblem(
      (s) => (s.streams[0].mirrors = ["aws"]),
      'streams[0].mirrors[0]: a mirror into the stream\'s own cloud survives nothing (got "aws"; allowed gcp)',
    );
  });

  it("rejects invalid subjects and names", () => {
    expectProblem(
      (s) => (s.workloads[0].subject = "payments validate"),
      'workloads[0].subject: subject contains whitespace (got "payments validate"; allowed a literal NATS subject such as payments.validate)',
    );
    expectProblem(
      (s) => (s.streams[0].subjects = ["payments.>.x"]),
      "streams[0].subjects[0]: '>' must be the last token (got \"payments.>.x\"; allowed a NATS subject such as ledger.> (no spaces; '*' a whole token; '>' last))",
    );
    expectProblem(
      (s) => (s.workloads[0].name = "Bad_Name"),
      "workloads[0].name: invalid name (got \"Bad_Name\"; allowed lower-case letters, digits and '-', starting with a letter, at most 32 characters)",
    );
    assert.equal(subjectProblem("a.*b", true), "wildcard inside a token");
    assert.equal(subjectProblem("a..b", true), "subject has an empty token");
    assert.equal(subjectProblem("a.*", false), "wildcards are not allowed here");
    assert.equal(subjectProblem("a.*.>", true), undefined);
  });

  it("rejects a failover primary that is not a cloud, and active-passive with one cloud", () => {
    expectProblem(
      (s) => (s.workloads[1].failover.primary = "azure"),
      'workloads[1].failover.primary: not a declared cloud (got "azure"; allowed aws, gcp)',
    );
    const one = small();
    one.clouds = [one.clouds[0]];
    delete one.tieBreaker;
    delete one.stretched;
    one.kv[0].placement.cluster = "aws";
    one.streams[0].mirrors = [];
    assert.ok(
      problems(one).includes(
        'workloads[1].failover: active-passive needs a standby in a second cloud (got {"mode":"active-passive","primary":"aws","warmStandby":1}; allowed active-active on a one-cloud lattice)',
      ),
      problems(one).join("\n"),
    );
  });

  it("rejects port collisions", () =>
    expectProblem(
      (s) => (s.clouds[0].hub = { ports: { gateway: 7422 } }),
      "clouds[0].hub.ports.leafnode: port collides with gateway (got 7422; allowed a port no other listener of the server uses)",
    ));

  it("rejects a missing TLS block where TLS is required", () => {
    expectProblem(
      (s) => (s.security = { tls: { gateway: false } }),
      "security.tls.gateway: TLS is required on every NATS port (got false; allowed a TLS block such as { verify: true }, or security.requireTls: false)",
    );
    const s = small();
    s.security = { requireTls: false, tls: { gateway: false } };
    assert.deepEqual(problems(s), []);
  });

  it("rejects a topology whose JetStream meta group loses its majority with one cloud, naming it and suggesting a tie-breaker", () => {
    const s = small();
    delete s.tieBreaker;
    delete s.stretched;
    s.kv[0].placement.cluster = "gcp";
    const got = problems(s);
    assert.ok(
      got.includes(
        'clouds[0]: losing "aws" leaves 3 of 6 JetStream servers, below the meta-group majority of 4: stream and consumer creation would stop (got "3 JetStream servers at aws"; allowed a topology that keeps a majority: add a tieBreaker site (e.g. tieBreaker: { name: tb, provider: gcp, region: europe-west4, zones: [europe-west4-a], servers: 1 }))',
      ),
      got.join("\n"),
    );
    assert.equal(got.filter((p) => p.startsWith("clouds[1]: losing")).length, 1);
  });

  it("rejects a runtime no pool provides, an unknown KV bucket and account", () => {
    expectProblem(
      (s) => (s.workloads[0].runtime = "krustlet"),
      'workloads[0].runtime: cloud "aws" has no a krustlet node pool to run it (got "krustlet"; allowed a runtime cloud "aws" provides, or add a krustlet node pool there)',
    );
    expectProblem((s) => (s.workloads[1].kv = "nope"), 'workloads[1].kv: not a declared KV bucket (got "nope"; allowed balances)');
    expectProblem((s) => (s.workloads[1].account = "NOPE"), 'workloads[1].account: not a declared account (got "NOPE"; allowed APP)');
  });

  it("rejects drills whose faults, objectives or ids do not match the lattice, before anything starts", () => {
    const drill = (over: Mutable) => ({ id: "d", hypothesis: "the lattice keeps serving from the other cloud", faults: [], ...over });
    expectProblem(
      (s) => s.drills.push(drill({ faults: [{ kind: "cloud-outage", cloud: "azure" }] })),
      'drills[3].faults[0].cloud: not a declared cloud or tie-breaker site (got "azure"; allowed aws, gcp, tb)',
    );
    expectProblem(
      (s) => s.drills.push(drill({ faults: [{ kind: "hub-node-loss", cloud: "aws", server: "gcp-1" }] })),
      'drills[3].faults[0].server: not a server of "aws" (got "gcp-1"; allowed stream-leader, aws-1, aws-2, aws-3, stretch-aws-1)',
    );
    expectProblem(
      (s) => s.drills.push(drill({ faults: [{ kind: "host-crash", cloud: "aws", host: "gcp-hosts-1" }] })),
      'drills[3].faults[0].host: not a host of "aws" (got "gcp-hosts-1"; allowed aws-hosts-1)',
    );
    expectProblem(
      (s) => s.drills.push(drill({ faults: [{ kind: "partition", between: ["aws", "aws"] }] })),
      'drills[3].faults[0].between: a site cannot be cut off from itself (got ["aws","aws"]; allowed two different sites)',
    );
    expectProblem(
      (s) => s.drills.push(drill({ faults: [{ kind: "cloud-outage", cloud: "aws" }], objectives: { payments: { rtoSeconds: 1 } } })),
      'drills[3].objectives.payments: not a declared workload (got "payments"; allowed validator, ledger)',
    );
    expectProblem(
      (s) => s.drills.push(drill({ id: "partition-clouds", faults: [{ kind: "cloud-outage", cloud: "gcp" }] })),
      'drills[3].id: duplicate drill id (first at index 1) (got "partition-clouds"; allowed a drill id not used before)',
    );
    expectProblem(
      (s) => s.drills.push(drill({ faults: [{ kind: "meteor", cloud: "aws" }] })),
      'drills[3].faults[0].kind: invalid value (got "meteor"; allowed cloud-outage, hub-node-loss, host-crash, blackhole, partition, latency)',
    );
    expectProblem(
      (s) => s.drills.push(drill({ hypothesis: "it works", faults: [{ kind: "cloud-outage", cloud: "aws" }] })),
      'drills[3].hypothesis: too small (got "it works"; allowed at least 20 characters)',
    );
  });

  it("reports every problem at once, shape and cross-field alike", () => {
    const s = small();
    s.clouds[0].hubb = 1; // shape
    s.clouds[1].hub = { servers: 4 }; // cross-field
    s.workloads[0].subject = "a b"; // cross-field
    s.streams[0].replicas = 9; // cross-field
    const got = problems(s);
    assert.equal(got.length, 5, got.join("\n")); // the 4-server hub also costs the meta-group majority
    assert.ok(got[0]!.startsWith("clouds[0].hubb: unknown key"));
  });

  it("typed specs built in TypeScript validate the same way", () => {
    const spec: LatticeInput = {
      name: "ts",
      clouds: [
        { name: "aws", provider: "aws", region: "eu-west-1", zones: ["eu-west-1a"] },
        { name: "gcp", provider: "gcp", region: "europe-west3", zones: ["europe-west3-a"] },
      ],
      tieBreaker: { name: "tb", provider: "aws", region: "eu-central-1", zones: ["eu-central-1a"] },
    };
    assert.deepEqual(problems(spec), []);
  });

  it("admin access: each range list is checked for what its consumer accepts, every problem at once", () => {
    const s = small();
    s.access = {
      api: { endpoint: "private", cidrs: ["10.100.0.0/16", "203.0.113.0/24"] },
      natsCidrs: ["198.51.100.0/24", "10.0.0.0/8", "0.0.0.0/0"],
    };
    const got = problems(s);
    assert.ok(
      got.includes(
        'access.api.cidrs[1]: a private API endpoint accepts only private ranges (GKE refuses others in master authorized networks) (got "203.0.113.0/24"; allowed a range inside 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or 100.64.0.0/10, or access.api.endpoint: public)',
      ),
      got.join("\n"),
    );
    assert.ok(
      got.some((p) =>
        p.startsWith('access.natsCidrs[1]: the NATS load balancers are public; this range overlaps a private range (got "10.0.0.0/8"'),
      ),
      got.join("\n"),
    );
    assert.ok(
      got.some((p) =>
        p.startsWith("access.natsCidrs[2]: the NATS load balancers are public; this range opens the endpoint to the whole internet"),
      ),
      got.join("\n"),
    );
    assert.equal(got.length, 3, got.join("\n"));
    assert.ok(!got.some((p) => p.startsWith("access.api.cidrs[0]") || p.startsWith("access.natsCidrs[0]")), "valid ranges pass");
    const pub = small();
    pub.access = { api: { endpoint: "public", cidrs: ["192.168.1.0/24", "203.0.113.0/24"] } };
    const gotPub = problems(pub);
    assert.ok(
      gotPub.some((p) => p.startsWith("access.api.cidrs[0]: a public API endpoint's allow-list overlaps a private range")),
      gotPub.join("\n"),
    );
    assert.equal(gotPub.length, 1, gotPub.join("\n"));
    expectProblem(
      (x) => (x.access = { natsCidrs: ["300.1.1.1/32"] }),
      'access.natsCidrs[0]: invalid CIDR (got "300.1.1.1/32"; allowed an IPv4 range such as 203.0.113.0/24)',
    );
  });
});
