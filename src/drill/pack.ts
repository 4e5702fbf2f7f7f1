/**
 * The evidence pack on disk: evidence.json (validated against schemas/evidence.schema.json), report.html,
 * report.md, the signer's public key, and manifest.dsse.json: an in-toto Statement (every file with its
 * SHA-256; the drill's summary as predicate) in a DSSE envelope signed with Ed25519. The private key is made
 * once and kept 0600 outside the pack. `verifyDrillEvidence` refuses a changed file, a statement re-made
 * without the key, and a wrong key.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import { REPO_ROOT } from "../model/load";
import type { DrillRunRaw } from "./drill";
import { buildEvidence, type Evidence } from "./evidence";
import { recoveryText, renderHtml, renderMarkdown, verdictLine } from "./report";
import type { Outcome } from "./verdict";

export const SCHEMA_FILE = path.join(REPO_ROOT, "schemas", "evidence.schema.json");
const PACK_FILES = ["evidence.json", "report.html", "report.md", "signing-key.pub"];
export const ENVELOPE_FILE = "manifest.dsse.json";
export const PAYLOAD_TYPE = "application/vnd.in-toto+json";
export const STATEMENT_TYPE = "https://in-toto.io/Statement/v1";
export const PREDICATE_TYPE = "https://latticeform.dev/drill-summary/v1";

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
  readonly outcome: Outcome;
  readonly summary: string;
  readonly envelopeSha256: string;
  /** `sha256:<hex>` of the signer's public key (SubjectPublicKeyInfo DER). */
  readonly keyFingerprint: string;
  readonly privateKeyFile: string;
}

/** Where the signing key lives: the user's state dir, never the pack. */
export function defaultKeyDir(): string {
  return path.join(process.env.LATTICEFORM_STATE_DIR ?? path.join(REPO_ROOT, ".latticeform"), "keys");
}

export function fingerprint(pub: KeyObject): string {
  return (
    "sha256:" +
    createHash("sha256")
      .update(pub.export({ type: "spki", format: "der" }))
      .digest("hex")
  );
}

/** The Ed25519 evidence-signing key: made once (private key 0600), then reused so every pack has one signer. */
export function signingKey(keyDir = defaultKeyDir()): { privateKey: KeyObject; publicKey: KeyObject; file: string } {
  const file = path.join(keyDir, "evidence-ed25519.pem");
  if (!existsSync(file)) {
    mkdirSync(keyDir, { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync("ed25519");
    writeFileSync(file, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600, flag: "wx" });
  }
  chmodSync(file, 0o600);
  const privateKey = createPrivateKey(readFileSync(file));
  return { privateKey, publicKey: createPublicKey(privateKey), file };
}

/** DSSE pre-authentication encoding: what is signed (https://github.com/secure-systems-lab/dsse/blob/master/protocol.md). */
export function pae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, "utf8");
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

export interface Envelope {
  readonly payloadType: string;
  readonly payload: string;
  readonly signatures: readonly { readonly keyid: string; readonly sig: string }[];
}

function statementOf(files: Record<string, string | Buffer>, e: Evidence): object {
  return {
    _type: STATEMENT_TYPE,
    subject: Object.entries(files).map(([name, content]) => ({ name, digest: { sha256: sha256(content) } })),
    predicateType: PREDICATE_TYPE,
    predicate: {
      stack: e.stack,
      commit: e.versions.gitCommit,
      scenario: { id: e.scenario.id, name: e.scenario.name, repetitions: e.repetitions.length },
      verdict: e.verdict,
      verdictReason: e.verdictReason,
      objectives: e.objectives.map((o) => ({ workload: o.workload, rto: o.rtoVerdict, rpo: o.rpoVerdict, verdict: o.verdict })),
      schema: { file: "schemas/evidence.schema.json", sha256: sha256(readFileSync(SCHEMA_FILE)) },
      startedAt: e.startedAt,
      finishedAt: e.finishedAt,
    },
  };
}

export function signEnvelope(statement: object, privateKey: KeyObject): Envelope {
  const payload = Buffer.from(JSON.stringify(statement));
  const sig = sign(null, pae(PAYLOAD_TYPE, payload), privateKey);
  return {
    payloadType: PAYLOAD_TYPE,
    payload: payload.toString("base64"),
    signatures: [{ keyid: fingerprint(createPublicKey(privateKey)), sig: sig.toString("base64") }],
  };
}

export function summarize(e: Evidence): string {
  const rows = e.objectives.map(
    (o) =>
      `  ${o.verdict.toUpperCase().padEnd(12)} ${o.workload.padEnd(14)} recovery ${recoveryText(o)} vs objective ${o.rtoObjectiveMs} ms; acknowledged lost ${o.acknowledgedLost ?? "n/a"} (RPO ${o.rpoObjectiveMessages}, ${o.rpoVerdict})`,
  );
  const streams = e.reconciliation.map((s) =>
    s.error
      ? `  stream ${s.stream} (repetition ${s.repetition + 1}): NOT RECONCILED (${s.error})`
      : `  stream ${s.stream} (repetition ${s.repetition + 1}): ${s.acknowledged} acknowledged, ${s.lost} lost, ${s.duplicated} duplicated, ${s.outOfOrder} out of order in ${s.copy}${s.mirrorLagAtFault !== null ? ` (mirror lag at fault: ${s.mirrorLagAtFault})` : ""}`,
  );
  const fired = e.verdictFindings.map((f) => `  ${f.outcome.toUpperCase()} [${f.rule}] ${f.reason}`);
  return [`Drill "${e.scenario.name}" on stack ${e.stack.name}: ${verdictLine(e)}`, ...rows, ...streams, ...fired].join("\n");
}

