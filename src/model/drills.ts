/**
 * Cross-field rules of the drills a stack declares: every fault, objective override and target must name
 * something the lattice has, so a drill is refused before any process starts. Pure.
 */
import type { LatticeSpec } from "./schema";
import type { Add } from "./rules";
import type { Topology } from "./topology";

export function drillProblems(spec: LatticeSpec, topo: Topology, add: Add): void {
  const clouds = spec.clouds.map((c) => c.name);
  const sites = topo.sites;
  const workloads = spec.workloads.map((w) => w.name);
  const seen = new Map<string, number>();
  spec.drills.forEach((d, di) => {
    const p = `drills[${di}]`;
    const first = seen.get(d.id);
    if (first !== undefined) add(`${p}.id`, `duplicate drill id (first at index ${first})`, d.id, "a drill id not used before");
    else seen.set(d.id, di);

    d.faults.forEach((f, fi) => {
      const fp = `${p}.faults[${fi}]`;
      switch (f.kind) {
        case "cloud-outage":
        case "blackhole": {
          if (!sites.includes(f.cloud)) add(`${fp}.cloud`, "not a declared cloud or tie-breaker site", f.cloud, sites.join(", "));
          else if (f.kind === "blackhole" && f.server !== undefined) {
            const names = topo.servers.filter((s) => s.site === f.cloud).map((s) => s.name);
            if (!names.includes(f.server)) add(`${fp}.server`, `not a server of "${f.cloud}"`, f.server, names.join(", "));
          }
          break;
        }
        case "hub-node-loss": {
          if (!clouds.includes(f.cloud)) add(`${fp}.cloud`, "not a declared cloud", f.cloud, clouds.join(", "));
          else if (f.server !== "stream-leader") {
            const names = topo.servers.filter((s) => s.site === f.cloud).map((s) => s.name);
            if (!names.includes(f.server))
              add(`${fp}.server`, `not a server of "${f.cloud}"`, f.server, ["stream-leader", ...names].join(", "));
          }
          break;
        }
        case "host-crash": {
          if (!clouds.includes(f.cloud)) add(`${fp}.cloud`, "not a declared cloud", f.cloud, clouds.join(", "));
          else {
            const names = topo.hosts.filter((h) => h.cloud === f.cloud).map((h) => h.name);
            if (names.length === 0) add(`${fp}.cloud`, "the cloud has no Wasm host to crash", f.cloud, "a cloud with a host pool");
            else if (f.host !== undefined && !names.includes(f.host))
              add(`${fp}.host`, `not a host of "${f.cloud}"`, f.host, names.join(", "));
          }
          break;
        }
        case "partition":
        case "latency": {
          f.between.forEach((s, si) => {
            if (!sites.includes(s)) add(`${fp}.between[${si}]`, "not a declared cloud or tie-breaker site", s, sites.join(", "));
          });
          if (f.between[0] === f.between[1]) add(`${fp}.between`, "a site cannot be cut off from itself", f.between, "two different sites");
          break;
        }
      }
    });

    for (const w of Object.keys(d.objectives)) {
      if (!workloads.includes(w)) add(`${p}.objectives.${w}`, "not a declared workload", w, workloads.join(", ") || "none declared");
    }
    if (spec.workloads.length === 0 && !d.load.streams)
      add(
        `${p}.load`,
        "the drill measures nothing: no workload and no stream probes",
        d.load,
        "workloads in the lattice, or load.streams: true",
      );
  });
}
