/**
 * Evaluates a CRD's CEL validation rules (`x-kubernetes-validations`) on an object, as the API server does when
 * the object is created. Test support only; the CEL evaluator is @marcbachmann/cel-js.
 *
 * Followed (kubernetes v1.33, staging repos at tag v0.33.13):
 * - k8s.io/apiextensions-apiserver `pkg/apiserver/schema/cel/validation.go`: rules run at every schema node that
 *   carries them, with `self` bound to that node's value; null values are not validated; at the resource root
 *   `apiVersion`, `kind`, `metadata.name` and `metadata.generateName` are visible; a rule that reads `oldSelf`
 *   runs on create only with `optionalOldSelf: true` (then `oldSelf` is `optional.none()`); the message is
 *   `messageExpression`'s value, else `message`, else `failed rule: <rule>`; `fieldPath` is appended to the path.
 * - k8s.io/apiextensions-apiserver `pkg/apiserver/schema/defaulting/algorithm.go`: defaults are applied first.
 * - k8s.io/apiserver `pkg/cel/common/values.go` (`UnstructuredToVal`): objects with `properties` show only those
 *   properties, under names escaped by `pkg/cel/escaping.go` (`namespace` is `__namespace__`), absent when null;
 *   maps (`additionalProperties`) keep their keys; `integer` is a CEL int, `number` a double; string formats
 *   `date`/`date-time` are timestamps and `byte` is bytes.
 * Not modelled: cost budgets, `duration` strings (left as strings), set/map list equality ignoring order, and
 * the Kubernetes CEL libraries cel-js lacks (a rule calling one fails with an evaluation error, never passes).
 */

// CEL's reserved words (k8s.io/apiserver pkg/cel/escaping.go `celReservedSymbols`).
const celReserved = new Set(
  "true false null in as break const continue else for function if import let loop package namespace return var void while".split(" "),
);
const escapes: Readonly<Record<string, string>> = { __: "__underscores__", ".": "__dot__", "-": "__dash__", "/": "__slash__" };

/**
 * The CEL identifier of a property name (`Escape` in k8s.io/apiserver pkg/cel/escaping.go): reserved words become
 * `__word__`, and `__`, `.`, `-`, `/` become `__underscores__`, `__dot__`, `__dash__`, `__slash__`; undefined
 * when the name cannot be escaped (then rules cannot see the property).
 */
export function escapeCelIdent(ident: string): string | undefined {
  if (ident === "" || /^[0-9]/.test(ident)) return undefined;
  if (celReserved.has(ident)) return `__${ident}__`;
  if (/[^a-zA-Z0-9_./-]/.test(ident)) return undefined;
  return ident.replace(/__|[-./]/g, (m) => escapes[m]!);
}

/** The parts of a structural schema that CEL validation reads. */
export interface CrdSchema {
  readonly type?: string;
  readonly format?: string;
  readonly nullable?: boolean;
  readonly default?: unknown;
  readonly properties?: Readonly<Record<string, CrdSchema>>;
  readonly additionalProperties?: CrdSchema | boolean;
  readonly items?: CrdSchema;
  readonly allOf?: readonly CrdSchema[];
  readonly "x-kubernetes-validations"?: readonly CelRule[];
  readonly "x-kubernetes-int-or-string"?: boolean;
  readonly "x-kubernetes-embedded-resource"?: boolean;
  readonly "x-kubernetes-preserve-unknown-fields"?: boolean;
}

/** One `x-kubernetes-validations` entry. */
export interface CelRule {
  readonly rule: string;
  readonly message?: string;
  readonly messageExpression?: string;
  readonly fieldPath?: string;
  readonly reason?: string;
  readonly optionalOldSelf?: boolean;
}

/** A rule the object breaks (or that could not be evaluated, which the API server refuses too). */
export interface CelFailure {
  /** Field path as the API server prints it, e.g. `spec.template.spec.hostInterfaces`. */
  readonly path: string;
  readonly rule: string;
  readonly message: string;
}

