/** Reading a lattice spec from a Pulumi stack config file (I/O lives here, not in the validators). */
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { REPO_ROOT } from "../paths";
import type { LatticeSpec } from "./schema";
import { SpecError, validateLattice, type ValidationResult } from "./validate";

export { REPO_ROOT };

export const CONFIG_KEY = "latticeform:lattice";
export const STACKS_DIR = path.join(REPO_ROOT, "stacks");

export interface StackRef {
  /** Stack name (from the file name `Pulumi.<name>.yaml`). */
  readonly name: string;
  readonly file: string;
}

/** A stack name from `stacks/`, or a path to a stack config file. */
export function resolveStack(stack: string, stacksDir = STACKS_DIR): StackRef {
  const asPath = path.resolve(stack);
  if ((stack.includes("/") || stack.endsWith(".yaml") || stack.endsWith(".yml")) && existsSync(asPath)) {
    const base = path.basename(asPath).replace(/\.ya?ml$/, "");
    return { name: base.replace(/^Pulumi\./, ""), file: asPath };
  }
  const file = path.join(stacksDir, `Pulumi.${stack}.yaml`);
  if (!existsSync(file)) {
    throw new SpecError([
      {
        path: "--stack",
        message: "no such stack",
        got: stack,
        allowed: availableStacks(stacksDir).join(", ") + ", or a path to a stack config file",
      },
    ]);
  }
  return { name: stack, file };
}

export function availableStacks(stacksDir = STACKS_DIR): string[] {
  const { readdirSync } = require("node:fs") as typeof import("node:fs");
  return readdirSync(stacksDir)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((x): x is string => !!x)
    .sort();
}

/** The raw `latticeform:lattice` value of a stack config file. */
export function readStackConfig(file: string): unknown {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, "utf8"));
  } catch (e) {
    throw new SpecError([
      {
        path: file,
        message: `not valid YAML: ${(e as Error).message.split("\n")[0]}`,
        got: "unparsable file",
        allowed: "a Pulumi stack config file",
      },
    ]);
  }
  const config = (doc as { config?: Record<string, unknown> } | null)?.config;
  if (!config || !(CONFIG_KEY in config)) {
    throw new SpecError([
      { path: `config.${CONFIG_KEY}`, message: "missing", got: undefined, allowed: "the lattice spec under config: latticeform:lattice:" },
    ]);
  }
  return config[CONFIG_KEY];
}

export function validateStack(stack: string): { ref: StackRef; result: ValidationResult } {
  const ref = resolveStack(stack);
  return { ref, result: validateLattice(readStackConfig(ref.file)) };
}

export function loadStack(stack: string): { ref: StackRef; spec: LatticeSpec } {
  const { ref, result } = validateStack(stack);
  if (!result.ok) throw new SpecError(result.problems);
  return { ref, spec: result.spec };
}
