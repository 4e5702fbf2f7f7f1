import { onSpec, LATTICE_TYPE, type LatticePolicy, type Props } from "../lib";

const DIGEST = /@sha256:[0-9a-f]{64}$/;
const WD = "kubernetes:runtime.wasmcloud.dev/v1alpha1:WorkloadDeployment";
const DEPLOY = "kubernetes:apps/v1:Deployment";
const specRule = onSpec((spec, report) => {
  spec.workloads.forEach((w, i) => {
    if ("oci" in w.artifact && !DIGEST.test(w.artifact.oci))
      report(`workloads[${i}].artifact.oci ${w.artifact.oci} is not pinned by digest.`);
    if ("path" in w.artifact && /(^|\/)\.\.(\/|$)|^\//.test(w.artifact.path))
      report(`workloads[${i}].artifact.path ${w.artifact.path} points outside the repository: what is pushed is not what was reviewed.`);
  });
});

/** The images a workload object deploys: a WorkloadDeployment's components, a workload Deployment's containers. */
function workloadImages(type: string, props: Props): { where: string; image: unknown }[] {
  const tpl = props.spec?.template?.spec ?? {};
  if (type === WD)
    return ((tpl.components ?? []) as Props[]).map((c, i) => ({ where: `spec.template.spec.components[${i}].image`, image: c.image }));
  if (!props.metadata?.labels?.["latticeform.io/workload"]) return [];
  return ((tpl.containers ?? []) as Props[]).map((c, i) => ({ where: `spec.template.spec.containers[${i}].image`, image: c.image }));
}

/**
 * Workload artifacts are immutable: OCI references pinned by digest in the spec, and what deploys (path
 * artifacts included: pushed, then referenced by the digest the push gives) referenced by digest too.
 */
export const policy: LatticePolicy = {
  name: "latticeform-wasm-artifact-digest",
  description:
    "Every OCI workload artifact is pinned by digest (@sha256:<64 hex>), never by a mutable tag, and every workload object deploys its artifact by digest (WorkloadDeployment components, workload Deployments), path artifacts included.",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediationSteps:
    "Reference the artifact as <registry>/<repo>@sha256:<digest> (crane digest / oras resolve give it); path artifacts are pushed by the OciArtifact component and deployed by its digest.",
  checkableWhen: "a path artifact's digest is computed from the file; it is unknown only while the artifact is still to be pushed",
  validateResource: (args, report) => {
    if (args.type === LATTICE_TYPE) return specRule(args, report);
    if (args.type !== WD && args.type !== DEPLOY) return;
    for (const { where, image } of workloadImages(args.type, args.props))
      if (typeof image !== "string" || !DIGEST.test(image)) report(`${where} ${String(image)} is not pinned by digest.`);
  },
};
