/**
 * First boot of the small example's supercluster (two clouds of 3 hubs, a cluster stretched over one server per
 * cloud and the tie-breaker): does JetStream form ONE meta group? Real nats-server processes on loopback, in the
 * caller's network namespace (run it inside `unshare -n`; the second case needs root and nftables).
 *
 * 1. Every link up from the start (what the clouds get once exposure publishes not-ready pods): one meta leader,
 *    every server a member.
 * 2. Cross-site links late (what the clouds got when load balancers waited for Ready pods, which wait for a meta
 *    leader): every packet between sites is refused for a while, then allowed; the leaders seen over time are
 *    measured and reported.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { siteGid, siteIsolationUnavailable, sitePorts } from "../../src/local/sites";
import { renderLocal, type LocalRender } from "../../src/local/state";
import { httpGet, pidAlive, sleep, Supervisor } from "../../src/local/supervisor";
import { readStackConfig } from "../../src/model/load";
import { parseLattice } from "../../src/model/validate";

interface MetaView {
  /** Leader each server reports ("" while it has none). */
  readonly leaders: Record<string, string>;
  /** Meta group size each server reports. */
  readonly sizes: Record<string, number>;
}

async function metaView(r: LocalRender): Promise<MetaView> {
  const leaders: Record<string, string> = {};
  const sizes: Record<string, number> = {};
  await Promise.all(
    r.nats.servers.map(async (s) => {
      try {
        const res = await httpGet(s.monitorPort, "/jsz", 500);
        const j = JSON.parse(res.body) as { meta_cluster?: { leader?: string; cluster_size?: number } };
        leaders[s.name] = j.meta_cluster?.leader ?? "";
        sizes[s.name] = j.meta_cluster?.cluster_size ?? 0;
      } catch {
        leaders[s.name] = "";
        sizes[s.name] = 0;
      }
    }),
  );
  return { leaders, sizes };
}

const distinct = (v: MetaView) => [...new Set(Object.values(v.leaders).filter(Boolean))];

