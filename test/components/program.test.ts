import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { readStackConfig } from "../../src/model/load";
import { fakeCall } from "../../src/review/fakes";
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
        call: (a) => fakeCall(a.token, a.inputs as Record<string, unknown>),
      },
      "latticeform",
      "small",
      false,
    );
    pulumi.runtime.setAllConfig({
      "latticeform:lattice": JSON.stringify(readStackConfig("stacks/Pulumi.small.yaml")),
      "gcp:project": "mock-project",
    });
    const program = (await import("../../index")) as typeof import("../../index");
    assert.equal(program.latticeName, "small");
    assert.deepEqual(Object.keys(program.clouds), ["aws", "gcp"]);
    // The hubs are exposed on the addresses their sites reserved (an Elastic IP per public subnet, a GCP static address).
    assert.match(await valueOf(program.clouds.aws!.client), /^tls:\/\/52\.1\.[0-9.]+:4222$/);
    assert.match(await valueOf(program.clouds.gcp!.gateway), /^tls:\/\/34\.1\.[0-9.]+:7222$/);
    assert.equal(await pulumi.isSecret(program.clouds.aws!.kubeconfig), true);
    await settings.waitForRPCs();
    assert.equal(types.filter((t) => t === "latticeform:index:Lattice").length, 1);
    assert.ok(types.length > 100, `${types.length} resources`);
  });
});
