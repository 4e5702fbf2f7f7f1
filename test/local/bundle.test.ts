/** The host bundle: built on demand, reused while current, rebuilt when a source under src/ is newer. */
import assert from "node:assert/strict";
import { statSync, utimesSync } from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { HOST_NODE_FLAGS, hostCommand } from "../../src/local/host/bundle";
import { REPO_ROOT } from "../../src/paths";

describe("host bundle", () => {
  it("is reused while current and rebuilt after a source changes", () => {
    const first = hostCommand();
    // The host's Node flags, then the bundle.
    assert.deepEqual(first.slice(0, -1), HOST_NODE_FLAGS, `expected the bundle, got ${first.join(" ")}`);
    const bundle = first.at(-1)!;
    assert.ok(bundle.endsWith("host.cjs"));
    const built = statSync(bundle).mtimeMs;
    assert.deepEqual(hostCommand(), first);
    assert.equal(statSync(bundle).mtimeMs, built, "a current bundle was rebuilt");
    // A source newer than the bundle: the next start rebuilds it.
    const source = path.join(REPO_ROOT, "src", "local", "host", "constants.ts");
    const { atime, mtime } = statSync(source);
    const later = new Date(built + 2000);
    try {
      utimesSync(source, later, later);
      hostCommand();
      assert.ok(statSync(bundle).mtimeMs > built, "a stale bundle was reused");
    } finally {
      utimesSync(source, atime, mtime);
    }
  });
});
