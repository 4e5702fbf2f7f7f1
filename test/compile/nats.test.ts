import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import fc from "fast-check";
import { buildCredentials } from "../../src/compile/credentials";
import { kubernetesEnv } from "../../src/compile/k8senv";
import { compileNats, hubUrlsFor, rpoZeroBuckets, type CompileEnv } from "../../src/compile/nats";
import { localLayout } from "../../src/local/env";
import { makeCa, makeLeafCert } from "../../src/local/tls";
import { readStackConfig } from "../../src/model/load";
import { COMPRESSION_MODES, type LatticeInput, type LatticeSpec } from "../../src/model/schema";
import { topologyOf } from "../../src/model/topology";
import { parseLattice, validateLattice } from "../../src/model/validate";
import { AWS_REGIONS, GCP_REGIONS } from "../../src/model/regions";
import { natsServerBin } from "../../src/tools/pins";

const run = promisify(execFile);
const MASTER = new Uint8Array(32).fill(7);
let dir = "";
let files: { cert: string; key: string; ca: string; creds: string };

/** `nats-server -t` on one config text; resolves to "" when valid, the error otherwise. */
async function natsCheck(name: string, text: string): Promise<string> {
  const f = path.join(dir, `${name}.conf`);
  writeFileSync(f, text, { mode: 0o600 });
  try {
    await run(natsServerBin(), ["-t", "-c", f]);
    return "";
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string };
    return `${name}: ${err.stderr ?? ""}${err.stdout ?? ""}`;
  }
}

function testEnv(base: CompileEnv): CompileEnv {
  // Real certificate files and creds, so `nats-server -t` checks them too.
  return {
    ...base,
    tlsFiles: () => ({ cert_file: files.cert, key_file: files.key, ca_file: files.ca }),
    credsFile: () => files.creds,
    storeDir: (s) => path.join(dir, "js", s.name),
  };
}

async function compileAll(spec: LatticeSpec, env: (s: LatticeSpec) => CompileEnv) {
  const topo = topologyOf(spec);
  const creds = await buildCredentials(spec, topo, MASTER, 1_700_000_000);
  return { topo, creds, nats: compileNats(spec, topo, testEnv(env(spec)), creds) };
}

