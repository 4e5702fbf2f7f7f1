import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { leaderSite, metaStepdownRequest, planLeaders, stepdownRequest } from "../../src/compile/leaders";
import { readStackConfig } from "../../src/model/load";
import { topologyOf } from "../../src/model/topology";
import { parseLattice, validateLattice } from "../../src/model/validate";

const raw = () => readStackConfig("stacks/Pulumi.small.yaml") as Record<string, unknown>;

describe("leader placement plan", () => {
  it("small: the stretched bucket's leader and the meta leader are kept at the tie-breaker site; a stream in one cloud is not", () => {
    const spec = parseLattice(raw());
    const plan = planLeaders(spec, topologyOf(spec))!;
    assert.equal(plan.site, "tb");
    assert.equal(plan.meta, true);
    assert.deepEqual(plan.streams, [{ stream: "KV_balances", account: "APP", site: "tb", tags: ["cloud:tb"] }]);
    assert.deepEqual(stepdownRequest(spec, "KV_balances", ["cloud:tb"]), {
      subject: "$JS.hub.API.STREAM.LEADER.STEPDOWN.KV_balances",
      body: '{"placement":{"tags":["cloud:tb"]}}',
    });
    assert.equal(metaStepdownRequest(["cloud:tb"]).subject, "$JS.API.META.LEADER.STEPDOWN");
  });

  it("the spec decides: another site, meta off, or not kept at all", () => {
    const gcp = parseLattice({ ...raw(), jetstream: { leaders: { site: "gcp", meta: false } } });
    const plan = planLeaders(gcp, topologyOf(gcp))!;
    assert.equal(plan.site, "gcp");
    assert.equal(plan.meta, false);
    // PAYMENTS lives in aws (no replica in gcp); its gcp mirror and the stretched bucket have replicas in gcp.
    assert.deepEqual(
      plan.streams.map((s) => s.stream),
      ["PAYMENTS_GCP", "KV_balances"],
    );
    const off = parseLattice({ ...raw(), jetstream: { leaders: { keep: false } } });
    assert.equal(leaderSite(off), undefined);
    assert.equal(planLeaders(off, topologyOf(off)), undefined);
  });

  it("refuses a leader site that is not a site of the lattice, naming the path and the sites", () => {
    const r = validateLattice({ ...raw(), jetstream: { leaders: { site: "azure" } } });
    assert.equal(r.ok, false);
    if (r.ok) return;
    const p = r.problems.find((x) => x.path === "jetstream.leaders.site");
    assert.ok(p, JSON.stringify(r.problems));
    assert.match(JSON.stringify(p), /azure/);
    assert.match(JSON.stringify(p), /aws, gcp, tb/);
  });
});
