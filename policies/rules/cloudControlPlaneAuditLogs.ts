import { onTypes, type LatticePolicy } from "../lib";

/** CIS EKS 2.1.1 and GKE 5.7.1: the API server's audit log is on, so changes to the lattice leave a trail (DORA art. 9). */
export const policy: LatticePolicy = {
  name: "latticeform-cloud-control-plane-audit-logs",
  description:
    "Kubernetes control planes log: EKS enables the `audit` (and `authenticator`) log types; GKE keeps Cloud Logging on and, when components are listed, logs the API server or system components.",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediationSteps:
    "EKS: enabledClusterLogTypes: [api, audit, authenticator]. GKE: leave loggingService at logging.googleapis.com/kubernetes, and include SYSTEM_COMPONENTS or APISERVER in loggingConfig.enableComponents.",
  validateResource: onTypes(["aws:eks/cluster:Cluster", "gcp:container/cluster:Cluster"], (props, report, args) => {
    if (args.type === "aws:eks/cluster:Cluster") {
      const types: string[] = props.enabledClusterLogTypes ?? [];
      for (const t of ["audit", "authenticator"]) if (!types.includes(t)) report(`enabledClusterLogTypes lacks ${t}.`);
      return;
    }
    if (props.loggingService === "none") report("loggingService is none: no control-plane logs.");
    const comps: string[] | undefined = props.loggingConfig?.enableComponents;
    if (comps && !comps.some((c) => c === "SYSTEM_COMPONENTS" || c === "APISERVER"))
      report(`loggingConfig.enableComponents (${comps.join(", ")}) logs neither SYSTEM_COMPONENTS nor APISERVER.`);
  }),
};
