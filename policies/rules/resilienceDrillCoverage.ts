import { onSpec, type LatticePolicy } from "../lib";

/**
 * Scenario testing as code (DORA arts. 24–25, PRA SS1/21): the stack itself declares a drill that takes down
 * each cloud, so the severe-but-plausible scenario is reviewed with the lattice it tests.
 */
export const policy: LatticePolicy = {
  name: "latticeform-resilience-drill-coverage",
  description:
    "For every cloud, the stack declares a drill (under `drills`) that takes the whole cloud down (cloud-outage or blackhole), repeated at least `minRepetitions` times.",
  enforcementLevel: "advisory",
  severity: "medium",
  remediationSteps:
    "Add to the stack's drills, for each cloud: { id: lose-<cloud>, hypothesis: ..., faults: [{ kind: cloud-outage, cloud: <cloud> }], repetitions: N }, and run `latticeform drill --scenario lose-<cloud>`.",
  configSchema: {
    properties: {
      minRepetitions: { type: "integer", minimum: 1, default: 1 },
    },
  },
  validateResource: onSpec((spec, report, args) => {
    const { minRepetitions } = args.getConfig<{ minRepetitions: number }>();
    for (const c of spec.clouds) {
      const drills = (spec.drills ?? []).filter((d) =>
        d.faults.some((f) => (f.kind === "cloud-outage" || f.kind === "blackhole") && f.cloud === c.name && !("server" in f && f.server)),
      );
      if (drills.length === 0) report(`no declared drill takes cloud ${c.name} down.`);
      else if (Math.max(...drills.map((d) => d.repetitions)) < minRepetitions)
        report(
          `the drills that take cloud ${c.name} down (${drills.map((d) => d.id).join(", ")}) repeat fewer than ${minRepetitions} times.`,
        );
    }
  }),
};
