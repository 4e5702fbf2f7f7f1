import { metaQuorumRisks, topologyOf } from "../../src/model/topology";
import { onSpec, type LatticePolicy } from "../lib";

/** The JetStream meta group keeps its majority when any one site is lost (tie-breaker site). */
export const policy: LatticePolicy = {
  name: "latticeform-resilience-meta-quorum",
  description: "Losing any one cloud leaves the JetStream meta group a majority, so streams and consumers can still be created.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps: "Add a tieBreaker site with JetStream servers in a third location (and optionally a stretched cluster).",
  validateResource: onSpec((spec, report) => {
    if (spec.clouds.length < 2) return;
    for (const r of metaQuorumRisks(topologyOf(spec))) {
      report(`losing ${r.site} leaves ${r.total - r.lost} of ${r.total} JetStream servers, below the majority of ${r.majority}.`);
    }
  }),
};
