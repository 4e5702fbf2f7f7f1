import { onSpec, type LatticePolicy } from "../lib";

/** State behind an RPO-0 workload is replicated R3+ and has a copy outside its home cloud. */
export const policy: LatticePolicy = {
  name: "latticeform-resilience-rpo-zero-replication",
  description:
    "Every bucket used by a workload with RPO 0 has 3+ replicas and survives a cloud loss: placed in a stretched cluster, or mirrored into another cloud.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Place the bucket in the stretched cluster (synchronous, no acknowledged loss) or add mirrors: [<other cloud>] (asynchronous: loss up to the lag).",
  validateResource: onSpec((spec, report) => {
    for (const w of spec.workloads) {
      if (w.objectives.rpoMessages !== 0 || !w.kv) continue;
      const b = spec.kv.find((k) => k.bucket === w.kv);
      if (!b) continue;
      if (b.replicas < 3)
        report(`workload ${w.name} (RPO 0) keeps bucket ${b.bucket} with ${b.replicas} replica(s); at least 3 are required.`);
      const stretched = spec.stretched && b.placement.cluster === spec.stretched.name;
      if (!stretched && b.mirrors.length === 0)
        report(`workload ${w.name} (RPO 0) keeps bucket ${b.bucket} only in ${b.placement.cluster}: losing that cloud loses it.`);
    }
  }),
};
