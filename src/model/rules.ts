/** What the per-section checkers share: how a problem is added, duplicate detection, NATS subject rules. Pure. */

/** Adds one problem: property path, what is wrong, the value found, what is allowed. */
export type Add = (path: string, message: string, got: unknown, allowed: string) => void;

/** Report every item whose key was used by an earlier one. */
export function dupes<T>(add: Add, items: readonly T[], key: (t: T) => string, path: (i: number) => string, what: string): void {
  const seen = new Map<string, number>();
  items.forEach((it, i) => {
    const k = key(it);
    if (seen.has(k)) add(path(i), `duplicate ${what} (first at index ${seen.get(k)})`, k, `a ${what} not used before`);
    else seen.set(k, i);
  });
}

const SUBJECT_TOKEN = /^[^\s.*>]+$/;

/** NATS subject rules: no whitespace, no empty tokens, `*` a whole token, `>` only as the last token. */
export function subjectProblem(subject: string, wildcards: boolean): string | undefined {
  if (subject.length === 0) return "empty subject";
  if (/\s/.test(subject)) return "subject contains whitespace";
  const tokens = subject.split(".");
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t === "") return "subject has an empty token";
    if (t === "*" || t === ">") {
      if (!wildcards) return "wildcards are not allowed here";
      if (t === ">" && i !== tokens.length - 1) return "'>' must be the last token";
      continue;
    }
    if (!SUBJECT_TOKEN.test(t)) return "wildcard inside a token";
  }
  return undefined;
}
