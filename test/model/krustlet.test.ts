import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readStackConfig } from "../../src/model/load";
import type { LatticeInput } from "../../src/model/schema";
import { formatProblem, validateLattice } from "../../src/model/validate";
import { VOUCHED_KRUSTLET, withVouchedKrustlet } from "../fixtures/krustlet";

function problems(input: unknown): string[] {
  const r = validateLattice(input);
  return r.ok ? [] : r.problems.map(formatProblem);
}

const prod = () => readStackConfig("stacks/Pulumi.prod.yaml") as LatticeInput;

describe("Krustlet pools on the Kubernetes versions latticeform deploys", () => {
  it("refuses a krustlet pool without a vouched-for build, naming the removed CSR API and the maintained alternative", () => {
    const input = withVouchedKrustlet(prod());
    for (const c of input.clouds) for (const p of c.nodePools ?? []) delete (p as { krustletBuild?: unknown }).krustletBuild;
    const got = problems(input);
    const refusal = got.find((p) => p.startsWith("clouds[0].nodePools[1].kind:"));
    assert.ok(refusal, got.join("\n"));
    assert.match(refusal, /certificates\.k8s\.io\/v1beta1 CSR API, removed in Kubernetes 1\.22/);
    assert.match(refusal, /allowed runtime-class/);
    assert.match(refusal, /krustletBuild \{ url, sha256, vouchedBy \}/);
    assert.ok(got.some((p) => p.startsWith("clouds[1].nodePools[1].kind:")));
  });

  it("admits one with a build (https URL, SHA-256, who vouches); the example stacks validate; a build on a runtime-class pool is refused", () => {
    assert.deepEqual(problems(withVouchedKrustlet(prod())), []);
    for (const s of ["small", "prod", "noncompliant"]) assert.deepEqual(problems(readStackConfig(`stacks/Pulumi.${s}.yaml`)), [], s);
    const bad = withVouchedKrustlet(prod());
    (bad.clouds[0]!.nodePools![1] as { krustletBuild?: unknown }).krustletBuild = { url: "http://x/k.tgz", sha256: "abc", vouchedBy: "me" };
    const got = problems(bad);
    assert.ok(
      got.some((p) => p.startsWith("clouds[0].nodePools[1].krustletBuild.url: invalid URL")),
      got.join("\n"),
    );
    assert.ok(
      got.some((p) => p.startsWith("clouds[0].nodePools[1].krustletBuild.sha256: invalid SHA-256")),
      got.join("\n"),
    );
    assert.ok(
      got.some((p) => p.startsWith("clouds[0].nodePools[1].krustletBuild.vouchedBy: too small")),
      got.join("\n"),
    );
    const onShim = withVouchedKrustlet(prod());
    (onShim.clouds[1]!.nodePools![0] as { krustletBuild?: unknown }).krustletBuild = { ...VOUCHED_KRUSTLET };
    const shim = problems(onShim);
    assert.ok(
      shim.some((p) => p.startsWith("clouds[1].nodePools[0].krustletBuild: krustletBuild applies to krustlet pools")),
      shim.join("\n"),
    );
  });
});