describe("NATS compiler", () => {
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "lf-nats-"));
    const ca = await makeCa("test");
    const leaf = await makeLeafCert(ca, "test");
    files = { cert: path.join(dir, "c.pem"), key: path.join(dir, "k.pem"), ca: path.join(dir, "ca.pem"), creds: path.join(dir, "u.creds") };
    writeFileSync(files.cert, leaf.cert);
    writeFileSync(files.key, leaf.key, { mode: 0o600 });
    writeFileSync(files.ca, ca.cert);
    const spec = parseLattice(readStackConfig("stacks/Pulumi.small.yaml"));
    const creds = await buildCredentials(spec, topologyOf(spec), MASTER, 1_700_000_000);
    writeFileSync(files.creds, creds.users["client"]!.creds, { mode: 0o600 });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const stack of ["small", "prod"]) {
    for (const envName of ["local", "kubernetes"] as const) {
      it(`every config of the ${stack} stack passes nats-server -t (${envName})`, async () => {
        const spec = parseLattice(readStackConfig(`stacks/Pulumi.${stack}.yaml`));
        const env =
          envName === "local" ? (s: LatticeSpec) => localLayout(s, topologyOf(s), stack, dir).env : (s: LatticeSpec) => kubernetesEnv(s);
        const { nats, topo } = await compileAll(spec, env);
        assert.equal(nats.servers.length, topo.servers.length);
        const errors = (
          await Promise.all([...nats.servers, ...nats.leafs].map((s) => natsCheck(`${stack}-${envName}-${s.name}`, s.text)))
        ).filter(Boolean);
        assert.deepEqual(errors, []);
      });
    }
  }

  it("names servers uniquely, tags them and joins every cluster to every other by gateway", async () => {
    const spec = parseLattice(readStackConfig("stacks/Pulumi.prod.yaml"));
    const { nats, topo } = await compileAll(spec, (s) => kubernetesEnv(s));
    const names = nats.servers.map((s) => s.conf.server_name);
    assert.equal(new Set(names).size, names.length);
    assert.deepEqual(
      topo.clusters.map((c) => c.name),
      ["aws", "gcp", "stretch"],
    );
    for (const s of nats.servers) {
      const gw = s.conf.gateway as { name: string; gateways: { name: string }[] };
      assert.equal(gw.name, s.cluster);
      assert.deepEqual(
        gw.gateways.map((g) => g.name).sort(),
        topo.clusters
          .map((c) => c.name)
          .filter((c) => c !== s.cluster)
          .sort(),
      );
      const js = s.conf.jetstream as { domain: string; unique_tag: string };
      assert.equal(js.domain, "hub");
      assert.equal(js.unique_tag, "az");
      assert.ok((s.conf.server_tags as string[]).some((t) => t.startsWith("az:")));
      // TLS on client, routes, gateway; verify on routes and gateways.
      assert.equal((s.conf.tls as { verify: boolean }).verify, false);
      assert.equal((s.conf.cluster as { tls: { verify: boolean } }).tls.verify, true);
      assert.equal((gw as unknown as { tls: { verify: boolean } }).tls.verify, true);
    }
    // Leafnode listeners only on hubs, with verify.
    const hubs = nats.servers.filter((s) => s.kind === "hub");
    for (const h of hubs) assert.equal((h.conf.leafnodes as { tls: { verify: boolean } }).tls.verify, true);
    for (const s of nats.servers.filter((x) => x.kind !== "hub")) assert.equal(s.conf.leafnodes, undefined);
    // The stretched cluster spans every site.
    const stretch = topo.clusters.find((c) => c.name === "stretch")!;
    assert.deepEqual([...stretch.sites].sort(), ["aws", "gcp", "tb"]);
  });

  it("gives each leaf one remote listing every cloud's hubs, home first or interleaved, with equal pings", async () => {
    const spec = parseLattice(readStackConfig("stacks/Pulumi.small.yaml"));
    const { nats, topo } = await compileAll(spec, (s) => localLayout(s, topologyOf(s), "t", dir).env);
    const leaf = nats.leafs.find((l) => l.host === "aws-hosts-1")!;
    const remotes = (leaf.conf.leafnodes as { remotes: { urls: string[]; dont_randomize: boolean; credentials: string }[] }).remotes;
    assert.equal(remotes.length, 1);
    const aws = nats.servers.filter((s) => s.cluster === "aws");
    const gcp = nats.servers.filter((s) => s.cluster === "gcp");
    const port = (u: string) => Number(u.split(":").pop());
    const leafPort = (s: (typeof nats.servers)[number]) => (s.conf.leafnodes as { listen: string }).listen.split(":").pop();
    assert.deepEqual(
      remotes[0]!.urls.map((u) => String(port(u))),
      [...aws, ...gcp].map(leafPort),
    );
    assert.equal(remotes[0]!.dont_randomize, true);
    assert.equal(leaf.conf.ping_interval, aws[0]!.conf.ping_interval);
    assert.equal(leaf.conf.ping_max, aws[0]!.conf.ping_max);
    const env = localLayout(spec, topo, "t", dir).env;
    const inter = hubUrlsFor(spec, topo, env, "gcp", "interleaved", "leafnode", "tls");
    assert.deepEqual(
      inter.map((u) => String(port(u))),
      [gcp[0], aws[0], gcp[1], aws[1], gcp[2], aws[2]].map((s) => leafPort(s!)),
    );
  });

  it("sync_interval always on every server holding an RPO-0 bucket or its mirror; the spec's setting applies everywhere", async () => {
    const raw = readStackConfig("stacks/Pulumi.small.yaml") as LatticeInput;
    const sync = (spec: LatticeSpec) =>
      compileAll(spec, (s) => kubernetesEnv(s)).then(({ nats }) =>
        Object.fromEntries(
          nats.servers.map((s) => [`${s.cluster}/${s.name}`, (s.conf.jetstream as { sync_interval?: string }).sync_interval]),
        ),
      );
    // small: the ledger (RPO 0) keeps `balances` in the stretched cluster; the hubs hold no RPO-0 state.
    const small = parseLattice(raw);
    assert.deepEqual(rpoZeroBuckets(small), [{ bucket: "balances", workloads: ["ledger"], clusters: ["stretch"] }]);
    const s1 = await sync(small);
    for (const [name, v] of Object.entries(s1)) assert.equal(v, name.startsWith("stretch/") ? "always" : undefined, name);
    // A mirror of an RPO-0 bucket in gcp: gcp's servers hold a copy, so they sync every write too.
    const mirrored = parseLattice({
      ...raw,
      kv: [{ bucket: "balances", replicas: 3, placement: { cluster: "stretch" }, mirrors: ["gcp"] }],
    });
    const s2 = await sync(mirrored);
    for (const [name, v] of Object.entries(s2)) assert.equal(v, /^(stretch|gcp)\//.test(name) ? "always" : undefined, name);
    // No RPO-0 workload: nats-server's default everywhere.
    const relaxed = parseLattice({
      ...raw,
      workloads: (raw.workloads ?? []).map((w) => ({ ...w, objectives: { rtoSeconds: 10, rpoMessages: 5 } })),
    });
    assert.deepEqual(new Set(Object.values(await sync(relaxed))), new Set([undefined]));
    // Set in the spec: every server, and the text carries it.
    const set = parseLattice({ ...raw, jetstream: { syncInterval: "10s" } });
    assert.deepEqual(new Set(Object.values(await sync(set))), new Set(["10s"]));
    const { nats } = await compileAll(small, (s) => kubernetesEnv(s));
    assert.match(nats.servers.find((s) => s.cluster === "stretch")!.text, /sync_interval: "always"/);
  });

  it("S2 compression per connection kind from the spec: leafs and stretched routes s2_auto, hub routes accept; gateways none", async () => {
    const raw = readStackConfig("stacks/Pulumi.small.yaml") as LatticeInput;
    const modes = async (spec: LatticeSpec) => {
      const { nats } = await compileAll(spec, (s) => kubernetesEnv(s));
      const out: Record<string, unknown> = {};
      for (const s of nats.servers) {
        out[`${s.cluster}:${s.name}/cluster`] = (s.conf.cluster as { compression?: string }).compression;
        out[`${s.cluster}:${s.name}/gateway`] = (s.conf.gateway as { compression?: string }).compression;
        if (s.conf.leafnodes) out[`${s.cluster}:${s.name}/leafnodes`] = (s.conf.leafnodes as { compression?: string }).compression;
      }
      for (const l of nats.leafs)
        out[`${l.name}/remote`] = (l.conf.leafnodes as { remotes: { compression?: string }[] }).remotes[0]!.compression;
      return out;
    };
    const d = await modes(parseLattice(raw));
    for (const [k, v] of Object.entries(d)) {
      const want = k.endsWith("/gateway")
        ? undefined
        : k.endsWith("/leafnodes") || k.endsWith("/remote") || k.startsWith("stretch:")
          ? "s2_auto"
          : "accept";
      assert.equal(v, want, k);
    }
    const off = await modes(
      parseLattice({ ...raw, tuning: { compression: { leafnodes: "off", stretchedRoutes: "s2_fast", hubRoutes: "off" } } }),
    );
    assert.equal(off["aws-hosts-1-leaf/remote"], "off");
    assert.equal(off["aws:aws-1/leafnodes"], "off");
    assert.equal(off["aws:aws-1/cluster"], "off");
    assert.equal(off["stretch:tb-1/cluster"], "s2_fast");
  });

  it("leaf remotes authenticate with a credentials file: no user or password in any config", async () => {
    for (const name of ["small", "prod"]) {
      const spec = parseLattice(readStackConfig(`stacks/Pulumi.${name}.yaml`));
      const { nats } = await compileAll(spec, (s) => kubernetesEnv(s));
      for (const l of nats.leafs) {
        const remotes = (l.conf.leafnodes as { remotes: Record<string, unknown>[] }).remotes;
        for (const r of remotes) {
          assert.equal(typeof r.credentials, "string", l.name);
          assert.equal(r.user ?? r.password ?? r.nkey, undefined, l.name);
        }
      }
      for (const s of [...nats.servers, ...nats.leafs]) assert.doesNotMatch(s.text, /\b(password|pass|user):/, s.name);
    }
  });

  it("keeps secrets out of configs: no seeds, only public keys and JWTs", async () => {
    const spec = parseLattice(readStackConfig("stacks/Pulumi.small.yaml"));
    const { nats, creds } = await compileAll(spec, (s) => kubernetesEnv(s));
    for (const s of [...nats.servers, ...nats.leafs]) {
      assert.ok(!/\bS[UAO][A-Z2-7]{50,}/.test(s.text), `${s.name} holds an nkey seed`);
      for (const u of Object.values(creds.users)) assert.ok(!s.text.includes(u.seed));
    }
  });

  it("derives the same credentials from the same master secret, other ones from another", async () => {
    const spec = parseLattice(readStackConfig("stacks/Pulumi.small.yaml"));
    const topo = topologyOf(spec);
    const a = await buildCredentials(spec, topo, MASTER, 1_700_000_000);
    const b = await buildCredentials(spec, topo, MASTER, 1_700_000_000);
    const c = await buildCredentials(spec, topo, new Uint8Array(32).fill(8), 1_700_000_000);
    assert.deepEqual(a, b);
    assert.notEqual(a.operator.publicKey, c.operator.publicKey);
    assert.match(a.operator.publicKey, /^O[A-Z2-7]{55}$/);
    assert.match(a.users["client"]!.creds, /-----BEGIN NATS USER JWT-----/);
  });

  it("limits a host's permissions to its workloads' subjects and buckets", async () => {
    const spec = parseLattice(readStackConfig("stacks/Pulumi.small.yaml"));
    const { creds } = await compileAll(spec, (s) => kubernetesEnv(s));
    const jwt = creds.users["host:aws-hosts-1"]!.jwt;
    const claims = JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString()) as {
      nats: { sub: { allow: string[] }; pub: { allow: string[] } };
    };
    assert.deepEqual(claims.nats.sub.allow, [
      "payments.validate",
      "ledger.apply",
      "wasmbus.ctl.small.>",
      "wasmbus.evt.small.>",
      "_INBOX.>",
    ]);
    assert.ok(claims.nats.pub.allow.includes("$KV.balances.>"));
    assert.ok(!claims.nats.pub.allow.includes(">"));
  });

  it("property: every config compiled from random valid specs passes nats-server -t", async () => {
    const cloudArb = (i: number) =>
      fc
        .record({
          provider: fc.constantFrom<"aws" | "gcp">("aws", "gcp"),
          regionIdx: fc.nat(30),
          zones: fc.integer({ min: 1, max: 3 }),
          servers: fc.constantFrom(3, 5),
          pools: fc.array(
            fc.record({
              hosts: fc.integer({ min: 1, max: 2 }),
              connection: fc.constantFrom<"leaf" | "direct">("leaf", "direct"),
              remoteOrder: fc.constantFrom<"home-first" | "interleaved">("home-first", "interleaved"),
            }),
            { maxLength: 2 },
          ),
        })
        .map((c) => {
          const regions = c.provider === "aws" ? AWS_REGIONS : GCP_REGIONS;
          const region = regions[c.regionIdx % regions.length]!;
          const zones = Array.from({ length: c.zones }, (_, z) =>
            c.provider === "aws" ? `${region}${"abc"[z]}` : `${region}-${"abc"[z]}`,
          );
          return {
            name: `c${i}`,
            provider: c.provider,
            region,
            zones,
            hub: { servers: c.servers },
            hostPools: c.pools.map((p, k) => ({ name: `p${k}`, ...p })),
          };
        });
    const specArb = fc
      .record({
        clouds: fc.integer({ min: 1, max: 3 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => cloudArb(i)))),
        tb: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
        stretched: fc.boolean(),
        ping: fc.constantFrom("250ms", "1s", "2s"),
        compression: fc.record({
          leafnodes: fc.constantFrom(...COMPRESSION_MODES),
          stretchedRoutes: fc.constantFrom(...COMPRESSION_MODES),
          hubRoutes: fc.constantFrom(...COMPRESSION_MODES),
        }),
        sync: fc.option(fc.constantFrom("always", "1s", "2m"), { nil: undefined }),
      })
      .map(({ clouds, tb, stretched, ping, compression, sync }): LatticeInput => ({
        name: "prop",
        clouds,
        ...(tb ? { tieBreaker: { name: "tb", provider: "gcp", region: "europe-west4", zones: ["europe-west4-a"], servers: tb } } : {}),
        ...(tb && stretched ? { stretched: {} } : {}),
        tuning: { pingInterval: ping, compression },
        ...(sync ? { jetstream: { syncInterval: sync } } : {}),
      }));
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(specArb, async (input) => {
        const r = validateLattice(input);
        fc.pre(r.ok);
        if (!r.ok) return;
        const { nats } = await compileAll(r.spec, (s) => kubernetesEnv(s));
        const errors = (
          await Promise.all([...nats.servers, ...nats.leafs].slice(0, 8).map((s, i) => natsCheck(`prop-${checked}-${i}`, s.text)))
        ).filter(Boolean);
        checked++;
        assert.deepEqual(errors, []);
      }),
      { numRuns: 25, seed: 42 },
    );
    assert.ok(checked >= 10, `only ${checked} random specs were valid`);
  });
});
