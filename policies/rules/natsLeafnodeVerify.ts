import { onSpec, type LatticePolicy } from "../lib";

/** nats-server verifies route and gateway peers when TLS is on, but leafnode listeners only with `verify`. */
export const policy: LatticePolicy = {
  name: "latticeform-nats-leafnode-verify",
  description: "Leafnode listeners require a client certificate (`verify: true`); nats-server does not enforce it there by itself.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps: "Set security.tls.leafnode: { verify: true } so that only leafs with a certificate from the lattice CA connect.",
  validateResource: onSpec((spec, report) => {
    const leaf = spec.security.tls.leafnode;
    if (leaf !== false && !leaf.verify) report("security.tls.leafnode.verify is false: any TLS client may open a leafnode connection.");
  }),
};
