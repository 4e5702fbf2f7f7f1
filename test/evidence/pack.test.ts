/**
 * Signed evidence packs: an in-toto Statement in a DSSE envelope signed with Ed25519. Verification refuses a
 * changed file, a statement re-made without the key, and a wrong key; OpenSSL checks the signature on its own.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash, generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { signEnvelope, verifyDrillEvidence, writeDrillEvidence, type Envelope, type WriteResult } from "../../src/drill/pack";
import { rep, run, workload } from "./fixtures";

const tmp = mkdtempSync(path.join(tmpdir(), "lf-pack-"));
const keyDir = path.join(tmp, "state", "keys");
const dir = path.join(tmp, "pack");
let res: WriteResult;

const envelope = (d = dir) => JSON.parse(readFileSync(path.join(d, "manifest.dsse.json"), "utf8")) as Envelope;
const statement = (env: Envelope) =>
  JSON.parse(Buffer.from(env.payload, "base64").toString("utf8")) as {
    _type: string;
    subject: { name: string; digest: { sha256: string } }[];
    predicateType: string;
    predicate: Record<string, unknown>;
  };
const fresh = (name: string): string => {
  const d = path.join(tmp, name);
  spawnSync("cp", ["-r", dir, d]);
  return d;
};
const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

describe("signed evidence packs", () => {
  before(async () => {
    res = await writeDrillEvidence(dir, run([rep([workload("validator", 100, 5000)])]), {}, { keyDir });
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it("the statement lists every file with its SHA-256 and summarizes the drill; the private key is 0600 outside the pack", () => {
    const st = statement(envelope());
    assert.equal(st._type, "https://in-toto.io/Statement/v1");
    assert.equal(envelope().payloadType, "application/vnd.in-toto+json");
    assert.deepEqual(st.subject.map((s) => s.name).sort(), ["evidence.json", "report.html", "report.md", "signing-key.pub"]);
    for (const s of st.subject) assert.equal(s.digest.sha256, sha(readFileSync(path.join(dir, s.name))));
    assert.equal(st.predicate.verdict, "met");
    assert.equal(st.predicate.commit, "abc");
    assert.deepEqual((st.predicate.stack as { configHash: string }).configHash, "sha256:" + "0".repeat(64));
    const keyFile = path.join(keyDir, "evidence-ed25519.pem");
    assert.equal(res.privateKeyFile, keyFile);
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.doesNotMatch(readFileSync(path.join(dir, "signing-key.pub"), "utf8"), /PRIVATE/);
    const der = spawnSync("openssl", ["pkey", "-pubin", "-in", path.join(dir, "signing-key.pub"), "-outform", "DER"]);
    assert.equal(res.keyFingerprint, `sha256:${sha(der.stdout)}`);
    assert.equal(envelope().signatures[0]!.keyid, res.keyFingerprint);
  });

  it("the key is made once: a second pack is signed by the same key", async () => {
    const again = await writeDrillEvidence(path.join(tmp, "again"), run([rep([workload("validator", 100, 5000)])]), {}, { keyDir });
    assert.equal(again.keyFingerprint, res.keyFingerprint);
  });

  it("OpenSSL verifies the Ed25519 signature over the DSSE pre-authentication encoding, and refuses a changed byte", () => {
    const env = envelope();
    const payload = Buffer.from(env.payload, "base64");
    // PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, written out here independently.
    const paeFile = path.join(tmp, "pae.bin");
    writeFileSync(paeFile, Buffer.concat([Buffer.from(`DSSEv1 ${env.payloadType.length} ${env.payloadType} ${payload.length} `), payload]));
    const sigFile = path.join(tmp, "sig.bin");
    writeFileSync(sigFile, Buffer.from(env.signatures[0]!.sig, "base64"));
    const args = [
      "pkeyutl",
      "-verify",
      "-pubin",
      "-inkey",
      path.join(dir, "signing-key.pub"),
      "-rawin",
      "-in",
      paeFile,
      "-sigfile",
      sigFile,
    ];
    const ok = spawnSync("openssl", args, { encoding: "utf8" });
    assert.equal(ok.status, 0, ok.stderr + ok.stdout);
    assert.match(ok.stdout, /Signature Verified Successfully/);
    const pae = readFileSync(paeFile);
    pae[pae.length - 3] = pae[pae.length - 3]! ^ 1;
    writeFileSync(paeFile, pae);
    assert.notEqual(spawnSync("openssl", args, { encoding: "utf8" }).status, 0);
  });

  it("verifies intact with the pack's key and with the trusted key", () => {
    assert.deepEqual(verifyDrillEvidence(dir), []);
    assert.deepEqual(verifyDrillEvidence(dir, { key: path.join(dir, "signing-key.pub") }), []);
  });

  it("refuses a changed file", () => {
    const d = fresh("changed");
    const f = path.join(d, "report.md");
    writeFileSync(f, readFileSync(f, "utf8").replace("MET", "MET!"));
    assert.deepEqual(verifyDrillEvidence(d), ["report.md: changed since the pack was signed (SHA-256 differs from the statement)"]);
  });

  it("refuses a statement re-made without the key (new digests, old signature)", () => {
    const d = fresh("remade");
    const ev = path.join(d, "evidence.json");
    writeFileSync(ev, readFileSync(ev, "utf8").replace('"verdict": "met"', '"verdict": "met" '));
    const env = envelope(d);
    const st = statement(env);
    for (const s of st.subject) s.digest.sha256 = sha(readFileSync(path.join(d, s.name)));
    writeFileSync(
      path.join(d, "manifest.dsse.json"),
      JSON.stringify({ ...env, payload: Buffer.from(JSON.stringify(st)).toString("base64") }),
    );
    const problems = verifyDrillEvidence(d);
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /the signature does not verify with key sha256:[0-9a-f]{64}/);
  });

  it("refuses a pack re-signed with another key when the trusted key is given, and a wrong key", () => {
    const d = fresh("resigned");
    const other = generateKeyPairSync("ed25519");
    const otherPub = path.join(tmp, "other.pub");
    writeFileSync(otherPub, other.publicKey.export({ type: "spki", format: "pem" }));
    const trusted = path.join(tmp, "trusted.pub");
    writeFileSync(trusted, readFileSync(path.join(dir, "signing-key.pub")));
    // The forger replaces the pack's public key and re-signs: the pack's own key then agrees, the trusted one does not.
    writeFileSync(path.join(d, "signing-key.pub"), readFileSync(otherPub));
    const st = statement(envelope(d));
    for (const s of st.subject) s.digest.sha256 = sha(readFileSync(path.join(d, s.name)));
    writeFileSync(path.join(d, "manifest.dsse.json"), JSON.stringify(signEnvelope(st, other.privateKey)));
    assert.deepEqual(verifyDrillEvidence(d), []);
    assert.match(verifyDrillEvidence(d, { key: trusted })[0]!, /the signature does not verify/);
    // The genuine pack checked against a key that did not sign it.
    assert.match(verifyDrillEvidence(dir, { key: otherPub })[0]!, /the signature does not verify with key/);
  });
});