type Cel = typeof import("@marcbachmann/cel-js");
type Json = unknown;

type CelEnv = InstanceType<Cel["Environment"]>;

let celEnv: Promise<{ env: CelEnv; none: unknown }> | undefined;
/** `self` and (for optionalOldSelf rules) `oldSelf` are the variables a CRD rule sees; cel-js is ES modules only. */
const loadCel = () =>
  (celEnv ??= import("@marcbachmann/cel-js").then(({ Environment, Optional }) => ({
    env: new Environment({ enableOptionalTypes: true }).registerVariable("self", "dyn").registerVariable("oldSelf", "dyn"),
    none: Optional.none(),
  })));

/** `apiVersion`, `kind`, `metadata.name` and `metadata.generateName` are visible at a resource root (`WithTypeAndObjectMeta`). */
function withTypeAndObjectMeta(s: CrdSchema): CrdSchema {
  const str: CrdSchema = { type: "string" };
  const metadata: CrdSchema = { type: "object", properties: { name: str, generateName: str } };
  return { ...s, properties: { ...s.properties, apiVersion: str, kind: str, metadata } };
}

const additional = (s: CrdSchema): CrdSchema | undefined =>
  typeof s.additionalProperties === "object" ? s.additionalProperties : undefined;
const nonNullableNull = (x: Json, s: CrdSchema | undefined): boolean => x === null && s !== undefined && !s.nullable;
const isMap = (x: Json): x is Record<string, Json> => typeof x === "object" && x !== null && !Array.isArray(x);

/** Structural defaulting (`defaulting.Default`): absent or non-nullable null properties take their default. */
export function applyDefaults(x: Json, s: CrdSchema | undefined): void {
  if (!s) return;
  if (Array.isArray(x)) {
    x.forEach((v, i) => {
      if (nonNullableNull(v, s.items) && s.items?.default !== undefined) x[i] = structuredClone(s.items.default);
      applyDefaults(x[i], s.items);
    });
  } else if (isMap(x)) {
    for (const [k, p] of Object.entries(s.properties ?? {}))
      if (p.default !== undefined && (!(k in x) || nonNullableNull(x[k], p))) x[k] = structuredClone(p.default);
    const ap = additional(s);
    for (const k of Object.keys(x)) {
      const p = s.properties?.[k];
      if (p) applyDefaults(x[k], p);
      else if (ap) {
        if (nonNullableNull(x[k], ap) && ap.default !== undefined) x[k] = structuredClone(ap.default);
        applyDefaults(x[k], ap);
      }
    }
  }
}

/** The CEL value the API server makes of `x` under schema `s` (`UnstructuredToVal`). */
export function toCel(x: Json, s: CrdSchema, resourceRoot = false): Json {
  if (x === null || x === undefined) return null;
  if (s["x-kubernetes-int-or-string"]) return typeof x === "number" ? BigInt(x) : x;
  if (resourceRoot || s["x-kubernetes-embedded-resource"]) s = withTypeAndObjectMeta(s);
  switch (s.type) {
    case "object": {
      if (!isMap(x)) throw new Error("expected a map for the provided schema with type=object");
      const out: Record<string, Json> = {};
      const ap = additional(s);
      if (s.properties) {
        for (const [k, v] of Object.entries(x)) {
          const p = s.properties[k];
          const name = escapeCelIdent(k);
          if (p && name !== undefined && v !== null) out[name] = toCel(v, p);
        }
      } else if (ap) for (const [k, v] of Object.entries(x)) out[k] = toCel(v, ap);
      else if (s["x-kubernetes-preserve-unknown-fields"]) return x;
      return out;
    }
    case "array":
      if (!Array.isArray(x) || !s.items) throw new Error("expected an array with items for type=array");
      return x.map((v) => toCel(v, s.items!));
    case "integer":
      return BigInt(x as number);
    case "number":
      return Number(x);
    case "string":
      if (s.format === "date" || s.format === "date-time") return new Date(x as string);
      if (s.format === "byte") return new Uint8Array(Buffer.from(x as string, "base64"));
      return x;
    default:
      // boolean, and preserved unknown data (equality only upstream)
      return x;
  }
}

