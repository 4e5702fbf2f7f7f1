#!/usr/bin/env node
// The `latticeform` command: TypeScript sources run through tsx, so there is no build step to forget.
require("tsx/cjs");
require("../src/cli/main.ts");
