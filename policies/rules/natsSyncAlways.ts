import { rpoZeroBuckets, syncIntervalFor } from "../../src/compile/nats";
import { onSpec, type LatticePolicy } from "../lib";

/** Servers holding RPO-0 state fsync every write before acknowledging it. */
export const policy: LatticePolicy = {
  name: "latticeform-nats-sync-always",
  description:
    "Every JetStream server holding a bucket (or a mirror of one) used by a workload with RPO 0 runs with jetstream { sync_interval: always }: nats-server otherwise fsyncs every 2 minutes, and a coordinated crash can lose acknowledged writes (Jepsen, NATS 2.12.1).",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Remove jetstream.syncInterval from the spec (latticeform then sets `always` where RPO-0 state lives) or set it to `always`; or relax the workload's rpoMessages if losing the last writes of a crash is acceptable.",
  validateResource: onSpec((spec, report) => {
    for (const b of rpoZeroBuckets(spec)) {
      for (const cluster of b.clusters) {
        const sync = syncIntervalFor(spec, cluster);
        if (sync !== "always")
          report(
            `bucket ${b.bucket} (RPO 0 for ${b.workloads.join(", ")}) lives in ${cluster}, whose servers fsync every ${sync ?? "2m (nats-server's default)"} (jetstream.syncInterval), not on every write.`,
          );
      }
    }
  }),
};
