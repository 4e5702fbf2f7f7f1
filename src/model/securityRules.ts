/** Cross-field rules of accounts, users, exports, imports and TLS. Pure. */
import { dupes, subjectProblem, type Add } from "./rules";
import type { LatticeSpec } from "./schema";

export function securityProblems(spec: LatticeSpec, add: Add): void {
  const sec = spec.security;
  const accountNames = sec.accounts.map((a) => a.name);
  dupes(
    add,
    sec.accounts,
    (a) => a.name,
    (i) => `security.accounts[${i}].name`,
    "account name",
  );
  if (accountNames.includes(sec.systemAccount)) {
    add(
      "security.systemAccount",
      "the system account must not be one of the application accounts",
      sec.systemAccount,
      `a name other than ${accountNames.join(", ")}`,
    );
  }
  sec.accounts.forEach((a, ai) => {
    dupes(
      add,
      a.users,
      (u) => u.name,
      (i) => `security.accounts[${ai}].users[${i}].name`,
      "user name",
    );
    a.users.forEach((u, ui) => {
      for (const dir of ["publish", "subscribe"] as const) {
        (u.permissions?.[dir] ?? []).forEach((s, si) => {
          const why = subjectProblem(s, true);
          if (why)
            add(`security.accounts[${ai}].users[${ui}].permissions.${dir}[${si}]`, why, s, "a NATS subject such as orders.* or orders.>");
        });
      }
    });
    a.exports.forEach((e, ei) => {
      const why = subjectProblem(e.subject, true);
      if (why) add(`security.accounts[${ai}].exports[${ei}].subject`, why, e.subject, "a NATS subject");
    });
    a.imports.forEach((im, ii) => {
      if (!accountNames.includes(im.account) || im.account === a.name)
        add(
          `security.accounts[${ai}].imports[${ii}].account`,
          "imports from an undeclared account",
          im.account,
          accountNames.filter((n) => n !== a.name).join(", ") || "another declared account",
        );
      const why = subjectProblem(im.subject, true);
      if (why) add(`security.accounts[${ai}].imports[${ii}].subject`, why, im.subject, "a NATS subject");
    });
  });
  if (sec.requireTls) {
    for (const port of ["client", "cluster", "gateway", "leafnode"] as const) {
      if (sec.tls[port] === false)
        add(
          `security.tls.${port}`,
          "TLS is required on every NATS port",
          false,
          "a TLS block such as { verify: true }, or security.requireTls: false",
        );
    }
  }
}

/** A checker for fields that name an account: it must be declared. */
export function accountCheck(spec: LatticeSpec, add: Add): (account: string | undefined, path: string) => void {
  const accountNames = spec.security.accounts.map((a) => a.name);
  return (a, path) => {
    if (a !== undefined && !accountNames.includes(a)) add(path, "not a declared account", a, accountNames.join(", "));
  };
}
