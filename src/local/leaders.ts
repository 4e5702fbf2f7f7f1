/**
 * The leader keeper: keeps the raft leaders of `planLeaders` (and the JetStream meta leader) at the leader
 * site, so a cloud outage takes no leader and costs no election. Every `intervalMs` it reads each kept stream's
 * leader; one elsewhere is asked to step down with a placement naming the site (nats-server 2.11+), once a
 * replica there is current. In the local lattice it runs as its own process at the leader site (`leaders` in
 * the supervisor); in the clouds the same program runs on the tie-breaker VMs (ARCHITECTURE.md).
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { metaStepdownRequest, planLeaders, stepdownRequest, type LeaderPlan } from "../compile/leaders";
import { REPO_ROOT } from "../paths";
import { bundledCommand } from "./bundle";
import { connectLocal } from "./client";
import { siteGid } from "./sites";
import type { LocalRender } from "./state";
import { waitFor, type ManagedProcess, type Supervisor } from "./supervisor";

export interface KeeperOptions {
  /** How often leaders are read. */
  readonly intervalMs?: number;
  /** Least time between two stepdown requests for one group (an election takes a moment to settle). */
  readonly backoffMs?: number;
  /** How long a leader must have been elsewhere before it is asked back (no churn while elections settle). */
  readonly settleMs?: number;
  readonly log?: (line: string) => void;
}

interface ClusterInfo {
  leader?: string;
  replicas?: { name: string; current: boolean; offline?: boolean }[];
}

export class LeaderKeeper {
  private nc?: NatsConnection;
  private sys?: NatsConnection;
  private jsm?: JetStreamManager;
  private timer?: NodeJS.Timeout;
  private busy = false;
  private readonly lastAsk = new Map<string, number>();
  private readonly siteOf: Map<string, string>;
  /** Stepdowns that succeeded (group -> count), for tests and the log. */
  readonly moves = new Map<string, number>();
  /** Groups whose leader was elsewhere (or unknown) at the last pass. */
  private readonly misplaced = new Map<string, number>();
  private placedOnce = false;

  constructor(
    private readonly r: LocalRender,
    readonly plan: LeaderPlan = planLeaders(r.spec, r.topo)!,
    private readonly o: KeeperOptions = {},
  ) {
    if (!plan) throw new Error("leaders are not kept in this lattice (jetstream.leaders.keep is false or there is no leader site)");
    this.siteOf = new Map(r.topo.servers.map((s) => [s.name, s.site]));
  }

  /** Servers to reach: the leader site's first (the keeper runs there), then every other JetStream server. */
  private servers(): string[] {
    const all = this.r.nats.servers;
    return [...all.filter((s) => s.site === this.plan.site), ...all.filter((s) => s.site !== this.plan.site)].map((s) => s.name);
  }

  async start(): Promise<void> {
    const options = { maxReconnectAttempts: -1, reconnectTimeWait: 100, reconnectJitter: 0, reconnectJitterTLS: 0, noRandomize: true };
    this.nc = await connectLocal(this.r, { servers: this.servers(), name: "leader keeper", options });
    if (this.plan.meta)
      this.sys = await connectLocal(this.r, { servers: this.servers(), user: "sys", name: "leader keeper (meta)", options });
    this.jsm = await jetstreamManager(this.nc, { domain: this.r.spec.jetstream.domain, timeout: 1000, checkAPI: false });
    this.timer = setInterval(() => void this.tick(), this.o.intervalMs ?? 250);
    await this.tick();
  }

