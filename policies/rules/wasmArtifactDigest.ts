import { onSpec, type LatticePolicy } from "../lib";

/** Workload artifacts are immutable: OCI references pinned by digest. */
export const policy: LatticePolicy = {
  name: "latticeform-wasm-artifact-digest",
  description: "Every OCI workload artifact is pinned by digest (@sha256:<64 hex>), never by a mutable tag.",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediationSteps: "Reference the artifact as <registry>/<repo>@sha256:<digest> (crane digest / oras resolve give it).",
  validateResource: onSpec((spec, report) => {
    spec.workloads.forEach((w, i) => {
      if ("oci" in w.artifact && !/@sha256:[0-9a-f]{64}$/.test(w.artifact.oci))
        report(`workloads[${i}].artifact.oci ${w.artifact.oci} is not pinned by digest.`);
    });
  }),
};
