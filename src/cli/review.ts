/** `latticeform review`: the policy pack run offline, as a table, JSON or SARIF 2.1.0. */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { policies } from "../../policies/policies";
import type { ReviewResult } from "../review/review";
import { SpecError } from "../model/validate";
import { formatTable } from "./format";
import { stackOption, type CliContext } from "./options";
import { progress } from "./progress";

const SARIF_LEVEL: Record<string, "error" | "warning" | "note"> = { mandatory: "error", remediate: "error", advisory: "warning" };

export function toSarif(r: ReviewResult): object {
  return {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "latticeform",
            informationUri: "https://github.com/latticeform/latticeform",
            rules: policies.map((p) => ({
              id: p.name,
              name: p.name,
              shortDescription: { text: p.description ?? p.name },
              fullDescription: { text: p.description ?? p.name },
              help: { text: p.remediationSteps },
              defaultConfiguration: { level: SARIF_LEVEL[p.enforcementLevel ?? "advisory"] ?? "note" },
              properties: { severity: p.severity, tags: [p.name.split("-")[1]] },
            })),
          },
        },
        results: r.findings.map((f) => ({
          ruleId: f.policy,
          ruleIndex: policies.findIndex((p) => p.name === f.policy),
          level: f.status === "not-checkable" ? "note" : (SARIF_LEVEL[f.enforcement] ?? "note"),
          kind: f.status === "not-checkable" ? "review" : "fail",
          message: { text: `${f.message}${f.status === "not-checkable" ? "" : ` (${f.severity}, ${f.enforcement})`}` },
          locations: [
            {
              physicalLocation: { artifactLocation: { uri: r.file }, region: { startLine: 1 } },
              logicalLocations: [{ fullyQualifiedName: f.urn, kind: "resource" }],
            },
          ],
          properties: { severity: f.severity, enforcement: f.enforcement, status: f.status },
        })),
      },
    ],
  };
}

export function renderReview(r: ReviewResult, format: string): string {
  if (format === "json") return JSON.stringify(r, null, 2);
  if (format === "sarif") return JSON.stringify(toSarif(r), null, 2);
  const rows = r.findings
    .filter((f) => f.status === "violation")
    .map((f) => ({ policy: f.policy, severity: f.severity, enforcement: f.enforcement, resource: f.urn, message: f.message }));
  const unknown = r.findings.filter((f) => f.status === "not-checkable");
  const lines = [
    `review of stack ${r.stack} (${r.file}): ${r.resources} resources, ${r.policies.filter((p) => p.enforcement !== "disabled").length} policies`,
    rows.length ? formatTable(rows, ["policy", "severity", "enforcement", "resource", "message"]) : "no violations",
  ];
  if (unknown.length) {
    lines.push(`\n${unknown.length} check(s) not possible before deploy (values computed by the clouds):`);
    lines.push(
      formatTable(
        unknown.map((f) => ({ policy: f.policy, resource: f.urn, message: f.message })),
        ["policy", "resource", "message"],
      ),
    );
  }
  lines.push(`\n${r.mandatoryViolations} mandatory violation(s): ${r.mandatoryViolations ? "FAIL" : "PASS"}`);
  return lines.join("\n");
}

export function registerReviewCommand(program: Command, ctx: CliContext): void {
  program
    .command("review")
    .description(
      "check a stack against the policy pack without cloud credentials (exit 0: pass, 1: a mandatory violation, 2: bad spec or policy config)",
    )
    .addOption(stackOption())
    .option("--format <format>", "table | json | sarif", "table")
    .option("--policy-config <file>", "JSON policy configuration: { <policy>: { enforcementLevel?, ...settings }, all?: <level> }")
    .action(async (opts: { stack: string; format: string; policyConfig?: string }) => {
      try {
        if (!["table", "json", "sarif"].includes(opts.format))
          throw new SpecError([{ path: "--format", message: "unknown format", got: opts.format, allowed: "table, json, sarif" }]);
        let cfg: unknown = {};
        if (opts.policyConfig) {
          try {
            cfg = JSON.parse(readFileSync(opts.policyConfig, "utf8"));
          } catch (e) {
            throw new SpecError([
              {
                path: "--policy-config",
                message: `not a readable JSON file: ${(e as Error).message}`,
                got: opts.policyConfig,
                allowed: "a JSON file",
              },
            ]);
          }
        }
        const say = progress();
        say(`reviewing stack ${opts.stack}: the Pulumi program under mocks, then ${policies.length} policies`);
        // Loaded on use: the offline evaluation pulls in the Pulumi SDK (seconds), which other commands never need.
        const { reviewStack } = require("../review/review") as typeof import("../review/review");
        const r = await reviewStack(opts.stack, cfg);
        say(`${r.resources} resources checked, ${r.findings.length} finding(s)`);
        process.stdout.write(renderReview(r, opts.format) + "\n");
        process.exit(r.mandatoryViolations ? 1 : 0);
      } catch (e) {
        ctx.fail(e);
      }
    });
}
