import { instancesPerCloud } from "../../src/model/topology";
import { onSpec, type LatticePolicy } from "../lib";

/** Every workload can run in a second cloud. */
export const policy: LatticePolicy = {
  name: "latticeform-resilience-workload-failover",
  description: "Every workload has instances (or a standby) in at least two clouds.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps: "Give the workload instances in a second cloud, or make it active-passive with a warm standby there.",
  validateResource: onSpec((spec, report) => {
    if (spec.clouds.length < 2) return;
    for (const w of spec.workloads) {
      const placed = Object.entries(instancesPerCloud(spec, w))
        .filter(([, n]) => n > 0)
        .map(([c]) => c);
      if (placed.length < 2) report(`workload ${w.name} runs only in ${placed.join(", ") || "no cloud"}: it has no failover target.`);
    }
  }),
};
