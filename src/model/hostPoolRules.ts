/** Cross-field rules of host pools. Pure. */
import { hostGroupOf, MAX_HOSTGROUP_LENGTH } from "../compile/hostgroup";
import type { Add } from "./rules";
import type { LatticeSpec } from "./schema";

/** Host groups: the one label wash hosts advertise, so it must be a label value and name one pool only. */
export function hostPoolProblems(spec: LatticeSpec, add: Add): void {
  const groups = new Map<string, string>();
  spec.clouds.forEach((cloud, ci) =>
    cloud.hostPools.forEach((pool, pi) => {
      const path = `clouds[${ci}].hostPools[${pi}].name`;
      const group = hostGroupOf(cloud.name, pool.name);
      if (group.length > MAX_HOSTGROUP_LENGTH)
        add(
          path,
          `host group ${group} (<cloud>-<pool>) is longer than a label value may be`,
          pool.name,
          `a name keeping it at most ${MAX_HOSTGROUP_LENGTH} characters`,
        );
      const other = groups.get(group);
      if (other)
        add(
          path,
          `host group ${group} (<cloud>-<pool>) is also the host group of ${other}`,
          pool.name,
          "a pool name whose host group no other pool has",
        );
      else groups.set(group, path);
    }),
  );
}
