/** Commands beyond validate/render (local lattice, drills, review) register here. */
import type { Command } from "commander";

export interface CliContext {
  fail(e: unknown): never;
}

export function registerCommands(_program: Command, _ctx: CliContext): void {}
