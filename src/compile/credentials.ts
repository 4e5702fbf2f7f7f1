/**
 * Decentralized NATS auth (operator -> accounts -> users), made with the official `@nats-io/nkeys` and
 * `@nats-io/jwt` libraries. Keys are derived from one master secret, and JWTs carry a fixed issue time,
 * so the same inputs give byte-identical credentials: a second `pulumi up` (or a second local `up`)
 * changes nothing. Pure: no I/O; the master secret comes from a Pulumi resource or the local state dir.
 */
import { createHmac } from "node:crypto";
import * as jwt from "@nats-io/jwt";
import * as nkeys from "@nats-io/nkeys";
import { Codec } from "@nats-io/nkeys/lib/codec";
import type { LatticeSpec } from "../model/schema";
import { instancesPerCloud, type HostNode, type Topology } from "../model/topology";

export interface UserCreds {
  readonly id: string;
  readonly account: string;
  readonly publicKey: string;
  readonly jwt: string;
  /** The `.creds` file content (JWT + seed): secret. */
  readonly creds: string;
  /** The seed alone (for nkey authenticators): secret. */
  readonly seed: string;
}

export interface Credentials {
  readonly operator: { readonly publicKey: string; readonly jwt: string };
  /** Account name -> public key and JWT (the system account included). */
  readonly accounts: Readonly<Record<string, { readonly publicKey: string; readonly jwt: string }>>;
  readonly systemAccount: string;
  /**
   * User id -> credentials. Ids: `host:<host>`, `leaf:<host>`, `client`, `sys`, `wasmcloud-operator`,
   * `user:<account>:<name>`.
   */
  readonly users: Readonly<Record<string, UserCreds>>;
}

/** A 32-byte seed for key `id`, derived from the master secret (HMAC-SHA256). */
export function deriveSeed(master: Uint8Array, id: string): Uint8Array {
  if (master.length < 32) throw new Error("the master secret must have at least 32 bytes");
  return new Uint8Array(createHmac("sha256", master).update(`latticeform:nkey:${id}`).digest());
}

function keyPair(master: Uint8Array, prefix: nkeys.Prefix, id: string): nkeys.KeyPair {
  return nkeys.fromSeed(Codec.encodeSeed(prefix, deriveSeed(master, id)));
}

/** Encode with a fixed `iat` so the JWT (and its hash `jti`) is stable across runs. */
async function stable<T>(issuedAt: number, fn: () => Promise<T>): Promise<T> {
  const realNow = Date.now;
  Date.now = () => issuedAt * 1000;
  try {
    return await fn();
  } finally {
    Date.now = realNow;
  }
}

const OPEN_LIMITS = {
  subs: -1,
  conn: -1,
  leaf: -1,
  imports: -1,
  exports: -1,
  data: -1,
  payload: -1,
  wildcards: true,
};
const JS_LIMITS = { mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 };

/** Subjects a lattice's hosts use for control (status queries) and events (heartbeats), as in wasmCloud. */
export function latticeSubjects(lattice: string): { ctl: string; evt: string } {
  return { ctl: `wasmbus.ctl.${lattice}`, evt: `wasmbus.evt.${lattice}` };
}

export function defaultAccount(spec: LatticeSpec): string {
  return spec.security.accounts[0]!.name;
}

/** Workloads a host runs: wasmcloud workloads with instances in its cloud. */
export function workloadsOnHost(spec: LatticeSpec, host: HostNode): LatticeSpec["workloads"] {
  return spec.workloads.filter((w) => w.runtime === "wasmcloud" && (instancesPerCloud(spec, w)[host.cloud] ?? 0) > 0);
}

/** Least privilege for a host: serve its workloads, use their buckets, heartbeat and answer status. */
export function hostPermissions(spec: LatticeSpec, host: HostNode): { pub: string[]; sub: string[] } {
  const ws = workloadsOnHost(spec, host);
  const { ctl, evt } = latticeSubjects(spec.name);
  const domain = spec.jetstream.domain;
  const buckets = [...new Set(ws.map((w) => w.kv).filter((b): b is string => !!b))];
  return {
    pub: [`${evt}.>`, ...(buckets.length ? [`$JS.${domain}.API.>`, `$JS.API.>`, ...buckets.map((b) => `$KV.${b}.>`)] : [])],
    sub: [...ws.map((w) => w.subject), `${ctl}.>`, `${evt}.>`, "_INBOX.>"],
  };
}

