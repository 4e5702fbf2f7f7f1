import { onSpec, storedData, syncReplicationGap, type LatticePolicy } from "../lib";

/**
 * Data behind an RPO of 0 survives the loss of any one site with nothing acknowledged lost: only a
 * synchronous copy does that (replicas of one stream whose every quorum spans sites). An asynchronous
 * mirror loses up to its lag, so it does not count here.
 */
export const policy: LatticePolicy = {
  name: "latticeform-resilience-rpo-zero-replication",
  description:
    "Every bucket used by a workload with RPO 0, and every stream in `rpoZeroStreams`, is file-backed with 3+ replicas placed so that no site holds more replicas than a quorum can spare (e.g. one per site for R3): losing any one site loses no acknowledged write. Asynchronous mirrors do not count.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Place the bucket or stream in the stretched cluster with one server per cloud plus the tie-breaker (serversPerCloud: 1 for R3), or restrict its placement tags so no cloud holds a quorum; a mirror is a second copy, not RPO 0.",
  configSchema: {
    properties: { rpoZeroStreams: { type: "array", items: { type: "string" }, default: ["LEDGER"] } },
  },
  validateResource: onSpec((spec, report, args) => {
    const { rpoZeroStreams } = args.getConfig<{ rpoZeroStreams: string[] }>();
    const data = storedData(spec);
    const targets: { why: string; name: string; kind: "stream" | "bucket" }[] = [
      ...spec.workloads
        .filter((w) => w.objectives.rpoMessages === 0 && w.kv)
        .map((w) => ({ why: `workload ${w.name} (RPO 0) keeps bucket`, name: w.kv!, kind: "bucket" as const })),
      ...rpoZeroStreams.map((s) => ({ why: "RPO-0 stream", name: s, kind: "stream" as const })),
    ];
    for (const t of targets) {
      const d = data.find((x) => x.kind === t.kind && x.name === t.name);
      if (!d) continue;
      if (d.replicas < 3) report(`${t.why} ${d.name} with ${d.replicas} replica(s); at least 3 are required.`);
      if (d.storage !== "file") report(`${t.why} ${d.name} in ${d.storage} storage: a restart loses it.`);
      const gap = syncReplicationGap(spec, d);
      if (gap) report(`${t.why} ${d.name}: ${gap}.`);
    }
  }),
};
