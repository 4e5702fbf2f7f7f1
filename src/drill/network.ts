/**
 * Network faults between the sites of a local lattice: nftables rules match the site's group id
 * (see src/local/sites.ts) and the peer site's listening ports; a partition drops those packets, a latency
 * fault marks them for a tc netem band on loopback. Everything is undone by `clear()`. With run records, the
 * table and the qdisc are recorded before they are added, so a command that dies before `clear()` leaves
 * enough for the next one (or `down`) to remove them.
 */
import { spawnSync } from "node:child_process";
import { siteGid, siteIsolationUnavailable, sitePorts } from "../local/sites";
import type { RunRecords } from "../local/records";
import type { LocalRender } from "../local/state";

const MARK = 0x4c46;
let netemCache: string | null | undefined;

function run(cmd: string, args: string[], input?: string): void {
  const r = spawnSync(cmd, args, { input, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${(r.stderr || r.stdout).trim()}`);
}

export class NetworkFaults {
  private readonly table: string;
  private tcAdded = false;
  private tableAdded = false;
  private tableRecord?: number;
  private tcRecord?: number;

  constructor(
    private readonly r: LocalRender,
    private readonly records?: RunRecords,
  ) {
    this.table = `latticeform_${r.layout.basePort}`;
  }

  static unavailable(): string | undefined {
    return siteIsolationUnavailable();
  }

  /** Why latency cannot be injected here: besides site isolation, the kernel needs the netem and prio qdiscs. */
  static latencyUnavailable(): string | undefined {
    const why = siteIsolationUnavailable();
    if (why) return why;
    if (netemCache === undefined) {
      // Probe on loopback for an instant; the probe qdisc delays nothing (0 ms) and is removed at once.
      const added = spawnSync("tc", ["qdisc", "add", "dev", "lo", "root", "handle", "1:", "prio", "bands", "4"], { encoding: "utf8" });
      let ok = added.status === 0;
      if (ok) {
        ok = spawnSync("tc", ["qdisc", "add", "dev", "lo", "parent", "1:4", "handle", "40:", "netem", "delay", "0ms"]).status === 0;
        spawnSync("tc", ["qdisc", "del", "dev", "lo", "root"]);
      }
      netemCache = ok
        ? null
        : "latency faults need the kernel's prio and netem qdiscs (sch_prio, sch_netem), which this kernel does not provide";
    }
    return netemCache ?? undefined;
  }

  private rules(a: string, b: string, verdict: string): string[] {
    const out: string[] = [];
    for (const [from, to] of [
      [a, b],
      [b, a],
    ] as const) {
      const gid = siteGid(this.r, from);
      const ports = sitePorts(this.r, to);
      if (gid === undefined || ports.length === 0) continue;
      out.push(`meta skgid ${gid} tcp dport { ${ports.join(", ")} } ${verdict}`);
    }
    return out;
  }

  private apply(rules: string[]): void {
    const script = `table inet ${this.table} {\n  chain out {\n    type filter hook output priority 0; policy accept;\n${rules.map((r) => `    ${r}`).join("\n")}\n  }\n}\n`;
    if (this.tableAdded) run("nft", ["delete", "table", "inet", this.table]);
    this.tableRecord ??= this.records?.fault({ kind: "nft-table", table: this.table });
    run("nft", ["-f", "-"], script);
    this.tableAdded = true;
  }

  /** Drop every packet between sites a and b (both directions); other sites still reach both. */
  partition(a: string, b: string): void {
    this.apply(this.rules(a, b, "drop"));
  }

  /** Delay every packet between sites a and b by `delayMs` each way. */
  latency(a: string, b: string, delayMs: number): void {
    this.apply(this.rules(a, b, `meta mark set ${MARK}`));
    this.tcRecord ??= this.records?.fault({ kind: "tc-qdisc", dev: "lo" });
    run("tc", [
      "qdisc",
      "add",
      "dev",
      "lo",
      "root",
      "handle",
      "1:",
      "prio",
      "bands",
      "4",
      "priomap",
      ..."1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1".split(" "),
    ]);
    this.tcAdded = true;
    run("tc", ["qdisc", "add", "dev", "lo", "parent", "1:4", "handle", "40:", "netem", "delay", `${delayMs}ms`]);
    run("tc", ["filter", "add", "dev", "lo", "parent", "1:", "protocol", "ip", "prio", "1", "handle", String(MARK), "fw", "flowid", "1:4"]);
  }

  /** The nftables rules in place now (empty when none): the partition's own evidence that it is there. */
  listRules(): string {
    if (!this.tableAdded) return "";
    const r = spawnSync("nft", ["list", "table", "inet", this.table], { encoding: "utf8" });
    return r.status === 0 ? r.stdout : "";
  }

  clear(): void {
    // Also after a failed apply: what was recorded may be half in place.
    if (this.tcAdded || this.tcRecord !== undefined) spawnSync("tc", ["qdisc", "del", "dev", "lo", "root"]);
    if (this.tableAdded || this.tableRecord !== undefined) spawnSync("nft", ["delete", "table", "inet", this.table]);
    if (this.tcRecord !== undefined) this.records?.undone(this.tcRecord);
    if (this.tableRecord !== undefined) this.records?.undone(this.tableRecord);
    this.tcAdded = false;
    this.tableAdded = false;
    this.tcRecord = undefined;
    this.tableRecord = undefined;
  }
}
