import { onSpec, type LatticePolicy } from "../lib";

/** Every NATS listener (client, routes, gateways, leafnodes) speaks TLS. */
export const policy: LatticePolicy = {
  name: "latticeform-nats-tls-every-port",
  description: "TLS on every NATS port: client, cluster routes, gateways and leafnodes.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps: "Remove `false` from security.tls.<port> and keep security.requireTls: true; certificates come from the lattice CA.",
  validateResource: onSpec((spec, report) => {
    for (const port of ["client", "cluster", "gateway", "leafnode"] as const) {
      if (spec.security.tls[port] === false) report(`security.tls.${port}: the ${port} port has no TLS.`);
    }
  }),
};
