/**
 * Validation of a lattice spec: shape (zod) and cross-field rules, every problem reported at once
 * as `<property path>: <what is wrong> (got <value>; allowed <...>)`. Pure.
 */
import type { z } from "zod";
import { LatticeSchema, type LatticeSpec } from "./schema";
import { accessProblems } from "./access";
import { drillProblems } from "./drills";
import { hostPoolProblems } from "./hostPoolRules";
import type { Add } from "./rules";
import { securityProblems } from "./securityRules";
import { cloudProblems, quorumProblems, siteProblems } from "./siteRules";
import { streamProblems, leaderProblems } from "./streamRules";
import { topologyOf } from "./topology";
import { workloadProblems } from "./workloadRules";

export { subjectProblem } from "./rules";

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

/** Cross-field rules, one checker per section of the spec. */
function semanticProblems(spec: LatticeSpec): Problem[] {
  const out: Problem[] = [];
  const add: Add = (path, message, got, allowed) => out.push({ path, message, got, allowed });
  const topo = topologyOf(spec);
  siteProblems(spec, add);
  cloudProblems(spec, add);
  hostPoolProblems(spec, add);
  securityProblems(spec, add);
  streamProblems(spec, topo, add);
  leaderProblems(spec, topo, add);
  workloadProblems(spec, add);
  quorumProblems(spec, topo, add);
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