export async function writeDrillEvidence(
  dir: string,
  run: DrillRunRaw,
  tuning: Record<string, string | number> = {},
  opts: { keyDir?: string } = {},
): Promise<WriteResult> {
  const evidence = buildEvidence(run, tuning);
  const problems = validateEvidence(evidence);
  if (problems.length) throw new Error(`the evidence does not match its schema:\n  ${problems.join("\n  ")}`);
  const key = signingKey(opts.keyDir);
  mkdirSync(dir, { recursive: true });
  const files: Record<string, string> = {
    "evidence.json": JSON.stringify(evidence, null, 2) + "\n",
    "report.html": renderHtml(evidence),
    "report.md": renderMarkdown(evidence),
    "signing-key.pub": key.publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
  const envelopeText = JSON.stringify(signEnvelope(statementOf(files, evidence), key.privateKey), null, 2) + "\n";
  writeFileSync(path.join(dir, ENVELOPE_FILE), envelopeText);
  return {
    evidence,
    outcome: evidence.verdict,
    summary: summarize(evidence),
    envelopeSha256: sha256(envelopeText),
    keyFingerprint: fingerprint(key.publicKey),
    privateKeyFile: key.file,
  };
}

function readJson<T>(file: string, what: string): T {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as T;
  } catch (e) {
    throw new Error(`${what}: not valid JSON (${(e as Error).message})`);
  }
}

/** The statement, if its signature verifies with `pub`; otherwise why not. */
function openEnvelope(
  env: Envelope,
  pub: KeyObject,
): { statement?: { subject?: { name: string; digest: { sha256: string } }[] }; problem?: string } {
  if (env.payloadType !== PAYLOAD_TYPE) return { problem: `${ENVELOPE_FILE}: payloadType is ${env.payloadType}, expected ${PAYLOAD_TYPE}` };
  const payload = Buffer.from(env.payload ?? "", "base64");
  const ok = (env.signatures ?? []).some((s) => {
    try {
      return verify(null, pae(env.payloadType, payload), pub, Buffer.from(s.sig, "base64"));
    } catch {
      return false;
    }
  });
  if (!ok)
    return {
      problem: `${ENVELOPE_FILE}: the signature does not verify with key ${fingerprint(pub)} (re-made without the key, or signed by another key)`,
    };
  const statement = JSON.parse(payload.toString("utf8")) as { _type?: string; subject?: { name: string; digest: { sha256: string } }[] };
  if (statement._type !== STATEMENT_TYPE) return { problem: `${ENVELOPE_FILE}: not an in-toto Statement v1` };
  return { statement };
}

/**
 * Every problem with a pack ([] when intact): a signature that does not verify with the given public key (or,
 * without one, the pack's own), missing, extra or changed files, schema violations.
 */
export function verifyDrillEvidence(dir: string, opts: { key?: string } = {}): string[] {
  const envFile = path.join(dir, ENVELOPE_FILE);
  if (!existsSync(envFile)) return [`${dir}: no ${ENVELOPE_FILE}`];
  const packKey = path.join(dir, "signing-key.pub");
  const keyFile = opts.key ?? packKey;
  if (!existsSync(keyFile)) return [`${keyFile}: no public key to verify with`];
  let pub: KeyObject;
  let env: Envelope;
  try {
    pub = createPublicKey(readFileSync(keyFile));
    env = readJson<Envelope>(envFile, ENVELOPE_FILE);
  } catch (e) {
    return [String((e as Error).message)];
  }
  const { statement, problem } = openEnvelope(env, pub);
  if (problem) return [problem];
  const problems: string[] = [];
  const listed = Object.fromEntries((statement!.subject ?? []).map((s) => [s.name, s.digest.sha256]));
  for (const name of PACK_FILES) if (!(name in listed)) problems.push(`${ENVELOPE_FILE} does not list ${name}`);
  for (const [name, hash] of Object.entries(listed)) {
    const f = path.join(dir, name);
    if (!existsSync(f)) problems.push(`${name}: missing`);
    else if (sha256(readFileSync(f)) !== hash)
      problems.push(`${name}: changed since the pack was signed (SHA-256 differs from the statement)`);
  }
  for (const name of readdirSync(dir)) if (name !== ENVELOPE_FILE && !(name in listed)) problems.push(`${name}: not in the statement`);
  if (existsSync(path.join(dir, "evidence.json"))) {
    try {
      problems.push(...validateEvidence(readJson(path.join(dir, "evidence.json"), "evidence.json")));
    } catch (e) {
      problems.push(String((e as Error).message));
    }
  }
  return problems;
}
