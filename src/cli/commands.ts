/** Commands beyond validate/render (local lattice, drills, review) register here, one line each. */
import type { Command } from "commander";
import { registerDrillCommands, registerStartCommand } from "./drill";
import { registerLocalCommands } from "./local";
import { registerReviewCommand } from "./review";

export interface CliContext {
  fail(e: unknown): never;
}

export function registerCommands(program: Command, ctx: CliContext): void {
  registerLocalCommands(program, ctx);
  registerDrillCommands(program, ctx);
  registerStartCommand(program, ctx);
  registerReviewCommand(program, ctx);
}
