import { onSpec, type LatticePolicy } from "../lib";

/** Active-passive standbys keep warm instances, so promotion is a subscription, not a cold start. */
export const policy: LatticePolicy = {
  name: "latticeform-resilience-warm-standby",
  description: "Active-passive workloads keep at least one warm instance in each standby cloud.",
  enforcementLevel: "advisory",
  severity: "medium",
  remediationSteps: "Set failover.warmStandby to 1 or more.",
  validateResource: onSpec((spec, report) => {
    for (const w of spec.workloads) {
      if (w.failover.mode === "active-passive" && w.failover.warmStandby < 1)
        report(`workload ${w.name} has a cold standby: promotion needs a cold start.`);
    }
  }),
};
