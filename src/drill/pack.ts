/**
 * The evidence pack on disk: evidence.json (validated against schemas/evidence.schema.json), report.html,
 * report.md and manifest.json with the SHA-256 of every file. `verifyDrillEvidence` detects any later change.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import { REPO_ROOT } from "../model/load";
import type { DrillRunRaw } from "./drill";
import { buildEvidence, type Evidence } from "./evidence";
import { renderHtml, renderMarkdown } from "./report";

export const SCHEMA_FILE = path.join(REPO_ROOT, "schemas", "evidence.schema.json");
const PACK_FILES = ["evidence.json", "report.html", "report.md"];

let validator: ReturnType<Ajv["compile"]> | undefined;
/** Problems of an evidence object against the shipped JSON schema ([] when valid). */
export function validateEvidence(e: unknown): string[] {
  if (!validator) {
    const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
    addFormats(ajv);
    validator = ajv.compile(JSON.parse(readFileSync(SCHEMA_FILE, "utf8")) as object);
  }
  if (validator(e)) return [];
  return (validator.errors ?? []).map(
    (x) =>
      `evidence.json${x.instancePath || ""}: ${x.message}${x.params && "allowedValues" in x.params ? ` (allowed ${(x.params.allowedValues as unknown[]).join(", ")})` : ""}`,
  );
}

function sha256(b: Buffer | string): string {
  return createHash("sha256").update(b).digest("hex");
}

export interface WriteResult {
  readonly evidence: Evidence;
  readonly allMet: boolean;
  readonly summary: string;
  readonly manifestSha256: string;
}

export function summarize(e: Evidence): string {
  const rows = e.objectives.map(
    (o) =>
      `  ${o.verdict.toUpperCase().padEnd(8)} ${o.workload.padEnd(14)} recovery ${o.unrecoveredRepetitions ? "not recovered" : `${Math.round(o.recoveryMs.median ?? 0)} ms (max ${Math.round(o.recoveryMs.max ?? 0)})`} vs objective ${o.rtoObjectiveMs} ms; acknowledged lost ${o.acknowledgedLost ?? "n/a"} (RPO ${o.rpoObjectiveMessages})`,
  );
  const streams = e.reconciliation.map(
    (s) =>
      `  stream ${s.stream}: ${s.acknowledged} acknowledged, ${s.lost} lost in ${s.copy}${s.mirrorLagAtFault !== null ? ` (mirror lag at fault: ${s.mirrorLagAtFault})` : ""}`,
  );
  const why = e.interrupted ? [`  interrupted by ${e.interrupted.by} during ${e.interrupted.step}: measured up to there`] : [];
  return [`Drill "${e.scenario.name}" on stack ${e.stack.name}: ${e.verdict.toUpperCase()}`, ...why, ...rows, ...streams].join("\n");
}

export async function writeDrillEvidence(
  dir: string,
  run: DrillRunRaw,
  tuning: Record<string, string | number> = {},
): Promise<WriteResult> {
  const evidence = buildEvidence(run, tuning);
  const problems = validateEvidence(evidence);
  if (problems.length) throw new Error(`the evidence does not match its schema:\n  ${problems.join("\n  ")}`);
  mkdirSync(dir, { recursive: true });
  const files: Record<string, string> = {
    "evidence.json": JSON.stringify(evidence, null, 2) + "\n",
    "report.html": renderHtml(evidence),
    "report.md": renderMarkdown(evidence),
  };
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
  const manifest = {
    algorithm: "sha256",
    createdAt: new Date().toISOString(),
    schema: `schemas/evidence.schema.json (sha256 ${sha256(readFileSync(SCHEMA_FILE))})`,
    files: Object.fromEntries(Object.entries(files).map(([name, content]) => [name, sha256(content)])),
  };
  const manifestText = JSON.stringify(manifest, null, 2) + "\n";
  writeFileSync(path.join(dir, "manifest.json"), manifestText);
  return { evidence, allMet: evidence.verdict === "met", summary: summarize(evidence), manifestSha256: sha256(manifestText) };
}

/** Every problem with a pack: missing, extra or changed files, and schema violations ([] when intact). */
export function verifyDrillEvidence(dir: string): string[] {
  const problems: string[] = [];
  const mf = path.join(dir, "manifest.json");
  if (!existsSync(mf)) return [`${dir}: no manifest.json`];
  let manifest: { files?: Record<string, string> };
  try {
    manifest = JSON.parse(readFileSync(mf, "utf8")) as typeof manifest;
  } catch (e) {
    return [`manifest.json: not valid JSON (${(e as Error).message})`];
  }
  const listed = manifest.files ?? {};
  for (const name of PACK_FILES) if (!(name in listed)) problems.push(`manifest.json does not list ${name}`);
  for (const [name, hash] of Object.entries(listed)) {
    const f = path.join(dir, name);
    if (!existsSync(f)) problems.push(`${name}: missing`);
    else if (sha256(readFileSync(f)) !== hash)
      problems.push(`${name}: changed since the pack was written (SHA-256 differs from the manifest)`);
  }
  for (const name of readdirSync(dir)) if (name !== "manifest.json" && !(name in listed)) problems.push(`${name}: not in the manifest`);
  if (existsSync(path.join(dir, "evidence.json"))) {
    try {
      problems.push(...validateEvidence(JSON.parse(readFileSync(path.join(dir, "evidence.json"), "utf8"))));
    } catch (e) {
      problems.push(`evidence.json: not valid JSON (${(e as Error).message})`);
    }
  }
  return problems;
}
