import { onSpec, type LatticePolicy } from "../lib";

/** Declared objectives stay within the firm's impact tolerance (PRA SS1/21, DORA art. 12). */
export const policy: LatticePolicy = {
  name: "latticeform-resilience-impact-tolerance",
  description: "Every workload's recovery-time objective is within `maxRtoSeconds` and its RPO within `maxRpoMessages`.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Lower the workload's objectives.rtoSeconds / rpoMessages, or raise the tolerance in the policy config with the service owner's sign-off.",
  configSchema: {
    properties: {
      maxRtoSeconds: { type: "number", exclusiveMinimum: 0, default: 60 },
      maxRpoMessages: { type: "integer", minimum: 0, default: 0 },
    },
  },
  validateResource: onSpec((spec, report, args) => {
    const { maxRtoSeconds, maxRpoMessages } = args.getConfig<{ maxRtoSeconds: number; maxRpoMessages: number }>();
    for (const w of spec.workloads) {
      if (w.objectives.rtoSeconds > maxRtoSeconds)
        report(`workload ${w.name}: RTO ${w.objectives.rtoSeconds} s exceeds the impact tolerance of ${maxRtoSeconds} s.`);
      if (w.objectives.rpoMessages > maxRpoMessages)
        report(`workload ${w.name}: RPO ${w.objectives.rpoMessages} messages exceeds the tolerance of ${maxRpoMessages}.`);
    }
  }),
};
