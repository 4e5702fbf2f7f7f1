/** Where the stretched bucket's and the meta group's raft leaders are, and moving them away: the leader keepers' tests. */
import assert from "node:assert/strict";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { metaStepdownRequest, stepdownRequest } from "../../../src/compile/leaders";
import type { LocalRender } from "../../../src/local/state";
import { monitorJson } from "../../../src/local/supervisor";

export interface Leaders {
  readonly bucket?: string;
  readonly meta?: string;
}

/** A reader of the leaders (`nc`: the lattice's client user) and the site of a server. */
export async function leaderReader(r: LocalRender, nc: NatsConnection) {
  const jsm = await jetstreamManager(nc, { domain: r.spec.jetstream.domain });
  const siteOf = (server: string | undefined) => r.topo.servers.find((s) => s.name === server)?.site;
  const read = async (): Promise<Leaders> => ({
    bucket: (await jsm.streams.info("KV_balances").catch(() => undefined))?.cluster?.leader,
    meta: (await monitorJson<{ meta_cluster?: { leader?: string } }>(r.nats.servers[0]!.monitorPort, "/jsz").catch(() => undefined))
      ?.meta_cluster?.leader,
  });
  /** Both leaders at `site`. */
  const bothAt = async (site: string) => {
    const l = await read();
    return siteOf(l.bucket) === site && siteOf(l.meta) === site;
  };
  return { read, siteOf, bothAt };
}

/** An election elsewhere, as after a restart: the bucket's leader to `bucketTo`, the meta leader to `metaTo` (both asserted done). */
export async function moveLeaders(
  r: LocalRender,
  nc: NatsConnection,
  sys: NatsConnection,
  bucketTo: string,
  metaTo: string,
): Promise<void> {
  const away = stepdownRequest(r.spec, "KV_balances", [`cloud:${bucketTo}`]);
  const res = JSON.parse((await nc.request(away.subject, away.body, { timeout: 5000 })).string()) as { success?: boolean };
  assert.equal(res.success, true, JSON.stringify(res));
  const meta = metaStepdownRequest([`cloud:${metaTo}`]);
  const mres = JSON.parse((await sys.request(meta.subject, meta.body, { timeout: 5000 })).string()) as { success?: boolean };
  assert.equal(mres.success, true, JSON.stringify(mres));
}
