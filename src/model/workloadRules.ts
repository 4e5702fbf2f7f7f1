/** Cross-field rules of workloads: subjects, accounts, buckets, placement, failover, runtimes. Pure. */
import { dupes, subjectProblem, type Add } from "./rules";
import type { LatticeSpec } from "./schema";
import { accountCheck } from "./securityRules";

export function workloadProblems(spec: LatticeSpec, add: Add): void {
  const cloudNames = spec.clouds.map((c) => c.name);
  const acctOf = accountCheck(spec, add);
  dupes(
    add,
    spec.workloads,
    (w) => w.name,
    (i) => `workloads[${i}].name`,
    "workload name",
  );
  const buckets = spec.kv.map((k) => k.bucket);
  spec.workloads.forEach((w, wi) => {
    const p = `workloads[${wi}]`;
    const why = subjectProblem(w.subject, false);
    if (why) add(`${p}.subject`, why, w.subject, "a literal NATS subject such as payments.validate");
    acctOf(w.account, `${p}.account`);
    if (w.kv !== undefined && !buckets.includes(w.kv))
      add(`${p}.kv`, "not a declared KV bucket", w.kv, buckets.join(", ") || "a bucket declared under kv");
    if (w.instances && w.spread) add(`${p}.spread`, "give instances or spread, not both", w.spread, "instances or spread");
    for (const [key, map] of [
      ["instances", w.instances],
      ["spread.weights", w.spread?.weights],
    ] as const) {
      for (const c of Object.keys(map ?? {}))
        if (!cloudNames.includes(c)) add(`${p}.${key}.${c}`, "not a declared cloud", c, cloudNames.join(", "));
    }
    const placed = w.instances
      ? Object.keys(w.instances).filter((c) => w.instances![c]! > 0)
      : w.spread
        ? Object.keys(w.spread.weights).filter((c) => w.spread!.weights[c]! > 0)
        : cloudNames;
    const fo = w.failover;
    if (fo.mode === "active-passive") {
      if (!cloudNames.includes(fo.primary)) add(`${p}.failover.primary`, "not a declared cloud", fo.primary, cloudNames.join(", "));
      else if (cloudNames.length < 2 || (placed.filter((c) => c !== fo.primary).length === 0 && fo.warmStandby === 0)) {
        add(
          `${p}.failover`,
          "active-passive needs a standby in a second cloud",
          w.failover,
          cloudNames.length < 2 ? "active-active on a one-cloud lattice" : "a second placed cloud or warmStandby >= 1",
        );
      }
    }
    // The runtime must exist where the workload is placed.
    for (const c of placed) {
      const cloud = spec.clouds.find((x) => x.name === c);
      if (!cloud) continue;
      const ok =
        w.runtime === "wasmcloud"
          ? cloud.hostPools.length > 0
          : w.runtime === "krustlet"
            ? cloud.nodePools.some((n) => n.kind === "krustlet")
            : cloud.nodePools.some((n) => n.kind === "runtime-class" && n.runtime === "wasmedge");
      if (!ok) {
        const needs =
          w.runtime === "wasmcloud"
            ? "a host pool"
            : w.runtime === "krustlet"
              ? "a krustlet node pool"
              : "a runtime-class node pool with runtime wasmedge";
        add(`${p}.runtime`, `cloud "${c}" has no ${needs} to run it`, w.runtime, `a runtime cloud "${c}" provides, or add ${needs} there`);
      }
    }
  });
}
