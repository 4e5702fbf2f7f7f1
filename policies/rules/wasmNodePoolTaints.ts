import { onTypes, type LatticePolicy } from "../lib";

/** Wasm node pools are tainted so ordinary pods stay off them. */
export const policy: LatticePolicy = {
  name: "latticeform-wasm-node-pool-taints",
  description: "Managed Wasm node pools (EKS node groups, GKE node pools) labelled for a Wasm runtime carry a NoSchedule taint.",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediationSteps: "Add a taint (e.g. kubernetes.io/arch=wasm32-wasi or the runtime's key) with effect NoSchedule to the pool.",
  validateResource: onTypes(["aws:eks/nodeGroup:NodeGroup", "gcp:container/nodePool:NodePool"], (props, report, args) => {
    const labels: Record<string, string> = (args.type === "aws:eks/nodeGroup:NodeGroup" ? props.labels : props.nodeConfig?.labels) ?? {};
    const wasm = Object.entries(labels).some(([k, v]) => /wasm|runwasi|wasmedge|wasmtime/i.test(`${k}=${v}`));
    if (!wasm) return;
    const taints: { effect?: string }[] = (args.type === "aws:eks/nodeGroup:NodeGroup" ? props.taints : props.nodeConfig?.taints) ?? [];
    if (!taints.some((t) => /NO_?SCHEDULE|NoSchedule|NO_EXECUTE/i.test(String(t.effect))))
      report("a Wasm node pool without a NoSchedule taint: any pod may land on it.");
  }),
};
