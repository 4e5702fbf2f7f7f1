/** How a Wasm host process starts: its bundle (see ../bundle.ts), or tsx when LATTICEFORM_HOST_TSX=1. */
import * as path from "node:path";
import { REPO_ROOT } from "../../paths";
import { bundledCommand } from "../bundle";

export const HOST_MAIN = path.join(REPO_ROOT, "src", "local", "host", "main.ts");

/** Node arguments that start a host: the bundle when it is (or can be made) current, else tsx on the sources. */
/**
 * V8's young generation may grow to 3 x 16 MiB under load; a host's garbage is per message and short-lived,
 * so 1 MiB semi-spaces hold it (measured: host RSS after the bench's load 82 MiB instead of 153, same CPU).
 */
export const HOST_NODE_FLAGS = ["--max-semi-space-size=1"];

export function hostCommand(log: (line: string) => void = () => {}): string[] {
  if (process.env.LATTICEFORM_HOST_TSX === "1") return [...HOST_NODE_FLAGS, "--import", "tsx", HOST_MAIN];
  // jco (the general path's transpiler) loads its own wasm files: it stays a package, imported on demand.
  return [...HOST_NODE_FLAGS, ...bundledCommand({ entry: HOST_MAIN, name: "host.cjs", external: ["@bytecodealliance/*"] }, log)];
}
