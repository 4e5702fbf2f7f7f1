import { onSpec, type LatticePolicy } from "../lib";

/** A lattice that must survive losing a whole cloud needs hubs in at least two. */
export const policy: LatticePolicy = {
  name: "latticeform-resilience-multi-cloud",
  description: "At least `minClouds` clouds, each with its own NATS hub cluster, and both providers present.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps: "Declare a second cloud (another provider) with a hub and host pools, and place workloads in both.",
  configSchema: {
    properties: { minClouds: { type: "integer", minimum: 1, default: 2 }, requireBothProviders: { type: "boolean", default: true } },
  },
  validateResource: onSpec((spec, report, args) => {
    const { minClouds, requireBothProviders } = args.getConfig<{ minClouds: number; requireBothProviders: boolean }>();
    if (spec.clouds.length < minClouds) report(`the lattice declares ${spec.clouds.length} cloud(s); at least ${minClouds} are required.`);
    const providers = new Set(spec.clouds.map((c) => c.provider));
    if (requireBothProviders && providers.size < 2)
      report(`every cloud is on ${[...providers].join(", ")}: losing that provider loses the lattice.`);
  }),
};
