import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HOSTGROUP_LABEL, hostGroupOf, hostGroupsOfCloud, hostSelectorOf } from "../../src/compile/hostgroup";
import { readStackConfig } from "../../src/model/load";
import { formatProblem, validateLattice } from "../../src/model/validate";

type Mutable = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function problems(input: unknown): string[] {
  const r = validateLattice(input);
  return r.ok ? [] : r.problems.map(formatProblem);
}

describe("host groups (the label wash hosts advertise)", () => {
  it("names a pool <cloud>-<pool> and selects it by the hostgroup label", () => {
    assert.equal(hostGroupOf("aws", "edge"), "aws-edge");
    assert.deepEqual(hostSelectorOf("gcp", "core"), { [HOSTGROUP_LABEL]: "gcp-core" });
    assert.equal(HOSTGROUP_LABEL, "hostgroup");
    const spec = { clouds: [{ name: "aws", hostPools: [{ name: "a" }, { name: "b" }] }] };
    assert.deepEqual(hostGroupsOfCloud(spec, "aws"), ["aws-a", "aws-b"]);
    assert.deepEqual(hostGroupsOfCloud(spec, "gcp"), []);
  });

  it("refuses host groups that collide or are too long for a label value", () => {
    const s = structuredClone(readStackConfig("stacks/Pulumi.small.yaml")) as Mutable;
    s.clouds[0].name = "a-b";
    s.clouds[1].name = "a";
    s.clouds[0].hostPools = [{ name: "c" }];
    s.clouds[1].hostPools = [{ name: "b-c" }, { name: "p".repeat(32) }];
    const got = problems(s);
    assert.ok(
      got.some((p) =>
        p.startsWith(
          "clouds[1].hostPools[0].name: host group a-b-c (<cloud>-<pool>) is also the host group of clouds[0].hostPools[0].name",
        ),
      ),
      got.join("\n"),
    );
    assert.equal(got.filter((p) => p.includes("longer than a label value")).length, 0, "a-<32 chars> fits in 63");
    s.clouds[1].name = "x".repeat(32);
    assert.ok(problems(s).some((p) => p.startsWith("clouds[1].hostPools[1].name: host group") && p.includes("longer than a label value")));
  });
});
