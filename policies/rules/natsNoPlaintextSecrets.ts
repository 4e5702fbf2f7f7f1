import { JETSTREAM_STORAGE_CLASS } from "../../src/compile/storage";
import { natsHelmValues, natsIdentityFiles, natsReleaseGroups } from "../../src/compile/helm";
import type { LatticeSpec } from "../../src/model/schema";
import { compiledPreview, LATTICE_TYPE, walk, type LatticePolicy } from "../lib";

const SECRET_PATTERNS: [RegExp, string][] = [
  [/\bS[UAOCN][A-Z2-7]{50,}\b/, "an nkey seed"],
  [/-----BEGIN NATS USER JWT-----/, "a NATS creds file"],
  [/-----BEGIN (EC |RSA )?PRIVATE KEY-----/, "a private key"],
];

function scan(root: unknown, report: (m: string) => void, prefix = ""): void {
  walk(root, (path, v) => {
    if (/(^|\.)password$/i.test(path) && typeof v === "string" && v.length > 0) report(`${prefix}${path}: a password in plain text.`);
    if (typeof v !== "string") return;
    for (const [re, what] of SECRET_PATTERNS) if (re.test(v)) report(`${prefix}${path}: holds ${what} in plain text.`);
  });
}

/** Key material belongs in Secrets (mounted files), never in Helm values, ConfigMaps or plain config. */
export const policy: LatticePolicy = {
  name: "latticeform-nats-no-plaintext-secrets",
  description:
    "No passwords, nkey seeds, creds or private keys in plain text in Helm values or ConfigMaps, including the NATS values and identity ConfigMaps the compiler produces from the spec (judged before deploy).",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps:
    "Move the value into a Kubernetes Secret (or the cloud's secret store) and mount it; reference the file from the NATS config.",
  checkableWhen:
    "the values and ConfigMaps embed the clouds' addresses; the same objects compiled from the spec are judged on the Lattice now",
  validateResource: async (args, report) => {
    if (args.type === LATTICE_TYPE) {
      const spec = args.props.spec as LatticeSpec;
      const { topo, compiled } = await compiledPreview(spec);
      for (const g of natsReleaseGroups(spec, topo)) {
        scan(
          { values: natsHelmValues(spec, g, compiled.servers, { storageClassName: JETSTREAM_STORAGE_CLASS }) },
          report,
          `release ${g.release} (${g.cloud}): `,
        );
        scan({ data: natsIdentityFiles(g, compiled.servers) }, report, `identity ConfigMap of ${g.release} (${g.cloud}): `);
      }
      return;
    }
    if (args.type === "kubernetes:helm.sh/v3:Release") scan({ values: args.props.values }, report);
    else if (args.type === "kubernetes:core/v1:ConfigMap") scan({ data: args.props.data }, report);
  },
};