/** Build every operator, account and user credential of the lattice. */
export async function buildCredentials(spec: LatticeSpec, topo: Topology, master: Uint8Array, issuedAt: number): Promise<Credentials> {
  return stable(issuedAt, async () => {
    const okp = keyPair(master, nkeys.Prefix.Operator, "operator");
    const accountNames = [spec.security.systemAccount, ...spec.security.accounts.map((a) => a.name)];
    const akps = new Map(accountNames.map((n) => [n, keyPair(master, nkeys.Prefix.Account, `account:${n}`)]));
    const sysPub = akps.get(spec.security.systemAccount)!.getPublicKey();
    const operatorJwt = await jwt.encodeOperator(`${spec.name}-operator`, okp, { system_account: sysPub });

    const accounts: Record<string, { publicKey: string; jwt: string }> = {};
    for (const name of accountNames) {
      const akp = akps.get(name)!;
      const decl = spec.security.accounts.find((a) => a.name === name);
      const isSys = name === spec.security.systemAccount;
      const accountJwt = await jwt.encodeAccount(
        name,
        akp,
        {
          limits: isSys ? OPEN_LIMITS : { ...OPEN_LIMITS, ...JS_LIMITS },
          exports: (decl?.exports ?? []).map((e) => ({ name: e.subject, subject: e.subject, type: e.type })),
          imports: (decl?.imports ?? []).map((im) => ({
            name: im.subject,
            subject: im.subject,
            account: akps.get(im.account)!.getPublicKey(),
            type: im.type,
          })),
        } as Partial<jwt.Account>,
        { signer: okp },
      );
      accounts[name] = { publicKey: akp.getPublicKey(), jwt: accountJwt };
    }

    const users: Record<string, UserCreds> = {};
    const addUser = async (id: string, account: string, perms?: { pub?: string[]; sub?: string[]; resp?: boolean }) => {
      const ukp = keyPair(master, nkeys.Prefix.User, `user:${id}`);
      const claims: Partial<jwt.User> = {};
      if (perms) {
        if (perms.pub) claims.pub = { allow: perms.pub, deny: [] };
        if (perms.sub) claims.sub = { allow: perms.sub, deny: [] };
        if (perms.resp) claims.resp = { max: 1, ttl: 0 };
      }
      const userJwt = await jwt.encodeUser(id.replace(/[^A-Za-z0-9_.-]/g, "_"), ukp, akps.get(account)!, claims);
      const seed = new TextDecoder().decode(ukp.getSeed());
      users[id] = {
        id,
        account,
        publicKey: ukp.getPublicKey(),
        jwt: userJwt,
        creds: new TextDecoder().decode(jwt.fmtCreds(userJwt, ukp)),
        seed,
      };
    };
    const app = defaultAccount(spec);
    for (const host of topo.hosts) {
      const perms = hostPermissions(spec, host);
      await addUser(`host:${host.name}`, app, { ...perms, resp: true });
      // Every host's leaf sidecar (in the clouds, direct pools too: wash 2.7 hosts hold no creds) has its own user.
      await addUser(`leaf:${host.name}`, app);
    }
    await addUser("client", app);
    // wasmCloud's runtime-operator schedules through the hub (its subjects are its own: the whole account).
    await addUser("wasmcloud-operator", app);
    await addUser("sys", spec.security.systemAccount);
    for (const a of spec.security.accounts) {
      for (const u of a.users) {
        await addUser(
          `user:${a.name}:${u.name}`,
          a.name,
          u.permissions ? { pub: u.permissions.publish, sub: u.permissions.subscribe, resp: true } : undefined,
        );
      }
    }
    return { operator: { publicKey: okp.getPublicKey(), jwt: operatorJwt }, accounts, systemAccount: sysPub, users };
  });
}
