import { onSpec, type LatticePolicy } from "../lib";

const DIGEST = /@sha256:[0-9a-f]{64}$/;

/** Workload artifacts are immutable: OCI references pinned by digest, path artifacts checked where they deploy. */
export const policy: LatticePolicy = {
  name: "latticeform-wasm-artifact-digest",
  description:
    "Every OCI workload artifact is pinned by digest (@sha256:<64 hex>), never by a mutable tag; a path artifact is a `.wasm` file in the repository (the review names it), pushed and deployed under a mutable tag that latticeform-wasm-image-pinning reports.",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediationSteps: "Reference the artifact as <registry>/<repo>@sha256:<digest> (crane digest / oras resolve give it).",
  validateResource: onSpec((spec, report) => {
    spec.workloads.forEach((w, i) => {
      if ("oci" in w.artifact && !DIGEST.test(w.artifact.oci))
        report(`workloads[${i}].artifact.oci ${w.artifact.oci} is not pinned by digest.`);
      if ("path" in w.artifact && /(^|\/)\.\.(\/|$)|^\//.test(w.artifact.path))
        report(`workloads[${i}].artifact.path ${w.artifact.path} points outside the repository: what is pushed is not what was reviewed.`);
    });
  }),
};
