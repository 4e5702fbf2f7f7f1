// Account balance ledger (stateful, key-value capability).
//
// One key per account, `account.<account>` = "<balance>|,<id>,<id>,...,": the balance and the ids of the
// last RECENT updates, written in one conditional write (the host makes a write to a key this request read
// conditional on the revision it read), so two concurrent updates cannot both apply to the same balance: the
// loser is run again and sees the winner's balance. After the balance, `applied.<id>` is recorded for ids
// older than the recent window and for audits (the drills reconcile acknowledged updates against it).
import { allocBytes, input, jsonNumber, jsonString, kvGet, kvPut, output, quote } from "../lib/abi";

const RECENT = 256;

export function alloc(len: i32): usize {
  return allocBytes(len);
}

export function handle(ptr: usize, len: i32): usize {
  const req = input(ptr, len);
  const id = jsonString(req, "id");
  const account = jsonString(req, "account");
  const delta = jsonNumber(req, "delta");
  if (id === null || account === null || isNaN(delta) || delta != Math.floor(delta) || id.includes(",") || id.includes("|")) {
    return output('{"applied":false,"error":"need id (no , or |), account and an integer delta"}');
  }
  const key = "account." + account;
  const cur = kvGet(key);
  let balance: i64 = 0;
  let recent = ",";
  if (cur !== null) {
    const bar = cur.indexOf("|");
    balance = I64.parseInt(cur.substring(0, bar));
    recent = cur.substring(bar + 1);
  }
  const marker = "applied." + id;
  if (recent.includes("," + id + ",") || kvGet(marker) !== null) {
    kvPut(marker, "1");
    return output('{"account":' + quote(account) + ',"balance":' + balance.toString() + ',"applied":false,"duplicate":true}');
  }
  const next = balance + <i64>delta;
  if (next < 0) {
    return output('{"account":' + quote(account) + ',"balance":' + balance.toString() + ',"applied":false,"error":"insufficient funds"}');
  }
  recent += id + ",";
  let count = 0;
  for (let i = 1; i < recent.length; i++) if (recent.charCodeAt(i) == 44) count++;
  if (count > RECENT) recent = recent.substring(recent.indexOf(",", 1));
  kvPut(key, next.toString() + "|" + recent);
  kvPut(marker, "1");
  return output('{"account":' + quote(account) + ',"balance":' + next.toString() + ',"applied":true}');
}
