/** Cases of the rules that judge the lattice spec (and what the compiler makes of it). */
import { goodSpec, hostPod, lattice, lb, mutate, oneLeafHost, res, type Any, type Cases } from "./fixtures";

export const specCases: Cases = {
  "latticeform-nats-tls-every-port": {
    good: () => [lattice(goodSpec())],
    bad: () => [lattice(mutate((s) => (s.security.tls.gateway = false)))],
    expected: ["security.tls.gateway: the gateway port has no TLS."],
  },
  "latticeform-nats-sync-always": {
    good: () => [lattice(goodSpec())],
    bad: () => [lattice(mutate((s) => (s.jetstream.syncInterval = "2m")))],
    expected: [
      "bucket balances (RPO 0 for ledger) lives in stretch, whose servers fsync every 2m (jetstream.syncInterval), not on every write.",
    ],
  },
  "latticeform-nats-leafnode-verify": {
    good: () => [lattice(goodSpec())],
    bad: () => [lattice(mutate((s) => (s.security.tls.leafnode = { verify: false })))],
    expected: ["security.tls.leafnode.verify is false: any TLS client may open a leafnode connection."],
  },
  "latticeform-nats-leafnode-authorization": {
    good: () => [
      // No host pools: no leaf users to judge (every host, direct or not, now has a leaf sidecar).
      lattice(mutate((s) => s.clouds.forEach((c: Any) => (c.hostPools = [])))),
      res("kubernetes:apps/v1:Deployment", hostPod(["host-creds"])),
    ],
    // The cases of issue 17: leaf users holding the whole account, a host container handed the leaf's credentials.
    bad: () => [
      lattice(mutate((s) => (oneLeafHost(s), (s.security.auth = "none")))),
      res("kubernetes:apps/v1:Deployment", hostPod(["host-creds", "leaf-creds"])),
    ],
    expected: [
      'security.auth is "none": leafnode connections would not present account credentials.',
      "leaf user leaf:aws-edge-1 may publish and subscribe to every subject of account APP, $JS API included: its JWT carries no pub/sub permissions.",
      "wasmcloud-aws-edge-1: container host mounts Secret leaf-creds (volume leaf-creds), which the leaf sidecar also mounts: the host holds the leaf's credentials.",
    ],
  },
  "latticeform-nats-user-permissions": {
    good: () => [lattice(goodSpec())],
    bad: () => [
      lattice(
        mutate((s) => {
          s.security.accounts[0].users = [
            { name: "teller", permissions: { publish: [">"], subscribe: ["_INBOX.>"] } },
            { name: "ops", permissions: { publish: ["$JS.API.>"], subscribe: [] } },
            { name: "any" },
          ];
        }),
      ),
    ],
    expected: [
      "security.accounts[0].users[0] (APP/teller) may publish >: every subject.",
      "security.accounts[0].users[1] (APP/ops) may publish $JS.API.>: the whole JetStream API (create, purge and delete any stream).",
      "security.accounts[0].users[1] (APP/ops) has no subscribe allow list: nothing bounds it.",
      "security.accounts[0].users[2] (APP/any) has no permissions: it may publish and subscribe to every subject of account APP.",
    ],
  },
  "latticeform-nats-host-permissions": {
    // Without a key-value workload the hosts get no JetStream API at all.
    good: () => [lattice(mutate((s) => s.workloads.forEach((w: Any) => delete w.kv)))],
    bad: () => [lattice(mutate(oneLeafHost))],
    expected: [
      "host aws-edge-1 may publish $JS.hub.API.>: more of the JetStream API than its buckets (balances).",
      "host aws-edge-1 may publish $JS.API.>: more of the JetStream API than its buckets (balances).",
    ],
  },
  "latticeform-nats-no-public-exposure": {
    good: () => [
      lattice(goodSpec(), { existingEgressCidrs: { gcp: ["35.9.9.9/32"] } }),
      res("kubernetes:core/v1:Service", lb(["34.1.2.3/32"])),
      res("gcp:compute/firewall:Firewall", { allows: [{ ports: ["7222-7422"] }], sourceRanges: ["52.1.2.3/32"] }),
      res("aws:ec2/securityGroup:SecurityGroup", {
        ingress: [{ protocol: "tcp", fromPort: 6222, toPort: 6222, cidrBlocks: ["34.1.2.3/32"] }],
        egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }],
      }),
    ],
    // Issue 17: an open operator range (known before deploy, while the ranges it flows into are not), the
    // tie-breaker's AWS security group, a non-default client port, a GCP port range once parsed as NaN.
    bad: () => [
      lattice(
        mutate(
          (s) => ((s.clouds[0].hub.ports.client = 14222), delete s.stretched, delete s.tieBreaker, (s.access.natsCidrs = ["0.0.0.0/0"])),
        ),
        { existingEgressCidrs: { gcp: ["10.0.0.0/4"] } },
      ),
      res("kubernetes:core/v1:Service", lb(["0.0.0.0/0"])),
      res("kubernetes:core/v1:Service", lb(undefined)),
      res("gcp:compute/firewall:Firewall", { allows: [{ ports: ["7222-7422"] }], sourceRanges: ["0.0.0.0/0"] }),
      res("aws:ec2/securityGroup:SecurityGroup", {
        ingress: [{ protocol: "tcp", fromPort: 4222, toPort: 7222, cidrBlocks: ["0.0.0.0/0"] }],
      }),
      res("aws:ec2/securityGroupRule:SecurityGroupRule", {
        type: "ingress",
        protocol: "-1",
        fromPort: 0,
        toPort: 0,
        ipv6CidrBlocks: ["::/0"],
      }),
    ],
    expected: [
      "access.natsCidrs[0] 0.0.0.0/0 is admitted to every NATS listener the lattice exposes (aws hub load balancer 7222, 7422, 14222; gcp hub load balancer 7222, 7422, 4222).",
      "existingEgressCidrs.gcp[0] 10.0.0.0/4 is admitted to every NATS listener the lattice exposes (aws hub load balancer 7222, 7422, 14222; gcp hub load balancer 7222, 7422, 4222).",
      "loadBalancerSourceRanges contains 0.0.0.0/0: ports 7222, 7422 are open to the internet.",
      "a LoadBalancer for ports 7222, 7422 has no loadBalancerSourceRanges: it is open to the internet.",
      "a firewall admits 0.0.0.0/0 to 7222-7422.",
      "security group ingress[0] admits 0.0.0.0/0 to 4222-7222.",
      "a security group rule admits ::/0 to all ports.",
    ],
  },
  "latticeform-nats-monitoring-not-exposed": {
    good: () => [lattice(goodSpec()), res("kubernetes:core/v1:Service", lb(["34.1.2.3/32"]))],
    bad: () => [
      lattice(mutate((s) => ((s.clouds[1].hub.ports.monitor = 7422), (s.tieBreaker.ports.monitor = 4222)))),
      res("kubernetes:core/v1:Service", { spec: { type: "LoadBalancer", ports: [{ name: "monitor", port: 8222 }] } }),
    ],
    expected: [
      "gcp: the monitoring port 7422 is one of the ports the hub load balancer exposes.",
      "tb: the monitoring port 4222 is one of the ports the tie-breaker firewall exposes.",
      "the load balancer exposes port 8222 (monitor): the monitoring endpoint.",
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
    // Issue 17: an asynchronous mirror counted as RPO 0; two servers per cloud letting two of three replicas share one.
    bad: () => [
      lattice(
        mutate((s) => {
          s.kv[0] = { ...s.kv[0], placement: { cluster: "aws", tags: [] }, mirrors: ["gcp"] };
          s.stretched.serversPerCloud = 2;
          s.streams[0].storage = "memory";
        }),
      ),
    ],
    expected: [
      "workload ledger (RPO 0) keeps bucket balances: all its replicas are in aws; its mirrors in gcp are asynchronous (loss up to their lag).",
      "RPO-0 stream LEDGER in memory storage: a restart loses it.",
      "RPO-0 stream LEDGER: 2 of its 3 replicas may be placed in aws (quorum 2): losing aws can lose acknowledged writes.",
    ],
  },
  "latticeform-resilience-stream-durability": {
    good: () => [lattice(goodSpec())],
    bad: () => [lattice(mutate((s) => (s.streams[1] = { ...s.streams[1], replicas: 1, storage: "memory", mirrors: [] })))],
    expected: [
      "stream AUDIT is in memory storage: a server restart loses it.",
      "stream AUDIT has 1 replica(s); at least 3 are required.",
      "stream AUDIT has copies only in aws: losing it loses the stream.",
    ],
  },
  "latticeform-resilience-drill-programme": {
    good: () => [
      lattice(
        mutate((s) => {
          const base = s.drills[0];
          s.drills.push({ ...base, id: "lose-tb", faults: [{ kind: "cloud-outage", cloud: "tb" }] });
          s.drills.push({ ...base, id: "split", faults: [{ kind: "partition", between: ["aws", "gcp"], durationSeconds: 5 }] });
        }),
      ),
    ],
    bad: () => [lattice(mutate((s) => (s.drills = s.drills.filter((d: Any) => d.id !== "lose-gcp"))))],
    expected: [
      "no drill takes cloud gcp down.",
      "no drill takes the tie-breaker site tb down.",
      "no drill partitions two clouds from each other.",
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
    bad: () => [
      lattice(
        mutate((s) => {
          s.workloads[0].objectives.rtoSeconds = 120;
          s.workloads[1].objectives.rpoMessages = 5;
          // Issue 17: a drill loosening the ledger's objectives, so its evidence is judged against 3600 s / 1000.
          s.drills[0].objectives = { ledger: { rtoSeconds: 3600, rpoMessages: 1000 } };
        }),
      ),
    ],
    expected: [
      "workload validator: RTO 120 s exceeds the impact tolerance of 60 s.",
      "workload ledger: RPO 5 messages exceeds the tolerance of 0.",
      "drill lose-aws judges workload ledger against: RTO 3600 s exceeds the impact tolerance of 60 s.",
      "drill lose-aws judges workload ledger against: RPO 1000 messages exceeds the tolerance of 0.",
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
  "latticeform-wasm-artifact-digest": {
    good: () => [
      lattice(goodSpec()),
      res("kubernetes:runtime.wasmcloud.dev/v1alpha1:WorkloadDeployment", {
        spec: { template: { spec: { components: [{ image: `ghcr.io/latticeform/payments/ledger@sha256:${"b".repeat(64)}` }] } } },
      }),
      // Not a workload: its image is latticeform-wasm-image-pinning's business.
      res("kubernetes:apps/v1:Deployment", { spec: { template: { spec: { containers: [{ image: "nats:2.14.2-alpine" }] } } } }),
    ],
    bad: () => [
      lattice(
        mutate(
          (s) => ((s.workloads[2].artifact = { oci: "ghcr.io/x/y:latest" }), (s.workloads[0].artifact = { path: "../elsewhere/v.wasm" })),
        ),
      ),
      // Issue 17: a path artifact deployed as :latest; a workload Deployment by tag.
      res("kubernetes:runtime.wasmcloud.dev/v1alpha1:WorkloadDeployment", {
        spec: { template: { spec: { components: [{ image: "ghcr.io/latticeform/payments/ledger:latest" }] } } },
      }),
      res("kubernetes:apps/v1:Deployment", {
        metadata: { labels: { "latticeform.io/workload": "fraud-score" } },
        spec: { template: { spec: { containers: [{ image: "ghcr.io/x/y:1.0" }] } } },
      }),
    ],
    expected: [
      "workloads[0].artifact.path ../elsewhere/v.wasm points outside the repository: what is pushed is not what was reviewed.",
      "workloads[2].artifact.oci ghcr.io/x/y:latest is not pinned by digest.",
      "spec.template.spec.components[0].image ghcr.io/latticeform/payments/ledger:latest is not pinned by digest.",
      "spec.template.spec.containers[0].image ghcr.io/x/y:1.0 is not pinned by digest.",
    ],
  },
};
