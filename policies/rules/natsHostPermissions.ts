import { hostPermissions, workloadsOnHost } from "../../src/compile/credentials";
import { topologyOf } from "../../src/model/topology";
import { onSpec, type LatticePolicy } from "../lib";

/** JetStream API subjects a host needs for key-value bucket `b`: the bucket's own stream, nothing wider. */
function allowedJs(subject: string, buckets: string[]): boolean {
  if (!subject.startsWith("$JS.") && !subject.startsWith("$KV.")) return true;
  return buckets.some((b) => subject.startsWith(`$KV.${b}.`) || new RegExp(`(^|\\.)KV_${b}(\\.|$)`).test(subject));
}

/** Hosts get the JetStream API of their own workloads' buckets only (nats-server least-privilege guidance). */
export const policy: LatticePolicy = {
  name: "latticeform-nats-host-permissions",
  description:
    "Each Wasm host's user may use the JetStream API only for the buckets its workloads name ($KV.<bucket>.>, API subjects naming KV_<bucket>), never `$JS.API.>` or `$JS.<domain>.API.>` (which lets a host delete or purge any stream).",
  enforcementLevel: "advisory",
  severity: "high",
  remediationSteps:
    "Grant the host $JS.API.STREAM.INFO.KV_<b>, $JS.API.DIRECT.GET.KV_<b>.>, $JS.API.CONSUMER.*.KV_<b>.> (and the domain-prefixed forms) and $KV.<b>.> per bucket, instead of the whole API.",
  validateResource: onSpec((spec, report) => {
    for (const h of topologyOf(spec).hosts) {
      const perms = hostPermissions(spec, h);
      const buckets = [
        ...new Set(
          workloadsOnHost(spec, h)
            .map((w) => w.kv)
            .filter((b): b is string => !!b),
        ),
      ];
      for (const [dir, list] of [
        ["publish", perms.pub],
        ["subscribe", perms.sub],
      ] as const)
        for (const s of list)
          if (!allowedJs(s, buckets))
            report(`host ${h.name} may ${dir} ${s}: more of the JetStream API than its buckets (${buckets.join(", ") || "none"}).`);
    }
  }),
};
