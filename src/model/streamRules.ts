/** Cross-field rules of streams and key-value buckets: placement, replicas, mirrors, subjects, accounts. Pure. */
import { dupes, subjectProblem, type Add } from "./rules";
import type { LatticeSpec } from "./schema";
import { accountCheck } from "./securityRules";
import type { Topology } from "./topology";

export function streamProblems(spec: LatticeSpec, topo: Topology, add: Add): void {
  const cloudNames = spec.clouds.map((c) => c.name);
  const acctOf = accountCheck(spec, add);
  const clusterSizes = new Map(topo.clusters.map((c) => [c.name, c.servers.length]));
  const placeable = [...clusterSizes.keys()];
  const checkPlacement = (item: { replicas: number; placement: { cluster: string }; mirrors: string[] }, p: string) => {
    const size = clusterSizes.get(item.placement.cluster);
    if (size === undefined)
      add(
        `${p}.placement.cluster`,
        "not a declared cloud, stretched cluster or tie-breaker site",
        item.placement.cluster,
        placeable.join(", "),
      );
    if (item.replicas > 5) add(`${p}.replicas`, "JetStream keeps at most 5 replicas", item.replicas, "1..5");
    else if (size !== undefined && item.replicas > size)
      add(`${p}.replicas`, `more replicas than cluster "${item.placement.cluster}" has servers`, item.replicas, `1..${size}`);
    item.mirrors.forEach((m, mi) => {
      if (!cloudNames.includes(m)) add(`${p}.mirrors[${mi}]`, "mirror into an undeclared cloud", m, cloudNames.join(", "));
      else if (m === item.placement.cluster)
        add(
          `${p}.mirrors[${mi}]`,
          "a mirror into the stream's own cloud survives nothing",
          m,
          cloudNames.filter((c) => c !== m).join(", ") || "another cloud",
        );
    });
    dupes(
      add,
      item.mirrors,
      (m) => m,
      (mi) => `${p}.mirrors[${mi}]`,
      "mirror cloud",
    );
  };
  dupes(
    add,
    [...spec.streams.map((s) => s.name), ...spec.kv.map((k) => `KV_${k.bucket}`)],
    (n) => n,
    (i) => (i < spec.streams.length ? `streams[${i}].name` : `kv[${i - spec.streams.length}].bucket`),
    "stream name",
  );
  spec.streams.forEach((s, si) => {
    checkPlacement(s, `streams[${si}]`);
    acctOf(s.account, `streams[${si}].account`);
    s.subjects.forEach((sub, i) => {
      const why = subjectProblem(sub, true);
      if (why) add(`streams[${si}].subjects[${i}]`, why, sub, "a NATS subject such as ledger.> (no spaces; '*' a whole token; '>' last)");
    });
  });
  spec.kv.forEach((k, ki) => {
    checkPlacement(k, `kv[${ki}]`);
    acctOf(k.account, `kv[${ki}].account`);
  });
}
