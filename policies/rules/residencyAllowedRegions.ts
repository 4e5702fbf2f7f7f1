import { EU_REGIONS } from "../../src/model/regions";
import { onSpec, sites, type LatticePolicy } from "../lib";

/** Data stays in the regions the firm is allowed to use (default: EU). */
export const policy: LatticePolicy = {
  name: "latticeform-residency-allowed-regions",
  description: "Every cloud and the tie-breaker site are in `allowedRegions` (default: EU regions).",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Move the site to an allowed region, or extend allowedRegions in the policy config with the data-protection officer's approval.",
  configSchema: { properties: { allowedRegions: { type: "array", items: { type: "string" }, default: [...EU_REGIONS] } } },
  validateResource: onSpec((spec, report, args) => {
    const { allowedRegions } = args.getConfig<{ allowedRegions: string[] }>();
    for (const s of sites(spec))
      if (!allowedRegions.includes(s.region)) report(`${s.path}.region ${s.region} (${s.name}) is outside the allowed regions.`);
  }),
};
