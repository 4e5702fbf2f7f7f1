/** State dirs for tests: under the repository's git-ignored `.latticeform/`, never the system temp folder (they hold a master key). */
import { mkdirSync, mkdtempSync } from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "../../../src/model/load";

/** A fresh, private directory for one test file's lattice state. */
export function testStateDir(prefix: string): string {
  const root = path.join(REPO_ROOT, ".latticeform", "tests");
  mkdirSync(root, { recursive: true, mode: 0o700 });
  return mkdtempSync(path.join(root, prefix));
}