const dirs: string[] = [];
const sups: Supervisor[] = [];
after(async () => {
  for (const s of sups) {
    const pids = s.pids();
    await s.stopAll();
    for (const pid of pids) assert.equal(pidAlive(pid), false, `pid ${pid} still alive`);
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function boot(name: string, offset: number): Promise<{ r: LocalRender; sup: Supervisor; started: number }> {
  const raw = readStackConfig("stacks/Pulumi.small.yaml") as Record<string, unknown>;
  // Below the kernel's ephemeral range (32768+), where an outgoing connection can hold a lattice port.
  raw.local = { basePort: 14000 + offset * 100 + (process.pid % 5) * 1000 };
  const stateDir = mkdtempSync(path.join(tmpdir(), `lf-meta-${name}-`));
  dirs.push(stateDir);
  const r = await renderLocal(parseLattice(raw), `meta-${name}`, stateDir);
  const sup = new Supervisor(stateDir);
  sups.push(sup);
  return { r, sup, started: 0 };
}

function start(r: LocalRender, sup: Supervisor): number {
  for (const s of r.nats.servers) sup.startServer(s.name, r.confFiles[s.name]!, s.monitorPort, siteGid(r, s.site));
  return performance.now();
}

/** Sample the meta group every 200 ms for `ms`; `onSample` sees each view with its time since start. */
async function watch(r: LocalRender, t0: number, ms: number, onSample: (v: MetaView, t: number) => boolean | void): Promise<void> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const v = await metaView(r);
    if (onSample(v, performance.now() - t0) === true) return;
    await sleep(200);
  }
}

describe("first boot of a supercluster: one JetStream meta group", () => {
  it("every link up from the start: one meta leader, every JetStream server a member", async (t) => {
    const { r, sup } = await boot("up", 0);
    const total = r.nats.servers.length;
    const t0 = start(r, sup);
    let converged = -1;
    let maxLeaders = 0;
    await watch(r, t0, 60_000, (v, at) => {
      const d = distinct(v);
      maxLeaders = Math.max(maxLeaders, d.length);
      const all = Object.values(v.leaders).every((l) => l === d[0]) && Object.values(v.sizes).every((n) => n === total);
      if (d.length === 1 && all) {
        converged = at;
        return true;
      }
    });
    assert.ok(converged >= 0, "no single meta leader within 60 s");
    // Still one leader, and one group, a while later.
    await sleep(3000);
    const v = await metaView(r);
    assert.equal(distinct(v).length, 1, JSON.stringify(v.leaders));
    assert.deepEqual(new Set(Object.values(v.sizes)), new Set([total]));
    assert.equal(maxLeaders, 1, "never more than one meta leader during boot");
    t.diagnostic(`one meta leader (${distinct(v)[0]}) over all ${total} servers ${(converged / 1000).toFixed(1)} s after start`);
    await sup.stopAll();
  });

  const why = siteIsolationUnavailable();
  it("cross-site links late: what the meta group does (measured)", { skip: why }, async (t) => {
    const { r, sup } = await boot("late", 1);
    const total = r.nats.servers.length;
    const table = `lf_meta_${r.layout.basePort}`;
    const rules: string[] = [];
    for (const a of r.topo.sites)
      for (const b of r.topo.sites)
        if (a !== b) rules.push(`meta skgid ${siteGid(r, a)!} tcp dport { ${sitePorts(r, b).join(", ")} } reject with tcp reset`);
    const nft = (args: string[], input?: string) => spawnSync("nft", args, { input, encoding: "utf8" });
    const add = nft(
      ["-f", "-"],
      `table inet ${table} {\n chain out {\n  type filter hook output priority 0; policy accept;\n  ${rules.join("\n  ")}\n }\n}\n`,
    );
    assert.equal(add.status, 0, add.stderr);
    // How long the links stay refused (LF_META_LATE_MS overrides it for a longer measurement).
    const LATE_MS = Number(process.env.LF_META_LATE_MS ?? 15_000);
    const MERGE_MS = 120_000;
    try {
      const t0 = start(r, sup);
      const beforeLinks: string[][] = [];
      await watch(r, t0, LATE_MS, (v) => void beforeLinks.push(distinct(v)));
      const split = beforeLinks.at(-1)!;
      const sizesSplit = [...new Set(Object.values((await metaView(r)).sizes))];
      assert.equal(nft(["delete", "table", "inet", table]).status, 0);
      const linked = performance.now();
      let merged = -1;
      const after: string[][] = [];
      // Bounded: a loaded machine (CI) has been seen to need more than 45 s; 120 s tells slow from never.
      await watch(r, linked, MERGE_MS, (v, at) => {
        after.push(distinct(v));
        if (distinct(v).length === 1 && Object.values(v.sizes).every((n) => n === total)) {
          merged = at;
          return true;
        }
      });
      const end = await metaView(r);
      t.diagnostic(
        `links refused for ${LATE_MS / 1000} s: leaders then ${JSON.stringify(split)} (group sizes ${JSON.stringify(sizesSplit)}); ` +
          (merged >= 0
            ? `one leader over all ${total} servers ${(merged / 1000).toFixed(1)} s after the links came up`
            : `still ${JSON.stringify(end.leaders)} ${MERGE_MS / 1000} s after the links came up (sizes ${JSON.stringify(end.sizes)})`),
      );
      // Measured (nats-server 2.14.2, this topology): no site elects a meta leader on its own while the others are
      // unreachable (no site holds a majority of the configured JetStream servers), and once the links come up the
      // whole supercluster forms one group with one leader.
      assert.ok(beforeLinks.length > 0);
      assert.ok(
        beforeLinks.every((l) => l.length <= 1),
        `two meta leaders while the sites were cut off: ${JSON.stringify(beforeLinks.find((l) => l.length > 1))}`,
      );
      assert.ok(
        merged >= 0,
        `no single meta leader over all ${total} servers ${MERGE_MS / 1000} s after the links came up: leaders ${JSON.stringify(end.leaders)}, sizes ${JSON.stringify(end.sizes)}`,
      );
      assert.ok(
        after.every((l) => l.length <= 1),
        `two meta leaders after the links came up: ${JSON.stringify(after.find((l) => l.length > 1))}`,
      );
    } finally {
      nft(["delete", "table", "inet", table]);
      await sup.stopAll();
    }
  });
});
