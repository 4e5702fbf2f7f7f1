/**
 * The wasmCloud host group of a host pool: the one label a wash 2.x host advertises, and so the only label a
 * WorkloadDeployment's `hostSelector` can match. Both sides (host Deployments here, WorkloadDeployments in the
 * workload compiler) take the name from this file so they cannot drift apart. Pure.
 *
 * Upstream (wasmCloud/wasmCloud tag v2.7.0): `crates/wash/src/cli/host.rs` (`--host-group`, default
 * "default"), `crates/wash-runtime/src/washlet/mod.rs` (`with_label("hostgroup", host_group)`: the heartbeat's
 * only label), `runtime-operator/internal/controller/runtime/host_controller.go` (heartbeat labels become the
 * Host object's labels) and `workload_controller.go` (`client.MatchingLabels(spec.hostSelector)`: exact match).
 */

/** Label key a wash host puts in its heartbeat (and the operator copies onto the Host object). */
export const HOSTGROUP_LABEL = "hostgroup";

/**
 * Pod label the runtime-operator watches (`HostPodLabel` in `host_pod_controller.go`): its presence makes the
 * operator delete the Host object as soon as the pod goes, instead of after missed heartbeats.
 */
export const HOST_POD_LABEL = "wasmcloud.com/hostgroup";

/** Longest Kubernetes label value: the host group becomes a label on the Host object and on the pod. */
export const MAX_HOSTGROUP_LENGTH = 63;

/**
 * Host group of a pool: `<cloud>-<pool>` (e.g. `aws-edge`). Cloud and pool names are lower-case letters,
 * digits and '-', so the result is a valid label value when at most 63 characters; validation refuses longer
 * ones and two pools whose names collide (cloud `a-b` pool `c` vs cloud `a` pool `b-c`).
 * A per-cloud selection is one selector per host group of that cloud (`hostGroupsOfCloud`): label matching is
 * exact, there is no prefix match.
 */
export function hostGroupOf(cloud: string, pool: string): string {
  return `${cloud}-${pool}`;
}

/** Host groups of one cloud, in pool order (what a per-cloud placement must select, one by one). */
export function hostGroupsOfCloud(
  spec: { clouds: readonly { name: string; hostPools: readonly { name: string }[] }[] },
  cloud: string,
): string[] {
  const c = spec.clouds.find((x) => x.name === cloud);
  return c ? c.hostPools.map((p) => hostGroupOf(c.name, p.name)) : [];
}

/** The `hostSelector` that places a workload on one host pool. */
export function hostSelectorOf(cloud: string, pool: string): Record<string, string> {
  return { [HOSTGROUP_LABEL]: hostGroupOf(cloud, pool) };
}
