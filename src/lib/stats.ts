/** Order statistics shared by the evidence, the drill runner and the benchmarks. */

/** The lower median (the middle value, or the lower of the two middle ones); null for no values. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}

/** The p-th percentile by the nearest-rank-below rule (index floor(p/100 * n)); undefined for no values. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}
