/**
 * What a workload is on wasmCloud v2 (runtime-operator / wash 2.7): a WorkloadDeployment whose component's
 * imports are wired by `hostInterfaces`, and the names the local lattice shares with it. Pure.
 */
import type { LatticeSpec, Workload } from "../model/schema";

/**
 * The NATS queue group of a workload: wash's messaging plugin joins it through `consumer_group`, the local
 * hosts subscribe with it, so instances of one workload share its messages wherever they run.
 */
export function queueGroupOf(spec: LatticeSpec, w: Workload): string {
  return `latticeform.${spec.name}.${w.name}`;
}
