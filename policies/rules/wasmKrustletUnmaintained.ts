import { onSpec, type LatticePolicy } from "../lib";

/** Krustlet is unmaintained upstream (last commit Oct 2023): supported, but flagged. */
export const policy: LatticePolicy = {
  name: "latticeform-wasm-krustlet-unmaintained",
  description: "Krustlet node pools run an unmaintained runtime; prefer runtime-class pools (runwasi shims).",
  enforcementLevel: "advisory",
  severity: "low",
  remediationSteps: "Move the pool to kind: runtime-class with runtime: wasmtime or wasmedge, and the workloads to runtime: wasmedge.",
  validateResource: onSpec((spec, report) => {
    spec.clouds.forEach((c, i) =>
      c.nodePools.forEach((p, j) => {
        if (p.kind === "krustlet")
          report(`clouds[${i}].nodePools[${j}] (${c.name}/${p.name}) uses Krustlet, which is not maintained upstream.`);
      }),
    );
  }),
};
