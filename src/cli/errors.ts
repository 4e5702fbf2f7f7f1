/**
 * Exit codes and error reporting for every command: a mistake the user can fix is one line saying what was
 * wrong and what to do (exit 2); a stack trace only with --debug (or LATTICEFORM_DEBUG=1).
 */
import { formatProblem, SpecError } from "../model/validate";
import { NatsServerVersionError, PortInUseError } from "../local/lattice";
import { PreflightError } from "../preflight/preflight";

export const EXIT_OK = 0;
/** A check failed: a mandatory policy violation, a breached objective, an unhealthy lattice. */
export const EXIT_FAILED = 1;
/** Bad input: spec, flag, scenario, policy config, missing artifact, busy port, wrong nats-server. */
export const EXIT_BAD_INPUT = 2;
/** A drill that could not reach a verdict (no measurement behind it). */
export const EXIT_INCONCLUSIVE = 3;

/** The table `--help` and the README show. */
export const EXIT_CODES_HELP = `Exit codes:
  0  success (status: every server, leaf and host healthy)
  1  a check failed (mandatory policy violation, breached objective, unhealthy lattice, changed evidence pack)
  2  bad input: the message says what was wrong and what to do (spec, flag, missing artifact, busy port, nats-server version)
  3  a drill was inconclusive (no measurement to judge an objective by)
Add --debug to any command for a stack trace.
`;

/** A mistake the user can fix: `message` says what was wrong, `todo` what to do about it. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly todo?: string,
  ) {
    super(todo ? `${message}: ${todo}` : message);
    this.name = "UserError";
  }
}

export function debugEnabled(argv: readonly string[] = process.argv): boolean {
  return argv.includes("--debug") || process.env.LATTICEFORM_DEBUG === "1";
}

/** True for a refused or unreachable connection, however a client library wraps it. */
export function isConnectionRefused(e: unknown): boolean {
  for (let cur: unknown = e, i = 0; cur && i < 5; i++, cur = (cur as { cause?: unknown }).cause) {
    const err = cur as { code?: string; message?: string; name?: string };
    if (err.code === "ECONNREFUSED" || err.code === "CONNECTION_REFUSED") return true;
    if (/ECONNREFUSED|connection refused/i.test(err.message ?? "")) return true;
  }
  return false;
}

/** How an error is reported: its text (no stack) and exit code. */
export function describeError(e: unknown): { text: string; code: number } {
  if (e instanceof SpecError) {
    // A flag or one problem fits one line; a spec with several lists them all (every problem at once).
    const [only] = e.problems;
    if (e.problems.length !== 1 || !only) return { text: e.message, code: EXIT_BAD_INPUT };
    return { text: `${only.path.startsWith("--") ? "" : "invalid lattice spec: "}${formatProblem(only)}`, code: EXIT_BAD_INPUT };
  }
  if (e instanceof UserError || e instanceof PreflightError || e instanceof PortInUseError || e instanceof NatsServerVersionError)
    return { text: e.message, code: EXIT_BAD_INPUT };
  if (isConnectionRefused(e))
    return {
      text: "no server of the local lattice answered (connection refused): start it with `latticeform up --local --stack <name>`, or check `latticeform status --stack <name>`",
      code: EXIT_BAD_INPUT,
    };
  const msg = e instanceof Error ? e.message : String(e);
  return { text: `${msg} (run again with --debug for the stack trace)`, code: EXIT_FAILED };
}

/** Report an error on stderr and exit with its code. */
export function fail(e: unknown): never {
  const { text, code } = describeError(e);
  process.stderr.write(`latticeform: ${text}\n`);
  if (debugEnabled() && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  process.exit(code);
}