/** True when the rule reads `oldSelf` (cel-go's `UsesOldSelf`), found in the parsed expression. */
function usesOldSelf(ast: unknown): boolean {
  if (!Array.isArray(ast)) return false;
  if (ast[0] === "id") return ast[1] === "oldSelf";
  return ast.some(usesOldSelf);
}

async function evaluateRules(rules: readonly CelRule[], self: Json, path: string): Promise<CelFailure[]> {
  const { env, none } = await loadCel();
  const failures: CelFailure[] = [];
  for (const r of rules) {
    const at = r.fieldPath ? `${path}.${r.fieldPath.replace(/^\./, "")}` : path;
    const fallback = r.message?.trim() || `failed rule: ${r.rule.trim()}`;
    let result: unknown;
    try {
      const program = env.parse(r.rule);
      if (usesOldSelf(program.ast.toOldStructure()) && !r.optionalOldSelf) continue; // transition rule: not on create
      result = program({ self, oldSelf: none });
    } catch (e) {
      failures.push({ path: at, rule: r.rule, message: `${(e as Error).message.split("\n")[0]} evaluating rule: ${fallback}` });
      continue;
    }
    if (result === true) continue;
    failures.push({ path: at, rule: r.rule, message: messageOf(env, r, self) ?? fallback });
  }
  return failures;
}

/** `messageExpression`'s value when it evaluates to a non-empty single-line string (`evalMessageExpression`). */
function messageOf(env: CelEnv, r: CelRule, self: Json): string | undefined {
  if (!r.messageExpression) return undefined;
  try {
    const m: unknown = env.evaluate(r.messageExpression, { self });
    return typeof m === "string" && m.trim() !== "" && !m.includes("\n") ? m.trim() : undefined;
  } catch {
    return undefined;
  }
}

const child = (path: string, k: string): string => (path ? `${path}.${k}` : k);

/** Walks schema and value together (`Validator.validate`), collecting the failures of every rule on the way. */
async function walk(s: CrdSchema, x: Json, path: string, root: boolean): Promise<CelFailure[]> {
  if (x === null || x === undefined) return [];
  const failures: CelFailure[] = [];
  for (const node of [s, ...(s.allOf ?? [])]) {
    const rules = node["x-kubernetes-validations"] ?? [];
    if (!rules.length) continue;
    let self: Json;
    try {
      self = toCel(x, s, root);
    } catch (e) {
      failures.push({ path, rule: "(value)", message: `invalid data: ${(e as Error).message}` });
      continue;
    }
    failures.push(...(await evaluateRules(rules, self, path)));
  }
  if (Array.isArray(x) && s.items) {
    for (const [i, v] of x.entries())
      failures.push(...(await walk(s.items, v, `${path}[${i}]`, !!s.items["x-kubernetes-embedded-resource"])));
  } else if (isMap(x)) {
    const ap = additional(s);
    for (const [k, v] of Object.entries(x)) {
      const p = s.properties?.[k];
      if (p) failures.push(...(await walk(p, v, child(path, k), !!p["x-kubernetes-embedded-resource"])));
      else if (ap) failures.push(...(await walk(ap, v, `${path}[${k}]`, !!ap["x-kubernetes-embedded-resource"])));
    }
  }
  return failures;
}

/** Every CEL rule of a CRD version's `openAPIV3Schema` that `obj` breaks on create ([] when it passes all). */
export async function celFailures(openAPIV3Schema: CrdSchema, obj: Json): Promise<CelFailure[]> {
  const defaulted = structuredClone(obj);
  applyDefaults(defaulted, openAPIV3Schema);
  return walk(openAPIV3Schema, defaulted, "", true);
}
