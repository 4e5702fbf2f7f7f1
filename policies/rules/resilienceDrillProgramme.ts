import type { DrillFault } from "../../src/model/schema";
import { onSpec, type LatticePolicy } from "../lib";

const takesDown = (f: DrillFault, site: string) =>
  (f.kind === "cloud-outage" || f.kind === "blackhole") && f.cloud === site && !("server" in f && f.server);

/**
 * DORA art. 11(6) and arts. 24–25: a testing programme of severe but plausible scenarios. For this topology
 * those are losing each cloud, losing the tie-breaker (the meta group's third vote), and the clouds losing
 * each other while both stay up (the partition a stretched cluster must survive without split brain).
 */
export const policy: LatticePolicy = {
  name: "latticeform-resilience-drill-programme",
  description:
    "The stack's drills cover losing each cloud, losing the tie-breaker site (when there is one) and a partition between two clouds.",
  enforcementLevel: "advisory",
  severity: "medium",
  remediationSteps:
    "Declare drills: { faults: [{ kind: cloud-outage, cloud: <each cloud> }] }, { faults: [{ kind: cloud-outage, cloud: <tie-breaker> }] } and { faults: [{ kind: partition, between: [<cloud a>, <cloud b>] }] }.",
  validateResource: onSpec((spec, report) => {
    const faults = (spec.drills ?? []).flatMap((d) => d.faults);
    for (const c of spec.clouds) if (!faults.some((f) => takesDown(f, c.name))) report(`no drill takes cloud ${c.name} down.`);
    if (spec.tieBreaker && !faults.some((f) => takesDown(f, spec.tieBreaker!.name)))
      report(`no drill takes the tie-breaker site ${spec.tieBreaker.name} down.`);
    const clouds = new Set(spec.clouds.map((c) => c.name));
    if (clouds.size > 1 && !faults.some((f) => f.kind === "partition" && f.between.every((s) => clouds.has(s))))
      report("no drill partitions two clouds from each other.");
  }),
};
