/** The validator workload's rules in plain JavaScript: the baseline a Wasm host is compared with. */
const CURRENCIES = new Set(["EUR", "USD", "GBP", "CHF"]);

export function ibanValid(iban: string): boolean {
  const s = iban.replace(/\s+/g, "").toUpperCase();
  if (!/^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$/.test(s)) return false;
  const r = s.slice(4) + s.slice(0, 4);
  let rem = 0;
  for (const ch of r) {
    const v = ch >= "A" ? String(ch.charCodeAt(0) - 55) : ch;
    for (const d of v) rem = (rem * 10 + Number(d)) % 97;
  }
  return rem === 1;
}

export function validatePaymentJs(p: { amount?: number; currency?: string; iban?: string }): { valid: boolean; reasons: string[] } {
  const reasons: string[] = [];
  if (!(typeof p.amount === "number" && p.amount > 0)) reasons.push("amount must be positive");
  if (!p.currency || !CURRENCIES.has(p.currency)) reasons.push("currency not allowed");
  if (!p.iban || !ibanValid(p.iban)) reasons.push("invalid IBAN");
  return { valid: reasons.length === 0, reasons };
}
