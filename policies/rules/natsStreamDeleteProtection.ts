import { onTypes, type LatticePolicy } from "../lib";

/** Records of account cannot be deleted or purged through the JetStream API (DORA art. 12: integrity of backups). */
export const policy: LatticePolicy = {
  name: "latticeform-nats-stream-delete-protection",
  description:
    "Streams in `protectedStreams` (default LEDGER and AUDIT) and their mirrors refuse deletion and purging: the NACK Stream sets denyDelete and denyPurge (deny_delete / deny_purge), and preventDelete keeps the stream when the object goes.",
  enforcementLevel: "advisory",
  severity: "high",
  remediationSteps:
    "Set denyDelete: true, denyPurge: true and preventDelete: true on the stream (and its mirrors); retention is by maxAge, not purges.",
  configSchema: { properties: { protectedStreams: { type: "array", items: { type: "string" }, default: ["LEDGER", "AUDIT"] } } },
  validateResource: onTypes(["kubernetes:jetstream.nats.io/v1beta2:Stream"], (props, report, args) => {
    const { protectedStreams } = args.getConfig<{ protectedStreams: string[] }>();
    const s = props.spec ?? {};
    const source = s.mirror?.name as string | undefined;
    if (!protectedStreams.includes(s.name) && !(source && protectedStreams.includes(source))) return;
    const missing = ["denyDelete", "denyPurge", "preventDelete"].filter((k) => s[k] !== true);
    if (missing.length) report(`stream ${s.name}${source ? ` (mirror of ${source})` : ""} does not set ${missing.join(", ")}.`);
  }),
};
