/** Options shared by every command. */
import { Option } from "commander";

export const stackOption = () =>
  new Option("-s, --stack <name>", "stack name in stacks/ or a path to a stack config file").makeOptionMandatory();
