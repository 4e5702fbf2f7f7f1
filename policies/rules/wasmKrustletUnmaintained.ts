import { onSpec, type LatticePolicy } from "../lib";

/**
 * Krustlet is unmaintained upstream (last commit Oct 2023) and its last release (v1.0.0-alpha.1) bootstraps with
 * the `certificates.k8s.io/v1beta1` CSR API, removed in Kubernetes 1.22: validation refuses a Krustlet pool unless
 * the stack names a build its owner vouches for (`krustletBuild`). Such pools are flagged here.
 */
export const policy: LatticePolicy = {
  name: "latticeform-wasm-krustlet-unmaintained",
  description:
    "Krustlet node pools run an unmaintained runtime whose last release cannot join Kubernetes >= 1.22 (v1beta1 CSRs); only a vouched-for build is admitted. Prefer runtime-class pools (runwasi shims).",
  enforcementLevel: "advisory",
  severity: "low",
  remediationSteps: "Move the pool to kind: runtime-class with runtime: wasmtime or wasmedge, and the workloads to runtime: wasmedge.",
  validateResource: onSpec((spec, report) => {
    spec.clouds.forEach((c, i) =>
      c.nodePools.forEach((p, j) => {
        if (p.kind === "krustlet")
          report(
            `clouds[${i}].nodePools[${j}] (${c.name}/${p.name}) uses Krustlet, which is not maintained upstream (build vouched for by ${p.krustletBuild?.vouchedBy ?? "nobody"}).`,
          );
      }),
    );
  }),
};
