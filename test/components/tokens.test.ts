/** Type tokens are `latticeform:<module>:<Type>` with <Type> the class name, one public component per file. */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";

describe("component type tokens", () => {
  const dir = path.join(__dirname, "..", "..", "components");
  const files = readdirSync(dir).filter((f) => f.endsWith(".ts"));
  it("name the class they belong to", () => {
    let seen = 0;
    for (const f of files) {
      const src = readFileSync(path.join(dir, f), "utf8");
      const classes = [...src.matchAll(/export class (\w+) extends pulumi\.ComponentResource/g)].map((m) => m[1]);
      const tokens = [...src.matchAll(/super\("latticeform:(\w+):(\w+)"/g)].map((m) => m[2]);
      assert.deepEqual(tokens, classes, `${f}: tokens ${tokens.join(", ")} vs classes ${classes.join(", ")}`);
      seen += classes.length;
    }
    assert.ok(seen >= 14, `only ${seen} components found`);
  });
});
