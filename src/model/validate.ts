/**
 * Validation of a lattice spec: shape (zod) and cross-field rules, every problem reported at once
 * as `<property path>: <what is wrong> (got <value>; allowed <...>)`. Pure.
 */
import type { z } from "zod";
import { isZoneOf, regionsOf, zonePattern } from "./regions";
import { LatticeSchema, type LatticeSpec } from "./schema";
import { accessProblems } from "./access";
import { drillProblems } from "./drills";
import { hostGroupOf, MAX_HOSTGROUP_LENGTH } from "../compile/hostgroup";
import { metaQuorumRisks, topologyOf } from "./topology";

export interface Problem {
  readonly path: string;
  readonly message: string;
  readonly got: unknown;
  readonly allowed: string;
}

export type ValidationResult = { ok: true; spec: LatticeSpec } | { ok: false; problems: Problem[] };

export class SpecError extends Error {
  constructor(readonly problems: readonly Problem[]) {
    super(
      `invalid lattice spec (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => "  " + formatProblem(p)).join("\n"),
    );
    this.name = "SpecError";
  }
}

export function pathString(path: readonly PropertyKey[]): string {
  let out = "";
  for (const seg of path) out += typeof seg === "number" ? `[${seg}]` : out === "" ? String(seg) : `.${String(seg)}`;
  return out === "" ? "(root)" : out;
}

function show(v: unknown): string {
  if (v === undefined) return "nothing";
  const s = JSON.stringify(v);
  return s.length > 80 ? s.slice(0, 77) + "..." : s;
}

export function formatProblem(p: Problem): string {
  return `${p.path}: ${p.message} (got ${show(p.got)}; allowed ${p.allowed})`;
}

function getAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const seg of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return cur;
}

function shapeKeys(path: readonly PropertyKey[]): string {
  // Walk the zod schema along the path to list the keys an object allows.
  let s: unknown = LatticeSchema;
  const unwrap = (x: unknown): unknown => {
    let cur = x as { def?: { type?: string; innerType?: unknown; element?: unknown; options?: unknown[] } };
    for (let i = 0; i < 10 && cur?.def; i++) {
      const t = cur.def.type;
      if (t === "default" || t === "optional" || t === "nullable" || t === "prefault") cur = cur.def.innerType as typeof cur;
      else break;
    }
    return cur;
  };
  for (const seg of path) {
    const cur = unwrap(s) as {
      def?: { type?: string; element?: unknown; shape?: Record<string, unknown> };
      shape?: Record<string, unknown>;
    };
    if (typeof seg === "number" && cur.def?.type === "array") s = cur.def.element;
    else if (cur.shape && typeof seg === "string") s = cur.shape[seg];
    else return "the documented keys";
  }
  const fin = unwrap(s) as { shape?: Record<string, unknown> };
  return fin.shape ? Object.keys(fin.shape).join(", ") : "the documented keys";
}

/** Values a discriminated union's discriminator allows, when zod reports an unknown one (e.g. a fault's kind). */
function discriminatorOptions(issue: z.core.$ZodIssue): string[] | undefined {
  if (issue.code !== "invalid_union") return undefined;
  const options = (issue as { options?: unknown }).options;
  return Array.isArray(options) && options.length ? options.map(String) : undefined;
}

function zodProblems(issues: readonly z.core.$ZodIssue[], input: unknown): Problem[] {
  const out: Problem[] = [];
  for (const issue of issues) {
    const path = issue.path as PropertyKey[];
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        out.push({ path: pathString([...path, key]), message: "unknown key", got: key, allowed: shapeKeys(path) });
      }
      continue;
    }
    const got = getAt(input, path);
    if (issue.code === "invalid_value") {
      out.push({ path: pathString(path), message: "invalid value", got, allowed: issue.values.map((v) => String(v)).join(", ") });
    } else if (issue.code === "invalid_type") {
      out.push({
        path: pathString(path),
        message: got === undefined ? "required" : `expected ${issue.expected}`,
        got,
        allowed: `a ${issue.expected}`,
      });
    } else if (issue.code === "invalid_format" || issue.code === "custom") {
      const [message, allowed] = issue.message.includes("|") ? issue.message.split("|") : [issue.message, "see the docs"];
      out.push({ path: pathString(path), message: message!, got, allowed: allowed! });
    } else if (issue.code === "too_small" || issue.code === "too_big") {
      const bound = String(issue.code === "too_small" ? issue.minimum : issue.maximum);
      const what = issue.origin === "array" ? "items" : issue.origin === "string" ? "characters" : "";
      const allowedText = `${issue.code === "too_small" ? "at least" : "at most"} ${bound}${what ? " " + what : ""}`;
      out.push({ path: pathString(path), message: issue.code === "too_small" ? "too small" : "too large", got, allowed: allowedText });
    } else if (discriminatorOptions(issue)) {
      out.push({ path: pathString(path), message: "invalid value", got, allowed: discriminatorOptions(issue)!.join(", ") });
    } else if (issue.code === "invalid_union") {
      out.push({ path: pathString(path), message: "matches none of the allowed forms", got, allowed: unionHint(path) });
    } else {
      out.push({ path: pathString(path), message: issue.message, got, allowed: "see the docs" });
    }
  }
  return out;
}

function unionHint(path: readonly PropertyKey[]): string {
  const last = path[path.length - 1];
  if (last === "artifact") return '{ path: "<file>.wasm" } or { oci: "<registry>/<repo>@sha256:<digest>" }';
  if (last === "failover") return '{ mode: "active-active" } or { mode: "active-passive", primary: <cloud> }';
  if (typeof last === "string" && ["client", "cluster", "gateway", "leafnode"].includes(last)) return "{ verify: true|false }";
  return "one of the documented forms";
}

/** Replace the values zod rejected (drop unknown keys, first allowed value, defaults) to check cross-field rules on a broken spec. */
function repair(input: unknown, issues: readonly z.core.$ZodIssue[]): unknown {
  const clone = structuredClone(input) as Record<PropertyKey, unknown>;
  const placeholder: Record<string, unknown> = { string: "x", number: 1, boolean: false, array: [], object: {} };
  for (const issue of issues) {
    const path = issue.path as PropertyKey[];
    if (issue.code === "unrecognized_keys") {
      const parent = getAt(clone, path) as Record<string, unknown> | undefined;
      if (parent) for (const k of issue.keys) delete parent[k];
      continue;
    }
    if (path.length === 0) continue;
    const parent = getAt(clone, path.slice(0, -1)) as Record<PropertyKey, unknown> | undefined;
    if (!parent || typeof parent !== "object") continue;
    const key = path[path.length - 1]!;
    if (issue.code === "invalid_value" && issue.values.length) parent[key] = issue.values[0];
    else if (discriminatorOptions(issue)) parent[key] = discriminatorOptions(issue)![0];
    else if (issue.code === "invalid_type" && parent[key] === undefined) parent[key] = placeholder[issue.expected] ?? {};
    else delete parent[key];
  }
  return clone;
}

const SUBJECT_TOKEN = /^[^\s.*>]+$/;

/** NATS subject rules: no whitespace, no empty tokens, `*` a whole token, `>` only as the last token. */
export function subjectProblem(subject: string, wildcards: boolean): string | undefined {
  if (subject.length === 0) return "empty subject";
  if (/\s/.test(subject)) return "subject contains whitespace";
  const tokens = subject.split(".");
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t === "") return "subject has an empty token";
    if (t === "*" || t === ">") {
      if (!wildcards) return "wildcards are not allowed here";
      if (t === ">" && i !== tokens.length - 1) return "'>' must be the last token";
      continue;
    }
    if (!SUBJECT_TOKEN.test(t)) return "wildcard inside a token";
  }
  return undefined;
}

function semanticProblems(spec: LatticeSpec): Problem[] {
  const out: Problem[] = [];
  const add = (path: string, message: string, got: unknown, allowed: string) => out.push({ path, message, got, allowed });
  const dupes = <T>(items: readonly T[], key: (t: T) => string, path: (i: number) => string, what: string) => {
    const seen = new Map<string, number>();
    items.forEach((it, i) => {
      const k = key(it);
      if (seen.has(k)) add(path(i), `duplicate ${what} (first at index ${seen.get(k)})`, k, `a ${what} not used before`);
      else seen.set(k, i);
    });
  };

  const cloudNames = spec.clouds.map((c) => c.name);
  dupes(
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
      cloud.hostPools,
      (h) => h.name,
      (i) => `${p}.hostPools[${i}].name`,
      "host pool name",
    );
    dupes(
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

  // Host groups: the one label wash hosts advertise, so it must be a label value and name one pool only.
  const groups = new Map<string, string>();
  spec.clouds.forEach((cloud, ci) =>
    cloud.hostPools.forEach((pool, pi) => {
      const path = `clouds[${ci}].hostPools[${pi}].name`;
      const group = hostGroupOf(cloud.name, pool.name);
      if (group.length > MAX_HOSTGROUP_LENGTH)
        add(
          path,
          `host group ${group} (<cloud>-<pool>) is longer than a label value may be`,
          pool.name,
          `a name keeping it at most ${MAX_HOSTGROUP_LENGTH} characters`,
        );
      const other = groups.get(group);
      if (other)
        add(
          path,
          `host group ${group} (<cloud>-<pool>) is also the host group of ${other}`,
          pool.name,
          "a pool name whose host group no other pool has",
        );
      else groups.set(group, path);
    }),
  );

  // Accounts
  const sec = spec.security;
  const accountNames = sec.accounts.map((a) => a.name);
  dupes(
    sec.accounts,
    (a) => a.name,
    (i) => `security.accounts[${i}].name`,
    "account name",
  );
  if (accountNames.includes(sec.systemAccount)) {
    add(
      "security.systemAccount",
      "the system account must not be one of the application accounts",
      sec.systemAccount,
      `a name other than ${accountNames.join(", ")}`,
    );
  }
  sec.accounts.forEach((a, ai) => {
    dupes(
      a.users,
      (u) => u.name,
      (i) => `security.accounts[${ai}].users[${i}].name`,
      "user name",
    );
    a.users.forEach((u, ui) => {
      for (const dir of ["publish", "subscribe"] as const) {
        (u.permissions?.[dir] ?? []).forEach((s, si) => {
          const why = subjectProblem(s, true);
          if (why)
            add(`security.accounts[${ai}].users[${ui}].permissions.${dir}[${si}]`, why, s, "a NATS subject such as orders.* or orders.>");
        });
      }
    });
    a.exports.forEach((e, ei) => {
      const why = subjectProblem(e.subject, true);
      if (why) add(`security.accounts[${ai}].exports[${ei}].subject`, why, e.subject, "a NATS subject");
    });
    a.imports.forEach((im, ii) => {
      if (!accountNames.includes(im.account) || im.account === a.name)
        add(
          `security.accounts[${ai}].imports[${ii}].account`,
          "imports from an undeclared account",
          im.account,
          accountNames.filter((n) => n !== a.name).join(", ") || "another declared account",
        );
      const why = subjectProblem(im.subject, true);
      if (why) add(`security.accounts[${ai}].imports[${ii}].subject`, why, im.subject, "a NATS subject");
    });
  });
  if (sec.requireTls) {
    for (const port of ["client", "cluster", "gateway", "leafnode"] as const) {
      if (sec.tls[port] === false)
        add(
          `security.tls.${port}`,
          "TLS is required on every NATS port",
          false,
          "a TLS block such as { verify: true }, or security.requireTls: false",
        );
    }
  }
  const acctOf = (a: string | undefined, path: string) => {
    if (a !== undefined && !accountNames.includes(a)) add(path, "not a declared account", a, accountNames.join(", "));
  };

  // Streams and buckets
  const topo = topologyOf(spec);
  const clusterSizes = new Map(topo.clusters.map((c) => [c.name, c.servers.length]));
  const placeable = [...clusterSizes.keys()];
  const checkPlacement = (item: { replicas: number; placement: { cluster: string }; mirrors: string[] }, p: string) => {
    const size = clusterSizes.get(item.placement.cluster);
    if (size === undefined)
      add(
        `${p}.placement.cluster`,
        "not a declared cloud, stretched cluster or tie-breaker site",
        item.placement.cluster,
        placeable.join(", "),
      );
    if (item.replicas > 5) add(`${p}.replicas`, "JetStream keeps at most 5 replicas", item.replicas, "1..5");
    else if (size !== undefined && item.replicas > size)
      add(`${p}.replicas`, `more replicas than cluster "${item.placement.cluster}" has servers`, item.replicas, `1..${size}`);
    item.mirrors.forEach((m, mi) => {
      if (!cloudNames.includes(m)) add(`${p}.mirrors[${mi}]`, "mirror into an undeclared cloud", m, cloudNames.join(", "));
      else if (m === item.placement.cluster)
        add(
          `${p}.mirrors[${mi}]`,
          "a mirror into the stream's own cloud survives nothing",
          m,
          cloudNames.filter((c) => c !== m).join(", ") || "another cloud",
        );
    });
    dupes(
      item.mirrors,
      (m) => m,
      (mi) => `${p}.mirrors[${mi}]`,
      "mirror cloud",
    );
  };
  const streamNames = spec.streams.map((s) => s.name);
  dupes(
    [...spec.streams.map((s) => s.name), ...spec.kv.map((k) => `KV_${k.bucket}`)],
    (n) => n,
    (i) => (i < spec.streams.length ? `streams[${i}].name` : `kv[${i - spec.streams.length}].bucket`),
    "stream name",
  );
  spec.streams.forEach((s, si) => {
    checkPlacement(s, `streams[${si}]`);
    acctOf(s.account, `streams[${si}].account`);
    s.subjects.forEach((sub, i) => {
      const why = subjectProblem(sub, true);
      if (why) add(`streams[${si}].subjects[${i}]`, why, sub, "a NATS subject such as ledger.> (no spaces; '*' a whole token; '>' last)");
    });
  });
  void streamNames;
  spec.kv.forEach((k, ki) => {
    checkPlacement(k, `kv[${ki}]`);
    acctOf(k.account, `kv[${ki}].account`);
  });

  // Workloads
  dupes(
    spec.workloads,
    (w) => w.name,
    (i) => `workloads[${i}].name`,
    "workload name",
  );
  const buckets = spec.kv.map((k) => k.bucket);
  spec.workloads.forEach((w, wi) => {
    const p = `workloads[${wi}]`;
    const why = subjectProblem(w.subject, false);
    if (why) add(`${p}.subject`, why, w.subject, "a literal NATS subject such as payments.validate");
    acctOf(w.account, `${p}.account`);
    if (w.kv !== undefined && !buckets.includes(w.kv))
      add(`${p}.kv`, "not a declared KV bucket", w.kv, buckets.join(", ") || "a bucket declared under kv");
    if (w.instances && w.spread) add(`${p}.spread`, "give instances or spread, not both", w.spread, "instances or spread");
    for (const [key, map] of [
      ["instances", w.instances],
      ["spread.weights", w.spread?.weights],
    ] as const) {
      for (const c of Object.keys(map ?? {}))
        if (!cloudNames.includes(c)) add(`${p}.${key}.${c}`, "not a declared cloud", c, cloudNames.join(", "));
    }
    const placed = w.instances
      ? Object.keys(w.instances).filter((c) => w.instances![c]! > 0)
      : w.spread
        ? Object.keys(w.spread.weights).filter((c) => w.spread!.weights[c]! > 0)
        : cloudNames;
    const fo = w.failover;
    if (fo.mode === "active-passive") {
      if (!cloudNames.includes(fo.primary)) add(`${p}.failover.primary`, "not a declared cloud", fo.primary, cloudNames.join(", "));
      else if (cloudNames.length < 2 || (placed.filter((c) => c !== fo.primary).length === 0 && fo.warmStandby === 0)) {
        add(
          `${p}.failover`,
          "active-passive needs a standby in a second cloud",
          w.failover,
          cloudNames.length < 2 ? "active-active on a one-cloud lattice" : "a second placed cloud or warmStandby >= 1",
        );
      }
    }
    // The runtime must exist where the workload is placed.
    for (const c of placed) {
      const cloud = spec.clouds.find((x) => x.name === c);
      if (!cloud) continue;
      const ok =
        w.runtime === "wasmcloud"
          ? cloud.hostPools.length > 0
          : w.runtime === "krustlet"
            ? cloud.nodePools.some((n) => n.kind === "krustlet")
            : cloud.nodePools.some((n) => n.kind === "runtime-class" && n.runtime === "wasmedge");
      if (!ok) {
        const needs =
          w.runtime === "wasmcloud"
            ? "a host pool"
            : w.runtime === "krustlet"
              ? "a krustlet node pool"
              : "a runtime-class node pool with runtime wasmedge";
        add(`${p}.runtime`, `cloud "${c}" has no ${needs} to run it`, w.runtime, `a runtime cloud "${c}" provides, or add ${needs} there`);
      }
    }
  });

  // The JetStream meta group must keep a majority when any one cloud is lost.
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
  drillProblems(spec, topo, add);
  accessProblems(spec, add);
  return out;
}

/** Validate once: shape, then cross-field rules; every problem at once. */
export function validateLattice(input: unknown): ValidationResult {
  const parsed = LatticeSchema.safeParse(input);
  if (parsed.success) {
    const problems = semanticProblems(parsed.data);
    return problems.length ? { ok: false, problems } : { ok: true, spec: parsed.data };
  }
  const problems = zodProblems(parsed.error.issues, input);
  // Check cross-field rules on the repaired spec as well, so one run reports everything it can.
  let repaired: unknown = input;
  let issues = parsed.error.issues;
  for (let i = 0; i < 5; i++) {
    repaired = repair(repaired, issues);
    const again = LatticeSchema.safeParse(repaired);
    if (again.success) {
      // Skip rules about values that were replaced while repairing: their problem is already reported.
      const known = problems.map((p) => p.path);
      const covered = (path: string) => known.some((k) => path === k || path.startsWith(k + ".") || path.startsWith(k + "["));
      for (const p of semanticProblems(again.data)) if (!covered(p.path)) problems.push(p);
      break;
    }
    issues = again.error.issues;
  }
  return { ok: false, problems };
}

/** Validate or throw a `SpecError` listing every problem. */
export function parseLattice(input: unknown): LatticeSpec {
  const r = validateLattice(input);
  if (!r.ok) throw new SpecError(r.problems);
  return r.spec;
}
