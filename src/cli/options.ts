/** Options and the context shared by every command. */
import { Option } from "commander";

/** What every command module receives from main.ts: how to report an error and exit. */
export interface CliContext {
  fail(e: unknown): never;
}

export const stackOption = () =>
  new Option("-s, --stack <name>", "stack name in stacks/ or a path to a stack config file").makeOptionMandatory();
