import { onTypes, walk, type LatticePolicy } from "../lib";

/** No TLS block that skips certificate checks, in any NATS chart values. */
export const policy: LatticePolicy = {
  name: "latticeform-nats-no-insecure-tls",
  description: "No `insecure: true` (skipped certificate verification) in NATS Helm values.",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps: "Remove `insecure` from the TLS blocks; give the peers certificates from the lattice CA instead.",
  validateResource: onTypes(["kubernetes:helm.sh/v3:Release"], (props, report) => {
    if (props.chart !== "nats") return;
    walk(props.values, (path, v) => {
      if (path.endsWith("insecure") && v === true) report(`values.${path} is true: TLS peers are not verified.`);
    });
  }),
};
