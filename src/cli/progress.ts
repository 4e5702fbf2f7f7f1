/** Progress of commands that take more than a second: on stderr, only when it is a terminal (or LATTICEFORM_PROGRESS=1). */

export type ProgressFn = (message: string) => void;

export function progressEnabled(stream: { isTTY?: boolean } = process.stderr): boolean {
  const forced = process.env.LATTICEFORM_PROGRESS;
  if (forced === "1") return true;
  if (forced === "0") return false;
  return stream.isTTY === true;
}

/** A progress reporter: `[12.3s] message` lines on stderr, or nothing when stderr is not a terminal. */
export function progress(enabled = progressEnabled()): ProgressFn {
  if (!enabled) return () => {};
  const started = Date.now();
  return (message) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${message}\n`);
}
