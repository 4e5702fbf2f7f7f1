// Account balance ledger (stateful): wasi:keyvalue store + atomics, the only state both runtimes offer.
//
// Bucket layout (bucket `balances`, opened by name):
//   credit.<account>  u64 big-endian, the sum of the account's applied credits (atomics.increment)
//   debit.<account>   u64 big-endian, the sum of the account's applied debits (atomics.increment)
//   applied.<id>      {"account":"<account>","delta":<delta>}, written once the update is applied
// balance = credit - debit; for every account, balance = the sum of the deltas of its applied.<id> markers
// unless an update died between its increment and its marker (it was never acknowledged: reconciliation
// shows it as balance above the markers' sum).
//
// An update is acknowledged (reply applied:true) only after its increment and its marker are stored, so an
// acknowledged update is never lost. wash's increment is a compare-and-set that fails on a concurrent
// update instead of retrying: the ledger retries it on "wrong last revision" only (any other error may have
// applied it, so it is reported, not retried). A known id is answered as a duplicate, never applied twice.
import { jsonNumber, jsonString, quote } from "../lib/json";
import { Bucket, counterValue, done, lastError, Message, reply } from "../lib/wit";
export { cabi_realloc } from "../lib/wit";

const BUCKET = "balances";
/** Attempts of an increment that lost a compare-and-set race to a concurrent update. */
const ATTEMPTS = 50;

function fail(msg: Message, error: string): usize {
  reply(msg, '{"applied":false,"error":' + quote(error) + "}");
  return done(error);
}

function counter(b: Bucket, key: string): i64 {
  return <i64>counterValue(b.get(key));
}

function answer(msg: Message, account: string, balance: i64, tail: string): usize {
  if (!reply(msg, '{"account":' + quote(account) + ',"balance":' + balance.toString() + "," + tail + "}")) return done("publish failed");
  return done(null);
}

export function handle_message(sp: usize, sl: usize, bp: usize, bl: usize, hasReply: i32, rp: usize, rl: usize): usize {
  const msg = Message.lift(sp, sl, bp, bl, hasReply, rp, rl);
  const req = msg.text();
  const id = jsonString(req, "id");
  const account = jsonString(req, "account");
  const delta = jsonNumber(req, "delta");
  if (id === null || account === null || isNaN(delta) || delta != Math.floor(delta) || Math.abs(delta) > 9.0e15) {
    reply(msg, '{"applied":false,"error":"need id, account and an integer delta"}');
    return done(null);
  }
  const b = Bucket.open(BUCKET);
  if (b === null) return fail(msg, "key-value: " + lastError!);
  const marker = "applied." + id;
  const seen = b.get(marker);
  if (lastError !== null) return fail(msg, "key-value: " + lastError!);
  const credit = counter(b, "credit." + account);
  if (lastError !== null) return fail(msg, "key-value: " + lastError!);
  const debit = counter(b, "debit." + account);
  if (lastError !== null) return fail(msg, "key-value: " + lastError!);
  if (seen !== null) return answer(msg, account, credit - debit, '"applied":false,"duplicate":true');
  const d = <i64>delta;
  if (credit - debit + d < 0) return answer(msg, account, credit - debit, '"applied":false,"error":"insufficient funds"');
  let balance = credit - debit;
  if (d != 0) {
    const key = (d > 0 ? "credit." : "debit.") + account;
    // wash's increment of a missing key is a plain put, not a create: two first updates of an account could
    // both write and one be lost. Creating the counter with 0 first narrows that to a 0-write landing late.
    if ((d > 0 && credit == 0) || (d < 0 && debit == 0)) {
      if (b.get(key) === null && lastError === null) b.increment(key, 0);
    }
    let total: u64 = 0;
    for (let i = 0; i < ATTEMPTS; i++) {
      total = b.increment(key, <u64>(d > 0 ? d : -d));
      if (lastError === null || !lastError!.includes("wrong last revision")) break;
    }
    if (lastError !== null) return fail(msg, "key-value: " + lastError!);
    balance = d > 0 ? <i64>total - debit : credit - <i64>total;
  }
  if (!b.set(marker, '{"account":' + quote(account) + ',"delta":' + d.toString() + "}")) return fail(msg, "key-value: " + lastError!);
  return answer(msg, account, balance, '"applied":true');
}
