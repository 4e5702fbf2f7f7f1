import type { PolicyResource } from "@pulumi/policy";
import type { LatticeSpec } from "../../src/model/schema";
import { topologyOf } from "../../src/model/topology";
import { LATTICE_TYPE, type LatticePolicy } from "../lib";

/** Stack-wide: every NATS cluster of the topology is deployed, so every gateway has a peer to reach. */
export const policy: LatticePolicy = {
  name: "latticeform-resilience-gateway-completeness",
  description:
    "Every NATS cluster of the declared topology (each cloud's hub, the stretched cluster, the tie-breaker) is deployed, so the supercluster's gateways are complete.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps: "Deploy the missing cluster (its HubCluster or TieBreakerSite component); gateways list every other cluster.",
  validateStack: (args, report) => {
    const lattice = args.resources.find((r: PolicyResource) => r.type === LATTICE_TYPE);
    if (!lattice) return;
    const spec = lattice.props.spec as LatticeSpec;
    const deployed = new Set<string>();
    const tbDeployed = args.resources.some((r: PolicyResource) => r.type === "latticeform:nats:TieBreakerSite");
    for (const r of args.resources) {
      if (r.type === "latticeform:nats:HubCluster" && typeof r.props.cluster === "string") deployed.add(r.props.cluster);
      // The tie-breaker's servers form its own cluster, or join the stretched one (deployed as a HubCluster too).
      if (r.type === "latticeform:nats:TieBreakerSite" && typeof r.props.site === "string")
        deployed.add(spec.stretched ? spec.stretched.name : r.props.site);
    }
    for (const c of topologyOf(spec).clusters) {
      if (!deployed.has(c.name)) report(`cluster ${c.name} of the topology is not deployed: gateways to it have no peer.`, lattice.urn);
    }
    if (spec.tieBreaker && !tbDeployed)
      report(`the tie-breaker site ${spec.tieBreaker.name} is not deployed: losing a cloud loses the JetStream majority.`, lattice.urn);
  },
};
