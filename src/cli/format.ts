/** Plain-text tables for the terminal: `status`, `up`, `review` and `drill --list`. */

/** Columns padded to their widest cell, headers upper-cased, no trailing spaces. */
export function formatTable(rows: readonly Record<string, string>[], columns: readonly string[]): string {
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? "").length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => v.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...rows.map((r) => line(columns.map((c) => r[c] ?? "")))].join("\n");
}
