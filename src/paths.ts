/** Where the checkout is: the folder holding latticeform's package.json, found from this file (or a bundle of it). */
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";

function findRoot(from: string): string {
  for (let dir = from, i = 0; i < 10; i++, dir = path.dirname(dir)) {
    const pkg = path.join(dir, "package.json");
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "latticeform") return dir;
  }
  throw new Error(`cannot find latticeform's package.json above ${from}`);
}

export const REPO_ROOT = findRoot(__dirname);
