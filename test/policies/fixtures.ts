/** Fixtures shared by the policy tests: the prod spec, resources as the review records them, one policy's messages. */
import assert from "node:assert/strict";
import { policies } from "../../policies/policies";
import type { EvaluatedResource } from "../../src/review/evaluate";
import { resolvePolicyConfig, runPolicies, type Enforcement } from "../../src/review/review";
import { readStackConfig } from "../../src/model/load";
import type { LatticeSpec } from "../../src/model/schema";
import { parseLattice } from "../../src/model/validate";

export type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const goodSpec = (): LatticeSpec => parseLattice(readStackConfig("stacks/Pulumi.prod.yaml"));

export function res(type: string, props: Any, name = "r"): EvaluatedResource {
  return {
    type,
    name,
    urn: `urn:pulumi:t::latticeform::${type}::${name}`,
    props,
    dependencies: [],
    custom: !type.startsWith("latticeform:"),
    unknownPaths: [],
  };
}
export const lattice = (spec: LatticeSpec, inputs: Any = {}) =>
  res("latticeform:index:Lattice", { spec, existingEgressCidrs: {}, ...inputs }, "t");
/** One host in aws and none in gcp: a small set of host and leaf users to judge. */
export const oneLeafHost = (s: Any) => {
  s.clouds[0].hostPools = [{ ...s.clouds[0].hostPools[0], hosts: 1 }];
  s.clouds[1].hostPools = [];
};
export const hostPod = (hostMounts: string[]) => ({
  metadata: { name: "wasmcloud-aws-edge-1" },
  spec: {
    template: {
      spec: {
        containers: [
          { name: "host", volumeMounts: hostMounts.map((name) => ({ name })) },
          { name: "nats-leaf", volumeMounts: [{ name: "leaf" }, { name: "leaf-creds" }] },
        ],
        volumes: [
          { name: "leaf", secret: { secretName: "leaf-conf" } },
          { name: "leaf-creds", secret: { secretName: "leaf-creds" } },
          { name: "host-creds", secret: { secretName: "host-creds" } },
        ],
      },
    },
  },
});
export const ns = (name: string, cloud: string) =>
  res(
    "kubernetes:core/v1:Namespace",
    { metadata: { name, labels: { "app.kubernetes.io/managed-by": "latticeform", "latticeform.io/cloud": cloud } } },
    `${cloud}-${name}`,
  );
export const ncStream = (name: string, over: Any = {}) => ({
  spec: { name, denyDelete: true, denyPurge: true, preventDelete: true, ...over },
});

export async function messages(policy: string, resources: EvaluatedResource[], cfg: Any = {}, level?: Enforcement): Promise<string[]> {
  const p = policies.find((x) => x.name === policy);
  assert.ok(p, `no policy ${policy}`);
  const config = resolvePolicyConfig([p], {
    ...(level ? { [policy]: { enforcementLevel: level, ...cfg } } : Object.keys(cfg).length ? { [policy]: cfg } : {}),
  });
  return (await runPolicies(resources, [p], config)).map((f) => (f.status === "violation" ? f.message : `NOT CHECKABLE: ${f.message}`));
}

export function mutate(f: (s: Any) => void): LatticeSpec {
  const s = goodSpec() as unknown as Any;
  f(s);
  return s as unknown as LatticeSpec;
}

export const eks = (over: Any = {}) => ({
  vpcConfig: { endpointPublicAccess: false, endpointPrivateAccess: true },
  encryptionConfig: { provider: { keyArn: "arn:aws:kms:eu-west-1:1:key/x" }, resources: ["secrets"] },
  tags: { owner: "o", "data-classification": "c" },
  enabledClusterLogTypes: ["api", "audit", "authenticator"],
  ...over,
});
export const gke = (over: Any = {}) => ({
  privateClusterConfig: { enablePrivateNodes: true, enablePrivateEndpoint: true },
  workloadIdentityConfig: { workloadPool: "p.svc.id.goog" },
  enableShieldedNodes: true,
  resourceLabels: { owner: "o", data_classification: "c" },
  ...over,
});
export const lb = (ranges: string[] | undefined) => ({
  spec: { type: "LoadBalancer", ports: [{ port: 7222 }, { port: 7422 }], ...(ranges ? { loadBalancerSourceRanges: ranges } : {}) },
});

/** Per policy: resources that pass, resources that violate, and the exact messages. */

/** Per policy: resources that pass, resources that violate, and the exact messages. */
export type Cases = Record<string, { good: () => EvaluatedResource[]; bad: () => EvaluatedResource[]; expected: string[] }>;
