import { onSpec, type LatticePolicy } from "../lib";

/** Subjects no application user needs: every subject, the JetStream API as a whole, the system subjects. */
export function tooBroad(subject: string, dir: "publish" | "subscribe"): string | undefined {
  const tokens = subject.split(".");
  if (tokens.every((t) => t === "*" || t === ">")) return "every subject";
  if (/^\$JS\.(\*\.|[A-Za-z0-9_-]+\.)?API\.(>|\*)$/.test(subject) || subject === "$JS.>" || subject === "$JS.*.>")
    return "the whole JetStream API (create, purge and delete any stream)";
  if (/^\$SYS\./.test(subject)) return "system subjects";
  if (dir === "publish" && /^_INBOX\./.test(subject) && tokens.length <= 2) return "every reply inbox (answering for any service)";
  return undefined;
}

/** Application users have explicit, bounded permissions (nats-server security guidance: least privilege). */
export const policy: LatticePolicy = {
  name: "latticeform-nats-user-permissions",
  description:
    "Every application user declared under security.accounts has explicit publish and subscribe permissions, none of them `>` (or all-wildcard), the whole `$JS.API`, or `$SYS`; publishing to every `_INBOX` is refused too.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Give the user permissions: { publish: [<service subjects>], subscribe: [_INBOX.>] } and, for JetStream, only the API subjects of its streams ($JS.API.STREAM.INFO.<name>, $JS.API.CONSUMER.*.<name>.>).",
  validateResource: onSpec((spec, report) => {
    spec.security.accounts.forEach((a, i) =>
      a.users.forEach((u, j) => {
        const where = `security.accounts[${i}].users[${j}] (${a.name}/${u.name})`;
        if (!u.permissions) {
          report(`${where} has no permissions: it may publish and subscribe to every subject of account ${a.name}.`);
          return;
        }
        for (const dir of ["publish", "subscribe"] as const) {
          if (u.permissions[dir].length === 0) report(`${where} has no ${dir} allow list: nothing bounds it.`);
          for (const s of u.permissions[dir]) {
            const why = tooBroad(s, dir);
            if (why) report(`${where} may ${dir} ${s}: ${why}.`);
          }
        }
      }),
    );
  }),
};
