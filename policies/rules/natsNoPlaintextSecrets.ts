import { onTypes, walk, type LatticePolicy } from "../lib";

const SECRET_PATTERNS: [RegExp, string][] = [
  [/\bS[UAOCN][A-Z2-7]{50,}\b/, "an nkey seed"],
  [/-----BEGIN NATS USER JWT-----/, "a NATS creds file"],
  [/-----BEGIN (EC |RSA )?PRIVATE KEY-----/, "a private key"],
];

/** Key material belongs in Secrets (mounted files), never in Helm values, ConfigMaps or plain config. */
export const policy: LatticePolicy = {
  name: "latticeform-nats-no-plaintext-secrets",
  description: "No passwords, nkey seeds, creds or private keys in plain text in Helm values or ConfigMaps.",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps:
    "Move the value into a Kubernetes Secret (or the cloud's secret store) and mount it; reference the file from the NATS config.",
  validateResource: onTypes(["kubernetes:helm.sh/v3:Release", "kubernetes:core/v1:ConfigMap"], (props, report, args) => {
    const root = args.type === "kubernetes:core/v1:ConfigMap" ? { data: props.data } : { values: props.values };
    walk(root, (path, v) => {
      if (/(^|\.)password$/i.test(path) && typeof v === "string" && v.length > 0) report(`${path}: a password in plain text.`);
      if (typeof v !== "string") return;
      for (const [re, what] of SECRET_PATTERNS) if (re.test(v)) report(`${path}: holds ${what} in plain text.`);
    });
  }),
};
