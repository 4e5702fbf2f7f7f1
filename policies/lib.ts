/** Helpers shared by the policies: reading the lattice spec from the `Lattice` component's inputs. */
import type { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import type { LatticeSpec } from "../src/model/schema";

export const LATTICE_TYPE = "latticeform:index:Lattice";

/** Policy metadata beyond CrossGuard's fields that the review and tests read. */
export type LatticePolicy = (ResourceValidationPolicy | StackValidationPolicy) & {
  readonly severity: "low" | "medium" | "high" | "critical";
  readonly remediationSteps: string;
};

/** Run `check` on the validated spec held by the top-level Lattice component. */
export function onSpec(check: (spec: LatticeSpec, report: ReportViolation, args: ResourceValidationArgs) => void) {
  return (args: ResourceValidationArgs, report: ReportViolation): void => {
    if (args.type !== LATTICE_TYPE) return;
    check(args.props.spec as LatticeSpec, report, args);
  };
}

/** Resource inputs as CrossGuard hands them over: untyped provider properties. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Props = Record<string, any>;

/** Run `check` on resources of the given types. */
export function onTypes(types: readonly string[], check: (props: Props, report: ReportViolation, args: ResourceValidationArgs) => void) {
  return (args: ResourceValidationArgs, report: ReportViolation): void => {
    if (!types.includes(args.type)) return;
    check(args.props, report, args);
  };
}

/** Every site of the spec: clouds and the tie-breaker. */
export function sites(spec: LatticeSpec): { name: string; provider: string; region: string; zones: string[]; path: string }[] {
  return [
    ...spec.clouds.map((c, i) => ({ name: c.name, provider: c.provider, region: c.region, zones: c.zones, path: `clouds[${i}]` })),
    ...(spec.tieBreaker
      ? [
          {
            name: spec.tieBreaker.name,
            provider: spec.tieBreaker.provider,
            region: spec.tieBreaker.region,
            zones: spec.tieBreaker.zones,
            path: "tieBreaker",
          },
        ]
      : []),
  ];
}

/** Walk every value of a JSON-like tree with its path. */
export function walk(v: unknown, visit: (path: string, value: unknown) => void, path = ""): void {
  visit(path, v);
  if (Array.isArray(v)) v.forEach((x, i) => walk(x, visit, `${path}[${i}]`));
  else if (v && typeof v === "object")
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(x, visit, path ? `${path}.${k}` : k);
}
