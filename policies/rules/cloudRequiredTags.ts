import { onTypes, type LatticePolicy, type Props } from "../lib";

/** Where each taggable type keeps its tags (a dotted path), and whether they are a list of { key, value }. */
const TAGGED: Record<string, { path: string; list?: boolean }> = {
  "aws:eks/cluster:Cluster": { path: "tags" },
  "aws:eks/nodeGroup:NodeGroup": { path: "tags" },
  "aws:ec2/vpc:Vpc": { path: "tags" },
  "aws:ec2/instance:Instance": { path: "tags" },
  "aws:ebs/volume:Volume": { path: "tags" },
  "aws:ec2/securityGroup:SecurityGroup": { path: "tags" },
  "aws:kms/key:Key": { path: "tags" },
  "aws:ec2/launchTemplate:LaunchTemplate": { path: "tags" },
  "aws:autoscaling/group:Group": { path: "tags", list: true },
  "aws:secretsmanager/secret:Secret": { path: "tags" },
  "gcp:container/cluster:Cluster": { path: "resourceLabels" },
  "gcp:container/nodePool:NodePool": { path: "nodeConfig.resourceLabels" },
  "gcp:compute/instanceTemplate:InstanceTemplate": { path: "labels" },
  "gcp:compute/instance:Instance": { path: "labels" },
  "gcp:compute/disk:Disk": { path: "labels" },
  "gcp:secretmanager/secret:Secret": { path: "labels" },
};

function tagKeys(props: Props, where: { path: string; list?: boolean }): string[] {
  const v = where.path.split(".").reduce<unknown>((o, k) => (o as Props | undefined)?.[k], props);
  if (where.list) return ((v ?? []) as { key: string }[]).map((t) => t.key);
  return Object.keys((v ?? {}) as object);
}

/** Ownership and data classification on every taggable cloud resource. */
export const policy: LatticePolicy = {
  name: "latticeform-cloud-required-tags",
  description:
    "Taggable cloud resources carry the `requiredTags` (tags on AWS, labels on GCP): clusters, node groups and pools, instances, volumes, disks, templates, Auto Scaling groups, security groups, keys and secrets.",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediationSteps: "Add the keys to the lattice spec's tags: latticeform copies them to every cloud resource.",
  configSchema: { properties: { requiredTags: { type: "array", items: { type: "string" }, default: ["owner", "data-classification"] } } },
  validateResource: onTypes(Object.keys(TAGGED), (props, report, args) => {
    const { requiredTags } = args.getConfig<{ requiredTags: string[] }>();
    const where = TAGGED[args.type]!;
    // GCP label keys are lower-case with '_' for other characters.
    const norm = (k: string) => k.toLowerCase().replace(/[^a-z0-9]/g, "_");
    const have = new Set(tagKeys(props, where).map(norm));
    const missing = requiredTags.filter((t) => !have.has(norm(t)));
    if (missing.length) report(`${where.path} lack ${missing.join(", ")}.`);
  }),
};
