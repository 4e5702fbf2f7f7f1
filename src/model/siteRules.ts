/** Cross-field rules of the clouds, the tie-breaker and the stretched cluster: names, regions, zones, ports, pools, quorum. Pure. */
import { isZoneOf, regionsOf, zonePattern } from "./regions";
import { dupes, type Add } from "./rules";
import type { LatticeSpec } from "./schema";
import { metaQuorumRisks, type Topology } from "./topology";

/** Names, regions, zones and listener ports of every site (clouds and the tie-breaker). */
export function siteProblems(spec: LatticeSpec, add: Add): void {
  const cloudNames = spec.clouds.map((c) => c.name);
  dupes(
    add,
    spec.clouds,
    (c) => c.name,
    (i) => `clouds[${i}].name`,
    "cloud name",
  );
  if (spec.tieBreaker && cloudNames.includes(spec.tieBreaker.name)) {
    add("tieBreaker.name", "the tie-breaker site needs its own name", spec.tieBreaker.name, `a name other than ${cloudNames.join(", ")}`);
  }
  if (spec.stretched && !spec.tieBreaker) {
    add(
      "stretched",
      "a stretched JetStream cluster needs a tie-breaker site to keep quorum when a cloud is lost",
      spec.stretched,
      "stretched together with tieBreaker",
    );
  }
  if (spec.stretched && (cloudNames.includes(spec.stretched.name) || spec.stretched.name === spec.tieBreaker?.name)) {
    add(
      "stretched.name",
      "the stretched cluster needs its own name",
      spec.stretched.name,
      "a name other than the clouds' and the tie-breaker's",
    );
  }

  const sites = [
    ...spec.clouds.map((c, i) => ({ site: c, path: `clouds[${i}]` })),
    ...(spec.tieBreaker ? [{ site: spec.tieBreaker, path: "tieBreaker" }] : []),
  ];
  for (const { site, path } of sites) {
    const regions = regionsOf(site.provider);
    if (!regions.includes(site.region)) {
      add(
        `${path}.region`,
        `not a region of ${site.provider}`,
        site.region,
        `${regions.slice(0, 6).join(", ")}, ... (${regions.length} ${site.provider} regions)`,
      );
    } else {
      site.zones.forEach((z, zi) => {
        if (!isZoneOf(site.provider, site.region, z))
          add(`${path}.zones[${zi}]`, `not a zone of ${site.region}`, z, zonePattern(site.provider, site.region));
      });
    }
    dupes(
      add,
      site.zones,
      (z) => z,
      (zi) => `${path}.zones[${zi}]`,
      "zone",
    );
    const ports = "hub" in site ? site.hub.ports : site.ports;
    const portPath = "hub" in site ? `${path}.hub.ports` : `${path}.ports`;
    const seen = new Map<number, string>();
    for (const [k, v] of Object.entries(ports)) {
      if (seen.has(v)) add(`${portPath}.${k}`, `port collides with ${seen.get(v)}`, v, "a port no other listener of the server uses");
      else seen.set(v, k);
    }
  }
}

/** Each cloud's hub size, JetStream domain and pools. */
export function cloudProblems(spec: LatticeSpec, add: Add): void {
  spec.clouds.forEach((cloud, ci) => {
    const p = `clouds[${ci}]`;
    if (cloud.hub.servers !== 3 && cloud.hub.servers !== 5) {
      add(
        `${p}.hub.servers`,
        cloud.hub.servers < 3
          ? "a hub cluster needs at least 3 servers for a JetStream quorum"
          : "an even or oversized hub cluster gains no fault tolerance",
        cloud.hub.servers,
        "3, 5",
      );
    }
    const dom = cloud.hub.jetstream.domain;
    if (dom !== undefined && dom !== spec.jetstream.domain) {
      add(
        `${p}.hub.jetstream.domain`,
        "every JetStream server of a supercluster shares one domain",
        dom,
        `${JSON.stringify(spec.jetstream.domain)} (jetstream.domain)`,
      );
    }
    dupes(
      add,
      cloud.hostPools,
      (h) => h.name,
      (i) => `${p}.hostPools[${i}].name`,
      "host pool name",
    );
    dupes(
      add,
      cloud.nodePools,
      (n) => n.name,
      (i) => `${p}.nodePools[${i}].name`,
      "node pool name",
    );
    cloud.nodePools.forEach((np, ni) => {
      if (np.kind === "runtime-class" && !np.runtime)
        add(`${p}.nodePools[${ni}].runtime`, "a runtime-class pool names its Wasm runtime", undefined, "wasmtime, wasmedge");
      if (np.kind === "krustlet" && np.runtime)
        add(
          `${p}.nodePools[${ni}].runtime`,
          "krustlet runs wasmtime itself; runtime applies to runtime-class pools",
          np.runtime,
          "nothing",
        );
    });
  });
}

/** The JetStream meta group must keep a majority when any one cloud is lost. */
export function quorumProblems(spec: LatticeSpec, topo: Topology, add: Add): void {
  if (spec.clouds.length >= 2) {
    for (const risk of metaQuorumRisks(topo)) {
      const ci = spec.clouds.findIndex((c) => c.name === risk.site);
      const path = ci >= 0 ? `clouds[${ci}]` : "tieBreaker";
      add(
        path,
        `losing "${risk.site}" leaves ${risk.total - risk.lost} of ${risk.total} JetStream servers, below the meta-group majority of ${risk.majority}: stream and consumer creation would stop`,
        `${risk.lost} JetStream servers at ${risk.site}`,
        spec.tieBreaker
          ? "more tie-breaker servers, or hub sizes that no one site dominates"
          : "a topology that keeps a majority: add a tieBreaker site (e.g. tieBreaker: { name: tb, provider: gcp, region: europe-west4, zones: [europe-west4-a], servers: 1 })",
      );
    }
  }
}
