import { JETSTREAM_STORAGE_CLASS } from "../../src/compile/storage";
import { natsHelmValues, natsReleaseGroups } from "../../src/compile/helm";
import type { LatticeSpec } from "../../src/model/schema";
import { compiledPreview, LATTICE_TYPE, walk, type LatticePolicy } from "../lib";

/** No TLS block that skips certificate checks, in any NATS chart values or compiled server config. */
export const policy: LatticePolicy = {
  name: "latticeform-nats-no-insecure-tls",
  description:
    "No `insecure: true` (skipped certificate verification) in NATS Helm values, nor in any nats-server or leaf config the compiler produces from the spec (judged before deploy, with placeholder addresses).",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps: "Remove `insecure` from the TLS blocks; give the peers certificates from the lattice CA instead.",
  checkableWhen:
    "the Helm values embed the clouds' load-balancer addresses; the same values compiled from the spec are judged on the Lattice now",
  validateResource: async (args, report) => {
    const flag = (where: string) => (path: string, v: unknown) => {
      if (path.endsWith("insecure") && v === true) report(`${where}${path} is true: TLS peers are not verified.`);
    };
    if (args.type === LATTICE_TYPE) {
      const spec = args.props.spec as LatticeSpec;
      const { topo, compiled } = await compiledPreview(spec);
      for (const s of [...compiled.servers, ...compiled.leafs]) walk(s.conf, flag(`compiled config of ${s.name}: `));
      for (const g of natsReleaseGroups(spec, topo))
        walk(
          natsHelmValues(spec, g, compiled.servers, { storageClassName: JETSTREAM_STORAGE_CLASS }),
          flag(`values of release ${g.release} (${g.cloud}): `),
        );
      return;
    }
    if (args.type !== "kubernetes:helm.sh/v3:Release" || args.props.chart !== "nats") return;
    walk(args.props.values, flag("values."));
  },
};
