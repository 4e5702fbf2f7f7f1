import type { LatticeSpec } from "../../src/model/schema";
import { compiledPreview, LATTICE_TYPE, userPermissions, type LatticePolicy, type Props } from "../lib";

type Report = (m: string) => void;

/** What each leaf sidecar may do on the hub: its own user, in an application account, bounded by permissions. */
async function judgeLeafUsers(spec: LatticeSpec, report: Report): Promise<void> {
  if (spec.security.auth !== "operator")
    report(`security.auth is ${JSON.stringify(spec.security.auth)}: leafnode connections would not present account credentials.`);
  const { creds } = await compiledPreview(spec);
  for (const u of Object.values(creds.users).filter((x) => x.id.startsWith("leaf:"))) {
    if (u.account === spec.security.systemAccount) report(`leaf user ${u.id} is in the system account ${u.account}.`);
    const p = userPermissions(u);
    if (!p.pub || !p.sub)
      report(
        `leaf user ${u.id} may ${!p.pub && !p.sub ? "publish and subscribe to" : !p.pub ? "publish to" : "subscribe to"} every subject of account ${u.account}, $JS API included: its JWT carries no ${[!p.pub && "pub", !p.sub && "sub"].filter(Boolean).join("/")} permissions.`,
      );
  }
}

/** The Wasm host container must not be handed the sidecar's credentials: it would then act as the leaf. */
function judgeHostPod(props: Props, report: Report): void {
  const pod = props.spec?.template?.spec ?? {};
  const containers = (pod.containers ?? []) as { name: string; volumeMounts?: { name: string }[] }[];
  const leaf = containers.find((c) => c.name === "nats-leaf");
  if (!leaf) return;
  const secretVols = new Map(
    ((pod.volumes ?? []) as { name: string; secret?: { secretName: string } }[])
      .filter((v) => v.secret)
      .map((v) => [v.name, v.secret!.secretName]),
  );
  const leafVols = new Set((leaf.volumeMounts ?? []).map((m) => m.name).filter((n) => secretVols.has(n)));
  for (const c of containers.filter((x) => x.name !== "nats-leaf"))
    for (const m of c.volumeMounts ?? [])
      if (leafVols.has(m.name))
        report(
          `${props.metadata?.name ?? "a host"}: container ${c.name} mounts Secret ${secretVols.get(m.name)} (volume ${m.name}), which the leaf sidecar also mounts: the host holds the leaf's credentials.`,
        );
}

/**
 * Leafnode connections authenticate (operator-mode JWTs) as a user of their own, limited to what the host's
 * workloads need, and the host process does not hold the sidecar's credentials (nats-server security guidance:
 * least privilege per connection).
 */
export const policy: LatticePolicy = {
  name: "latticeform-nats-leafnode-authorization",
  description:
    "Leafnode connections use operator-mode JWT auth with a user of their own per host, outside the system account, whose JWT bounds what it may publish and subscribe; the Wasm host container does not mount the leaf sidecar's credential Secrets.",
  enforcementLevel: "advisory",
  severity: "high",
  remediationSteps:
    "Give each leaf user pub/sub allow lists (the host's subjects, its buckets' $KV/$JS subjects, the lattice's wasmbus subjects) and mount the leaf's creds and TLS Secrets into the sidecar only; the host gets its own.",
  validateResource: async (args, report) => {
    if (args.type === LATTICE_TYPE) await judgeLeafUsers(args.props.spec as LatticeSpec, report);
    else if (args.type === "kubernetes:apps/v1:Deployment") judgeHostPod(args.props, report);
  },
};
