/** How a Wasm host process starts: its bundle (see ../bundle.ts), or tsx when LATTICEFORM_HOST_TSX=1. */
import * as path from "node:path";
import { REPO_ROOT } from "../../paths";
import { bundledCommand } from "../bundle";

export const HOST_MAIN = path.join(REPO_ROOT, "src", "local", "host", "main.ts");

/** Node arguments that start a host: the bundle when it is (or can be made) current, else tsx on the sources. */
export function hostCommand(log: (line: string) => void = () => {}): string[] {
  if (process.env.LATTICEFORM_HOST_TSX === "1") return ["--import", "tsx", HOST_MAIN];
  // jco (the general path's transpiler) loads its own wasm files: it stays a package, imported on demand.
  return bundledCommand({ entry: HOST_MAIN, name: "host.cjs", external: ["@bytecodealliance/*"] }, log);
}
