// Account balance ledger (stateful, key-value capability). Idempotent per transaction id: the id is
// recorded as `applied.<id>` after the balance is written, so a retried request never applies twice.
import { allocBytes, input, jsonNumber, jsonString, kvGet, kvPut, output, quote } from "../lib/abi";

export function alloc(len: i32): usize {
  return allocBytes(len);
}

export function handle(ptr: usize, len: i32): usize {
  const req = input(ptr, len);
  const id = jsonString(req, "id");
  const account = jsonString(req, "account");
  const delta = jsonNumber(req, "delta");
  if (id === null || account === null || isNaN(delta) || delta != Math.floor(delta)) {
    return output('{"applied":false,"error":"need id, account and an integer delta"}');
  }
  const balKey = "balance." + account;
  const cur = kvGet(balKey);
  const balance: i64 = cur === null ? 0 : I64.parseInt(cur);
  if (kvGet("applied." + id) !== null) {
    return output('{"account":' + quote(account) + ',"balance":' + balance.toString() + ',"applied":false,"duplicate":true}');
  }
  const next = balance + <i64>delta;
  if (next < 0) {
    return output('{"account":' + quote(account) + ',"balance":' + balance.toString() + ',"applied":false,"error":"insufficient funds"}');
  }
  kvPut(balKey, next.toString());
  kvPut("applied." + id, "1");
  return output('{"account":' + quote(account) + ',"balance":' + next.toString() + ',"applied":true}');
}
