/**
 * The CRD CEL evaluator (test support, ./crdCel.ts) behaves as the API server on create: escaping as
 * k8s.io/apiserver pkg/cel/escaping.go (cases from its escaping_test.go, v0.33.13), `self` per schema node,
 * defaults first, nulls skipped, transition rules skipped, messages as upstream. Its use on the CRs
 * latticeform emits is in test/wasm/workloadDeployment.test.ts and test/compile/kubernetes.test.ts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { celFailures, escapeCelIdent, type CrdSchema } from "./crdCel";

const obj = (properties: Record<string, CrdSchema>, extra: Partial<CrdSchema> = {}): CrdSchema => ({
  type: "object",
  properties,
  ...extra,
});
const str: CrdSchema = { type: "string" };
const int: CrdSchema = { type: "integer" };
const messages = async (s: CrdSchema, x: unknown) => (await celFailures(s, x)).map((f) => `${f.path}: ${f.message}`);

describe("CRD CEL rules: escaping of property names (k8s.io/apiserver pkg/cel/escaping.go)", () => {
  it("escapes as upstream's escaping_test.go expects", () => {
    const cases: [string, string | undefined][] = [
      ["a.a", "a__dot__a"],
      ["a-a", "a__dash__a"],
      ["a__a", "a__underscores__a"],
      ["a.-/__a", "a__dot____dash____slash____underscores__a"],
      ["a._a", "a__dot___a"],
      ["a__.__a", "a__underscores____dot____underscores__a"],
      ["a___a", "a__underscores___a"],
      ["a____a", "a__underscores____underscores__a"],
      ["a__dot__a", "a__underscores__dot__underscores__a"],
      ["namespace", "__namespace__"],
      ["package", "__package__"],
      ["true", "__true__"],
      ["while", "__while__"],
      ["has", "has"],
      ["exists_one", "exists_one"],
      ["_if", "_if"],
      ["@", undefined],
      ["1up", undefined],
      ["👑", undefined],
    ];
    for (const [raw, escaped] of cases) assert.equal(escapeCelIdent(raw), escaped, raw);
  });
});

describe("CRD CEL rules: evaluation as on create (apiextensions-apiserver schema/cel/validation.go)", () => {
  it("binds self to each node: object fields by escaped name, list items, map values by key, integers as int", async () => {
    const item = obj(
      { namespace: str, n: int },
      { "x-kubernetes-validations": [{ rule: "self.__namespace__ != 'x' && self.n < 10", message: "item" }] },
    );
    const s = obj({
      list: { type: "array", items: item, "x-kubernetes-validations": [{ rule: "self.size() <= 2", message: "list" }] },
      map: {
        type: "object",
        additionalProperties: int,
        "x-kubernetes-validations": [{ rule: "self.all(k, self[k] > 0)", message: "map" }],
      },
    });
    assert.deepEqual(await messages(s, { list: [{ namespace: "a", n: 1 }], map: { "a.b": 1 } }), []);
    assert.deepEqual(await messages(s, { list: [{ namespace: "x", n: 1 }, { namespace: "a", n: 10 }, { n: 1 }], map: { "a.b": 0 } }), [
      "list: list",
      "list[0]: item",
      "list[1]: item",
      "list[2]: No such key: __namespace__ evaluating rule: item",
      "map: map",
    ]);
  });

  it("applies defaults first, skips null values, and hides fields the schema does not list", async () => {
    const s = obj({
      mode: { type: "string", default: "on", "x-kubernetes-validations": [{ rule: "self == 'on'", message: "mode" }] },
      opt: { type: "string", nullable: true, "x-kubernetes-validations": [{ rule: "false", message: "never for null" }] },
      inner: obj({ a: str }, { "x-kubernetes-validations": [{ rule: "!has(self.b)", message: "unlisted field seen" }] }),
    });
    assert.deepEqual(await messages(s, { opt: null, inner: { a: "x", b: "y" } }), []);
    assert.deepEqual(await messages(s, { mode: "off" }), ["mode: mode"]);
  });

  it("shows apiVersion, kind, metadata.name at the resource root", async () => {
    const s = obj(
      { spec: obj({}) },
      { "x-kubernetes-validations": [{ rule: "self.metadata.name.startsWith(self.kind)", message: "name" }] },
    );
    assert.deepEqual(await messages(s, { apiVersion: "a/v1", kind: "K", metadata: { name: "K-1", labels: { a: "b" } } }), []);
    assert.deepEqual(await messages(s, { apiVersion: "a/v1", kind: "K", metadata: { name: "x" } }), [": name"]);
  });

  it("skips transition rules on create, runs optionalOldSelf ones with oldSelf = optional.none()", async () => {
    const s = obj({
      a: { type: "string", "x-kubernetes-validations": [{ rule: "self == oldSelf", message: "immutable" }] },
      b: {
        type: "string",
        "x-kubernetes-validations": [{ rule: "oldSelf.hasValue() || self == 'new'", optionalOldSelf: true, message: "must start new" }],
      },
    });
    assert.deepEqual(await messages(s, { a: "x", b: "new" }), []);
    assert.deepEqual(await messages(s, { a: "x", b: "old" }), ["b: must start new"]);
  });

  it("takes the message from messageExpression, then message, then the rule; appends fieldPath; refuses what cannot run", async () => {
    const s = obj({
      a: obj(
        { n: int },
        { "x-kubernetes-validations": [{ rule: "self.n < 3", messageExpression: "'n is ' + string(self.n)", fieldPath: ".n" }] },
      ),
      b: obj({ n: int }, { "x-kubernetes-validations": [{ rule: "self.n < 3", messageExpression: "''", message: " too big " }] }),
      c: obj({ n: int }, { "x-kubernetes-validations": [{ rule: "self.n < 3" }] }),
      d: obj({ n: int }, { "x-kubernetes-validations": [{ rule: "self.n <", message: "syntax" }] }),
    });
    const n = { n: 5 };
    const got = await messages(s, { a: n, b: n, c: n, d: n });
    assert.deepEqual(got.slice(0, 3), ["a.n: n is 5", "b: too big", "c: failed rule: self.n < 3"]);
    assert.match(got[3]!, /^d: .* evaluating rule: syntax$/);
  });
});