  /** One pass over every kept group; never throws (a lost cloud makes some requests time out). */
  async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      await Promise.all([
        ...this.plan.streams.map(async (k) => {
          const info = await this.jsm!.streams.info(k.stream).catch(() => undefined);
          await this.keep(k.stream, info?.cluster as ClusterInfo | undefined, () => stepdownRequest(this.r.spec, k.stream, k.tags));
        }),
        this.plan.meta ? this.keepMeta() : Promise.resolve(),
      ]);
    } finally {
      this.busy = false;
    }
  }

  private async keepMeta(): Promise<void> {
    if (!this.sys) return;
    // Only the meta leader answers with `leader_only`, and only its view lists the replicas and whether they are current.
    const m = await this.sys
      .request("$SYS.REQ.SERVER.PING.JSZ", JSON.stringify({ leader_only: true }), { timeout: 500 })
      .catch(() => undefined);
    const meta = m ? (JSON.parse(m.string()) as { data?: { meta_cluster?: ClusterInfo } }).data?.meta_cluster : undefined;
    await this.keep("$meta", meta, () => metaStepdownRequest([`cloud:${this.plan.site}`]), this.sys);
  }

  private async keep(group: string, c: ClusterInfo | undefined, req: () => { subject: string; body: string }, nc = this.nc): Promise<void> {
    if (c?.leader && this.siteOf.get(c.leader) === this.plan.site) {
      this.misplaced.delete(group);
      return;
    }
    const since = this.misplaced.get(group) ?? Date.now();
    this.misplaced.set(group, since);
    // At start leaders are placed at once; afterwards a move waits until the election that moved it has settled.
    if (!c?.leader || (this.placedOnce && Date.now() - since < (this.o.settleMs ?? 1000))) return;
    // Only a current replica at the site can take over without a gap.
    if (!(c.replicas ?? []).some((p) => this.siteOf.get(p.name) === this.plan.site && p.current && !p.offline)) return;
    const now = Date.now();
    if (now - (this.lastAsk.get(group) ?? 0) < (this.o.backoffMs ?? 3000)) return;
    this.lastAsk.set(group, now);
    const { subject, body } = req();
    const res = await nc!.request(subject, body, { timeout: 2000 }).catch((e: unknown) => e as Error);
    const ok = !(res instanceof Error) && (JSON.parse(res.string()) as { success?: boolean }).success === true;
    if (ok) this.moves.set(group, (this.moves.get(group) ?? 0) + 1);
    this.o.log?.(
      `${group}: leader ${c.leader} (${this.siteOf.get(c.leader) ?? "?"}) asked to step down to ${this.plan.site}: ` +
        (ok ? "done" : res instanceof Error ? res.message : res.string()),
    );
  }

  /** Pass until every kept leader is at the site in two passes in a row (bounded); true when they are. */
  async placed(timeoutMs = 10000): Promise<boolean> {
    let streak = 0;
    return waitFor(
      async () => {
        while (this.busy) await new Promise((res) => setTimeout(res, 10));
        await this.tick();
        streak = this.misplaced.size === 0 ? streak + 1 : 0;
        if (streak >= 2) this.placedOnce = true;
        return streak >= 2;
      },
      timeoutMs,
      this.o.intervalMs ?? 250,
    );
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (const c of [this.nc, this.sys]) if (c && !c.isClosed()) await c.close().catch(() => {});
  }
}

const KEEPER_MAIN = path.join(REPO_ROOT, "src", "local", "leaderKeeperMain.ts");
/** Start the keeper as a process of the leader site (its group id), when the lattice keeps leaders; resolves when it runs. */
export async function startLeaderKeeper(r: LocalRender, sup: Supervisor, timeoutMs = 30000): Promise<ManagedProcess | undefined> {
  const plan = planLeaders(r.spec, r.topo);
  if (!plan) return undefined;
  const p = sup.spawnProcess(
    "leader-keeper",
    process.execPath,
    [...bundledCommand({ entry: KEEPER_MAIN, name: "leader-keeper.cjs" }), r.layout.stateDir],
    {
      pipeStdin: true,
      gid: siteGid(r, plan.site),
    },
  );
  let exited = false;
  void p.exited.then(() => (exited = true));
  const ok = await waitFor(() => exited || /\] ready$/m.test(readFileSync(p.logFile, "utf8")), timeoutMs, 50);
  if (!ok || exited)
    throw new Error(`the leader keeper did not start: ${readFileSync(p.logFile, "utf8").trim().split("\n").slice(-3).join(" | ")}`);
  return p;
}
