/** Sample payloads for the example workloads (validator, ledger), used by drills, benchmarks and tests. */

/** A valid EUR payment for the validator (the IBAN is the standard German example). */
export function samplePayment(id: string, amount = 1250): string {
  return JSON.stringify({ id, amount, currency: "EUR", iban: "DE89370400440532013000" });
}

/** A balance update for the ledger. */
export function sampleLedgerUpdate(id: string, account: string, delta: number): string {
  return JSON.stringify({ id, account, delta });
}
