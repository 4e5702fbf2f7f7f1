#!/usr/bin/env node
// The `latticeform` command: TypeScript sources run through tsx, so there is no build step to forget.
try {
  require.resolve("tsx/cjs");
} catch {
  process.stderr.write("latticeform: its npm dependencies are missing: run `npm install` (or `npm run setup`) in the checkout\n");
  process.exit(2);
}
require("tsx/cjs");
require("../src/cli/main.ts").main(process.argv);
