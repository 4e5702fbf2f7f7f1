import { onTypes, type LatticePolicy } from "../lib";

const TAGGED: Record<string, string> = {
  "aws:eks/cluster:Cluster": "tags",
  "aws:ec2/vpc:Vpc": "tags",
  "aws:kms/key:Key": "tags",
  "aws:ec2/launchTemplate:LaunchTemplate": "tags",
  "aws:secretsmanager/secret:Secret": "tags",
  "gcp:container/cluster:Cluster": "resourceLabels",
  "gcp:compute/instanceTemplate:InstanceTemplate": "labels",
  "gcp:compute/instance:Instance": "labels",
  "gcp:compute/disk:Disk": "labels",
};

/** Ownership and data classification on every taggable cloud resource. */
export const policy: LatticePolicy = {
  name: "latticeform-cloud-required-tags",
  description: "Taggable cloud resources carry the `requiredTags` (tags on AWS, labels on GCP).",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediationSteps: "Add the keys to the lattice spec's tags: latticeform copies them to every cloud resource.",
  configSchema: { properties: { requiredTags: { type: "array", items: { type: "string" }, default: ["owner", "data-classification"] } } },
  validateResource: onTypes(Object.keys(TAGGED), (props, report, args) => {
    const { requiredTags } = args.getConfig<{ requiredTags: string[] }>();
    const field = TAGGED[args.type]!;
    const tags = (props[field] ?? {}) as Record<string, string>;
    // GCP label keys are lower-case with '_' for other characters.
    const norm = (k: string) => k.toLowerCase().replace(/[^a-z0-9]/g, "_");
    const have = new Set(Object.keys(tags).map(norm));
    const missing = requiredTags.filter((t) => !have.has(norm(t)));
    if (missing.length) report(`${field} lack ${missing.join(", ")}.`);
  }),
};
