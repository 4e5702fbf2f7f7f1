/**
 * Child process of analyzer-grpc.test.ts (Pulumi's runtime state is global: one stack per process): evaluates
 * a stack's program as `latticeform review` does, reviews it with the pack's default config, and writes both
 * the recorded resources and the review's result as JSON. Usage: recordStack.ts <stack> <out.json>
 */
import { writeFileSync } from "node:fs";
import { evaluateStack, reviewEvaluated } from "../../src/review/review";

async function main(): Promise<void> {
  const [stack, out] = process.argv.slice(2);
  if (!stack || !out) throw new Error("usage: recordStack.ts <stack> <out.json>");
  const evaluated = await evaluateStack(stack);
  const review = await reviewEvaluated(evaluated);
  writeFileSync(out, JSON.stringify({ evaluated, review }));
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
