/**
 * The wash host group of a host pool: the only label wash 2.7 hosts advertise (`--host-group`), and the one a
 * WorkloadDeployment's `hostSelector` can match (runtime-operator 2.7 copies heartbeat labels onto Host
 * objects and selects with MatchingLabels). Pure.
 */
export function hostGroupOf(cloud: string, pool: string): string {
  return `${cloud}-${pool}`;
}
