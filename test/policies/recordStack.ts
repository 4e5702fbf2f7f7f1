/**
 * Child process of analyzer-grpc.test.ts (Pulumi's runtime state is global: one stack per process): evaluates
 * a stack's program as `latticeform review` does, reviews it with the pack's default config, and writes both
 * the recorded resources and the review's result as JSON; with a policy config (JSON, the file format both
 * `latticeform review --policy-config` and `pulumi preview --policy-pack-config` read), also the review under it.
 * Usage: recordStack.ts <stack> <out.json> [<policy config JSON>]
 */
import { writeFileSync } from "node:fs";
import { evaluateStack, reviewEvaluated } from "../../src/review/review";

async function main(): Promise<void> {
  const [stack, out, config] = process.argv.slice(2);
  if (!stack || !out) throw new Error("usage: recordStack.ts <stack> <out.json> [<policy config JSON>]");
  const evaluated = await evaluateStack(stack);
  const review = await reviewEvaluated(evaluated);
  const configured = config === undefined ? undefined : await reviewEvaluated(evaluated, JSON.parse(config));
  writeFileSync(out, JSON.stringify({ evaluated, review, configured }));
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
