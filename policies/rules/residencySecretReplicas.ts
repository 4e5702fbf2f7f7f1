import { EU_REGIONS } from "../../src/model/regions";
import { onTypes, type LatticePolicy } from "../lib";

/** Secret replicas stay in the allowed regions (data residency of key material, DORA art. 9 protection). */
export const policy: LatticePolicy = {
  name: "latticeform-residency-secret-replicas",
  description:
    "Every replica of a secret is in `allowedRegions`: GCP Secret Manager secrets use user-managed replication with allowed locations (automatic replication lets Google choose any region), AWS Secrets Manager replicas are in allowed regions.",
  enforcementLevel: "advisory",
  severity: "high",
  remediationSteps:
    "Set replication: { userManaged: { replicas: [{ location: <allowed region> }, ...] } } on GCP secrets; replicate AWS secrets only to allowed regions.",
  configSchema: { properties: { allowedRegions: { type: "array", items: { type: "string" }, default: [...EU_REGIONS] } } },
  validateResource: onTypes(["gcp:secretmanager/secret:Secret", "aws:secretsmanager/secret:Secret"], (props, report, args) => {
    const { allowedRegions } = args.getConfig<{ allowedRegions: string[] }>();
    if (args.type === "aws:secretsmanager/secret:Secret") {
      for (const r of (props.replicas ?? []) as { region: string }[])
        if (!allowedRegions.includes(r.region)) report(`replica region ${r.region} is outside the allowed regions.`);
      return;
    }
    const rep = props.replication ?? {};
    if (!rep.userManaged) {
      report("replication is automatic: Google may keep replicas in any region.");
      return;
    }
    for (const r of (rep.userManaged.replicas ?? []) as { location: string }[])
      if (!allowedRegions.includes(r.location)) report(`replica location ${r.location} is outside the allowed regions.`);
  }),
};
