#!/usr/bin/env node
// Runs every test file under test/ (and *.test.ts beside the code) with Node's test runner and tsx.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import path from "node:path";

const roots = ["test", "src", "components", "policies"];
const files = [];
function walk(dir) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const e of entries) {
    const p = path.join(dir, e);
    if (e === "node_modules") continue;
    if (statSync(p).isDirectory()) walk(p);
    else if (e.endsWith(".test.ts")) files.push(p);
  }
}
roots.forEach(walk);
const filter = process.argv.slice(2);
const selected = filter.length ? files.filter((f) => filter.some((x) => f.includes(x))) : files;
selected.sort();
const r = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=1", "--test-reporter=spec", ...selected], {
  stdio: "inherit",
});
process.exit(r.status ?? 1);
