import { onSpec, type LatticePolicy } from "../lib";

/** Hub clusters of 3 or 5 servers, spread over distinct availability zones. */
export const policy: LatticePolicy = {
  name: "latticeform-resilience-hub-spread",
  description: "Each hub cluster has 3 or 5 servers spread over at least `minZones` distinct zones.",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediationSteps: "List at least three zones for the cloud; latticeform spreads servers over them and sets unique_tag az.",
  configSchema: { properties: { minZones: { type: "integer", minimum: 1, default: 3 } } },
  validateResource: onSpec((spec, report, args) => {
    const { minZones } = args.getConfig<{ minZones: number }>();
    spec.clouds.forEach((c, i) => {
      if (c.hub.servers !== 3 && c.hub.servers !== 5) report(`clouds[${i}].hub.servers is ${c.hub.servers}; use 3 or 5.`);
      const zones = new Set(c.zones).size;
      if (zones < Math.min(minZones, c.hub.servers))
        report(
          `clouds[${i}] (${c.name}) spreads its hub over ${zones} zone(s); at least ${Math.min(minZones, c.hub.servers)} are required.`,
        );
    });
  }),
};
