import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { readStackConfig } from "../../src/model/load";
import { fakeState, valueOf } from "./harness";

const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };

describe("the Pulumi program (index.ts)", () => {
  it("reads latticeform:lattice from the stack config, builds one Lattice, exports endpoints and a secret kubeconfig per cloud", async () => {
    const types: string[] = [];
    await pulumi.runtime.setMocks(
      {
        newResource(a) {
          types.push(a.type);
          const state = fakeState(a.type, a.name, a.inputs as Record<string, unknown>);
          if (a.type === "kubernetes:core/v1:Service") state.status = { loadBalancer: { ingress: [{ ip: "35.0.0.9" }] } };
          return { id: `${a.name}-id`, state };
        },
        call: (a) => a.inputs,
      },
      "latticeform",
      "small",
      false,
    );
    pulumi.runtime.setAllConfig({
      "latticeform:lattice": JSON.stringify(readStackConfig("stacks/Pulumi.small.yaml")),
      "latticeform:operatorCidrs": JSON.stringify(["198.51.100.0/24"]),
      "gcp:project": "mock-project",
    });
    const program = (await import("../../index")) as typeof import("../../index");
    assert.equal(program.latticeName, "small");
    assert.deepEqual(Object.keys(program.clouds), ["aws", "gcp"]);
    assert.equal(await valueOf(program.clouds.aws!.client), "tls://35.0.0.9:4222");
    assert.equal(await valueOf(program.clouds.gcp!.gateway), "tls://35.0.0.9:7222");
    assert.equal(await pulumi.isSecret(program.clouds.aws!.kubeconfig), true);
    await settings.waitForRPCs();
    assert.equal(types.filter((t) => t === "latticeform:index:Lattice").length, 1);
    assert.ok(types.length > 100, `${types.length} resources`);
  });
});
