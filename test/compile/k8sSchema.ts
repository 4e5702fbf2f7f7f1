/**
 * Schema checks of Kubernetes objects: built-in kinds with `kubernetes-models` (the Kubernetes OpenAPI schemas),
 * custom resources with the openAPIV3Schema of their CRDs (NACK's Stream / KeyValue, wasmCloud's
 * WorkloadDeployment; copies in test/fixtures/crds) through ajv, then their CEL rules (`x-kubernetes-validations`)
 * through ./crdCel. Test support only.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import Ajv, { type ValidateFunction } from "ajv";
import { parseAllDocuments } from "yaml";
import { celFailures, type CrdSchema } from "./crdCel";

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: Record<string, unknown>) => Validatable;

let builtins: Map<string, ModelClass> | undefined;

async function loadBuiltins(): Promise<Map<string, ModelClass>> {
  if (builtins) return builtins;
  // kubernetes-models ships ES modules only.
  const v1 = (await import("kubernetes-models/v1")) as unknown as Record<string, ModelClass>;
  const apps = (await import("kubernetes-models/apps/v1")) as unknown as Record<string, ModelClass>;
  const node = (await import("kubernetes-models/node.k8s.io/v1")) as unknown as Record<string, ModelClass>;
  const rbac = (await import("kubernetes-models/rbac.authorization.k8s.io/v1")) as unknown as Record<string, ModelClass>;
  const storage = (await import("kubernetes-models/storage.k8s.io/v1")) as unknown as Record<string, ModelClass>;
  builtins = new Map<string, ModelClass>([
    ["v1/Namespace", v1.Namespace!],
    ["v1/Service", v1.Service!],
    ["v1/ConfigMap", v1.ConfigMap!],
    ["v1/Secret", v1.Secret!],
    ["apps/v1/Deployment", apps.Deployment!],
    ["apps/v1/DaemonSet", apps.DaemonSet!],
    ["node.k8s.io/v1/RuntimeClass", node.RuntimeClass!],
    ["rbac.authorization.k8s.io/v1/ClusterRoleBinding", rbac.ClusterRoleBinding!],
    ["rbac.authorization.k8s.io/v1/ClusterRole", rbac.ClusterRole!],
    ["storage.k8s.io/v1/StorageClass", storage.StorageClass!],
  ]);
  return builtins;
}

/** A CRD version: its ajv validator and its openAPIV3Schema as written (for the CEL rules). */
interface CrdVersion {
  readonly validate: ValidateFunction;
  readonly schema: CrdSchema;
}
let crds: Map<string, CrdVersion> | undefined;

/**
 * The API server prunes fields a structural schema does not list, silently: a misspelt field would be lost.
 * So every object schema with `properties` (and no preserve-unknown-fields) refuses other keys here.
 */
function closed(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closed);
  if (typeof schema !== "object" || schema === null) return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema))
    out[k] = k === "properties" ? Object.fromEntries(Object.entries(v as object).map(([pk, pv]) => [pk, closed(pv)])) : closed(v);
  if (out.properties && out.additionalProperties === undefined && !out["x-kubernetes-preserve-unknown-fields"])
    out.additionalProperties = false;
  return out;
}

function loadCrds(): Map<string, CrdVersion> {
  if (crds) return crds;
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
  crds = new Map();
  for (const file of ["nack.yml", "wasmcloud-workloaddeployments.yaml"]) {
    const text = readFileSync(path.join(__dirname, "..", "fixtures", "crds", file), "utf8");
    for (const doc of parseAllDocuments(text)) {
      const crd = doc.toJS() as {
        kind?: string;
        spec?: { group: string; names: { kind: string }; versions: { name: string; schema: { openAPIV3Schema: object } }[] };
      } | null;
      if (crd?.kind !== "CustomResourceDefinition" || !crd.spec) continue;
      for (const v of crd.spec.versions) {
        // Kubernetes extensions (x-kubernetes-*) are annotations to ajv; `strict: false` ignores them.
        const schema = closed(v.schema.openAPIV3Schema) as Record<string, unknown>;
        // apiVersion, kind and metadata are the API server's, not the CRD's.
        const validate = ajv.compile({ ...schema, additionalProperties: true });
        crds.set(`${crd.spec.group}/${v.name}/${crd.spec.names.kind}`, { validate, schema: v.schema.openAPIV3Schema });
      }
    }
  }
  return crds;
}

/** The openAPIV3Schema of a custom resource kind (`<group>/<version>/<kind>`) from test/fixtures/crds. */
export function crdSchema(apiVersionKind: string): CrdSchema {
  const v = loadCrds().get(apiVersionKind);
  if (!v) throw new Error(`no CRD for ${apiVersionKind} in test/fixtures/crds`);
  return v.schema;
}

/**
 * Problems of one object against its schema ([] when valid); an unknown kind is a problem too. A custom resource
 * that passes its openAPIV3Schema is then held to the CRD's CEL rules.
 */
export async function schemaProblems(obj: {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: unknown;
  [k: string]: unknown;
}): Promise<string[]> {
  const key = `${String(obj.apiVersion)}/${String(obj.kind)}`;
  const name = `${key} ${String((obj.metadata as { name?: string } | undefined)?.name)}`;
  const Model = (await loadBuiltins()).get(key);
  if (Model) {
    try {
      new Model(obj as Record<string, unknown>).validate();
      return [];
    } catch (e) {
      return [`${name}: ${(e as Error).message}`];
    }
  }
  const crd = loadCrds().get(key);
  if (!crd) return [`${name}: no schema for ${key}`];
  if (!crd.validate(obj)) return (crd.validate.errors ?? []).map((e) => `${name}: ${e.instancePath} ${e.message ?? ""}`);
  return (await celFailures(crd.schema, obj)).map((f) => `${name}: ${f.path}: ${f.message}`);
}
