/** Host timing shared by hosts, `status` and drills. */
export const HEARTBEAT_MS = 250;
/** A primary with no heartbeat for this long is considered gone and the standby takes over. */
export const PRIMARY_DEAD_MS = 1000;
/** How long a starting host waits for its servers, the JetStream API and its key-value buckets. */
export const START_WAIT_MS = 60000;
