import { onSpec, type LatticePolicy } from "../lib";

/**
 * Declared objectives stay within the firm's impact tolerance (PRA SS1/21, DORA art. 12), the workloads' own
 * and those a drill judges its evidence against: a drill that loosens them would report MET on a breach.
 */
export const policy: LatticePolicy = {
  name: "latticeform-resilience-impact-tolerance",
  description:
    "Every workload's recovery-time objective is within `maxRtoSeconds` and its RPO within `maxRpoMessages`, and so is every drill's objective override.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Lower the workload's objectives.rtoSeconds / rpoMessages (or the drill's objectives override), or raise the tolerance in the policy config with the service owner's sign-off.",
  configSchema: {
    properties: {
      maxRtoSeconds: { type: "number", exclusiveMinimum: 0, default: 60 },
      maxRpoMessages: { type: "integer", minimum: 0, default: 0 },
    },
  },
  validateResource: onSpec((spec, report, args) => {
    const { maxRtoSeconds, maxRpoMessages } = args.getConfig<{ maxRtoSeconds: number; maxRpoMessages: number }>();
    const judge = (who: string, o: { rtoSeconds?: number; rpoMessages?: number }) => {
      if (o.rtoSeconds !== undefined && o.rtoSeconds > maxRtoSeconds)
        report(`${who}: RTO ${o.rtoSeconds} s exceeds the impact tolerance of ${maxRtoSeconds} s.`);
      if (o.rpoMessages !== undefined && o.rpoMessages > maxRpoMessages)
        report(`${who}: RPO ${o.rpoMessages} messages exceeds the tolerance of ${maxRpoMessages}.`);
    };
    for (const w of spec.workloads) judge(`workload ${w.name}`, w.objectives);
    for (const d of spec.drills ?? [])
      for (const [w, o] of Object.entries(d.objectives ?? {})) judge(`drill ${d.id} judges workload ${w} against`, o);
  }),
};
