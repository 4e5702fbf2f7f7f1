import { onSpec, sitesWithCopy, storedData, type LatticePolicy } from "../lib";

/** Streams that hold records of account (ledger, audit) are durable and keep a copy beyond any one site (DORA art. 12). */
export const policy: LatticePolicy = {
  name: "latticeform-resilience-stream-durability",
  description:
    "Every stream in `durableStreams` (default LEDGER and AUDIT) is file-backed with at least `minReplicas` replicas, and a copy of it (replicas or a mirror) lives in more than one site, so losing any one site leaves one.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Set storage: file and replicas: 3 on the stream, and place it in the stretched cluster or add mirrors: [<another cloud>].",
  configSchema: {
    properties: {
      durableStreams: { type: "array", items: { type: "string" }, default: ["LEDGER", "AUDIT"] },
      minReplicas: { type: "integer", minimum: 1, default: 3 },
    },
  },
  validateResource: onSpec((spec, report, args) => {
    const { durableStreams, minReplicas } = args.getConfig<{ durableStreams: string[]; minReplicas: number }>();
    for (const d of storedData(spec).filter((x) => x.kind === "stream" && durableStreams.includes(x.name))) {
      if (d.storage !== "file") report(`stream ${d.name} is in ${d.storage} storage: a server restart loses it.`);
      if (d.replicas < minReplicas) report(`stream ${d.name} has ${d.replicas} replica(s); at least ${minReplicas} are required.`);
      const sites = sitesWithCopy(spec, d);
      if (sites.length < 2) report(`stream ${d.name} has copies only in ${sites.join(", ") || "no site"}: losing it loses the stream.`);
    }
  }),
};
