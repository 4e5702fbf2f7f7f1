/**
 * The leader keeper as a POSIX shell script over the `nats` CLI (pure): what keeps raft leaders at the leader
 * site in the clouds, where there is no Node (the chart's nats-box image has `nats` and a POSIX shell). Same rule
 * as the local lattice's keeper (`src/local/leaders.ts`): every interval read each kept group's leader; one that
 * is elsewhere, once its election has settled and a replica at the site is current, is asked to step down with a
 * placement naming the site. Requests are the server's own API (nats-server 2.14.2: `$JS.<domain>.API.STREAM.INFO`,
 * `$SYS.REQ.SERVER.PING.JSZ` with `leader_only`, the two LEADER.STEPDOWN subjects with a placement,
 * `jetstream_api.go` `getStepDownPreferredPlacement`), sent with `nats req --raw`; replies are compact JSON read
 * with sed/grep (no jq), which `test/local/keeperScript.test.ts` holds to the real server.
 *
 * Several keepers may run at once (one per cloud, so a cloud outage leaves one): a stepdown that arrives when the
 * leader is already at the site finds no other peer there matching the placement and changes nothing.
 */
import type { LatticeSpec } from "../model/schema";
import type { Topology } from "../model/topology";
import { shq } from "./boot";
import { metaStepdownRequest, planLeaders, stepdownRequest } from "./leaders";

/** Environment the script reads (set by the Deployment, or by a test). */
export const KEEPER_ENV = {
  /** Comma-separated server URLs. */
  servers: "KEEPER_SERVERS",
  /** Credentials of the lattice's `client` user (streams) and of `sys` (meta group). */
  creds: "KEEPER_CREDS",
  sysCreds: "KEEPER_SYS_CREDS",
  tlsCert: "KEEPER_TLS_CERT",
  tlsKey: "KEEPER_TLS_KEY",
  tlsCa: "KEEPER_TLS_CA",
  /** The `nats` binary. @default nats */
  nats: "KEEPER_NATS",
} as const;

export interface KeeperTiming {
  /** Seconds between passes. */
  readonly intervalSeconds: number;
  /** Seconds a leader must have been elsewhere before it is asked back (after the first placement). */
  readonly settleSeconds: number;
  /** Least seconds between two requests for one group. */
  readonly backoffSeconds: number;
}

export const KEEPER_TIMING: KeeperTiming = { intervalSeconds: 0.5, settleSeconds: 1, backoffSeconds: 3 };

/** The script, or undefined when the lattice keeps no leaders. */
export function leaderKeeperScript(spec: LatticeSpec, topo: Topology, timing: KeeperTiming = KEEPER_TIMING): string | undefined {
  const plan = planLeaders(spec, topo);
  if (!plan) return undefined;
  const e = KEEPER_ENV;
  const atSite = topo.servers.filter((s) => s.site === plan.site).map((s) => s.name);
  const groups = plan.streams.map((k) => ({
    label: k.stream,
    conn: "client",
    info: `\\$JS.${spec.jetstream.domain}.API.STREAM.INFO.${k.stream}`,
    infoBody: "",
    clusterKey: "cluster",
    stepdown: stepdownRequest(spec, k.stream, k.tags),
  }));
  if (plan.meta)
    groups.push({
      label: "$meta",
      conn: "sys",
      info: "\\$SYS.REQ.SERVER.PING.JSZ",
      infoBody: JSON.stringify({ leader_only: true }),
      clusterKey: "meta_cluster",
      stepdown: metaStepdownRequest([`cloud:${plan.site}`]),
    });
  const passes = groups.map((g, i) =>
    [
      `  info=$(req ${g.conn} "${g.info}" ${shq(g.infoBody)})`,
      `  keep ${i} ${shq(g.label)} ${g.conn} "$(leader_of "$info" ${g.clusterKey})" "$info" "${g.stepdown.subject.replace(/\$/g, "\\$")}" ${shq(g.stepdown.body)}`,
    ].join("\n"),
  );
  return `#!/bin/sh
# latticeform leader keeper for lattice ${spec.name}: keeps ${groups.map((g) => g.label).join(", ")} at site ${plan.site}.
# Compiled from the spec by src/compile/keeperScript.ts; reads ${Object.values(e).join(", ")}.
set -u
SITE=${shq(plan.site)}
NATS="\${${e.nats}:-nats}"
placed_once=0

# The server names of the site (a leader there is where it belongs; a current replica there can take over).
at_site() { case "$1" in ${atSite.map(shq).join("|")}) return 0 ;; esac; return 1; }

req() {
  conn=$1; shift
  creds=$${e.creds}; [ "$conn" = sys ] && creds=$${e.sysCreds}
  "$NATS" req "$@" --raw --timeout 1s --server "$${e.servers}" --creds "$creds" \\
    --tlscert "$${e.tlsCert}" --tlskey "$${e.tlsKey}" --tlsca "$${e.tlsCa}" 2>/dev/null
}

# The leader named in the reply's cluster object ("" when there is none or no reply).
leader_of() { printf '%s' "$1" | sed -n "s/.*\\"$2\\":{[^}]*\\"leader\\":\\"\\([^\\"]*\\)\\".*/\\1/p"; }

# A replica at the site that is current (field order of nats-server's PeerInfo: name, then current).
site_current() {
  for s in ${atSite.map(shq).join(" ")}; do
    printf '%s' "$1" | grep -q "\\"name\\":\\"$s\\",\\"current\\":true" && return 0
  done
  return 1
}

keep() {
  i=$1 group=$2 conn=$3 leader=$4 info=$5 subject=$6 body=$7
  now=$(date +%s)
  if [ -n "$leader" ] && at_site "$leader"; then eval "since_$i="; return 0; fi
  eval "since=\\\${since_$i:-}"
  if [ -z "$since" ]; then since=$now; eval "since_$i=$now"; fi
  misplaced=1
  [ -n "$leader" ] || return 0
  if [ "$placed_once" = 1 ] && [ $((now - since)) -lt ${timing.settleSeconds} ]; then return 0; fi
  site_current "$info" || return 0
  eval "last=\\\${last_$i:-0}"
  if [ $((now - last)) -lt ${timing.backoffSeconds} ]; then return 0; fi
  eval "last_$i=$now"
  reply=$(req "$conn" "$subject" "$body")
  case "$reply" in
    *'"success":true'*) echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $group: leader $leader asked to step down to $SITE: done" ;;
    *) echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $group: leader $leader asked to step down to $SITE: \${reply:-no reply}" ;;
  esac
}

echo ${shq(`keeping ${groups.map((g) => g.label).join(", ")} at ${plan.site}`)}
while :; do
  misplaced=0
${passes.join("\n")}
  if [ "$misplaced" = 0 ] && [ "$placed_once" = 0 ]; then placed_once=1; echo "every kept leader at the site"; fi
  sleep ${timing.intervalSeconds}
done
`;
}
