/**
 * Network identity of a site on one machine. Every process of a site runs with its own group id (when we
 * are root), so nftables can tell the clouds apart on the shared loopback: that is what partition and
 * latency faults act on.
 */
import { spawnSync } from "node:child_process";
import type { LocalRender } from "./state";

const GID_BASE = 41000;

function haveCommand(cmd: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

let cached: string | null | undefined;
/** Why site isolation (and so partition/latency faults) is not available here; undefined when it is. */
export function siteIsolationUnavailable(): string | undefined {
  if (cached !== undefined) return cached ?? undefined;
  let why: string | null = null;
  if (process.env.LATTICEFORM_NO_SITE_ISOLATION === "1") why = "disabled by LATTICEFORM_NO_SITE_ISOLATION=1";
  else if (typeof process.getuid !== "function" || process.getuid() !== 0)
    why = "partition and latency faults need root (nftables rules and a tc netem qdisc on loopback); run the drill as root";
  else if (!haveCommand("nft")) why = "partition and latency faults need nftables (`apt-get install nftables`)";
  else if (!haveCommand("tc")) why = "latency faults need tc from iproute2 (`apt-get install iproute2`)";
  cached = why;
  return why ?? undefined;
}

/** Group id for a site's processes, or undefined when isolation is unavailable. */
export function siteGid(r: LocalRender, site: string): number | undefined {
  if (siteIsolationUnavailable()) return undefined;
  const i = r.topo.sites.indexOf(site);
  // Distinct per lattice (base port) and per site, so two lattices' rules never touch each other.
  return i < 0 ? undefined : GID_BASE + ((r.layout.basePort / 100) % 400) * 10 + i;
}

/** Every port a site's processes listen on. */
export function sitePorts(r: LocalRender, site: string): number[] {
  const out: number[] = [];
  for (const s of r.topo.servers.filter((x) => x.site === site)) out.push(...Object.values(r.layout.env.ports(s)));
  for (const h of r.topo.hosts.filter((x) => x.cloud === site && x.connection === "leaf"))
    out.push(...Object.values(r.layout.env.leafPorts(h)));
  return out;
}
