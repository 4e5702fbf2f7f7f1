// Payment validator (stateless): positive amount, allowed currency, IBAN mod-97 check.
import { jsonNumber, jsonString, quote } from "../lib/json";
import { done, Message, reply } from "../lib/wit";
export { cabi_realloc } from "../lib/wit";

function ibanValid(raw: string): bool {
  const s = raw.replaceAll(" ", "").toUpperCase();
  if (s.length < 15 || s.length > 34) return false;
  for (let i = 0; i < 2; i++) {
    const c = s.charCodeAt(i);
    if (c < 65 || c > 90) return false;
  }
  for (let i = 2; i < 4; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  const r = s.substring(4) + s.substring(0, 4);
  let rem: i32 = 0;
  for (let i = 0; i < r.length; i++) {
    const c = r.charCodeAt(i);
    if (c >= 48 && c <= 57) rem = (rem * 10 + (c - 48)) % 97;
    else if (c >= 65 && c <= 90) {
      const v = c - 55;
      rem = (rem * 100 + v) % 97;
    } else return false;
  }
  return rem == 1;
}

function validate(req: string): string {
  const reasons = new Array<string>();
  const amount = jsonNumber(req, "amount");
  if (isNaN(amount) || amount <= 0) reasons.push("amount must be positive");
  const currency = jsonString(req, "currency");
  if (currency === null || !(currency == "EUR" || currency == "USD" || currency == "GBP" || currency == "CHF")) reasons.push("currency not allowed");
  const iban = jsonString(req, "iban");
  if (iban === null || !ibanValid(iban)) reasons.push("invalid IBAN");
  const id = jsonString(req, "id");
  let out = '{"id":' + (id === null ? "null" : quote(id)) + ',"valid":' + (reasons.length == 0 ? "true" : "false") + ',"reasons":[';
  for (let i = 0; i < reasons.length; i++) out += (i > 0 ? "," : "") + quote(reasons[i]);
  return out + "]}";
}

/** `wasmcloud:messaging/handler@0.2.0#handle-message` (renamed at build): validate, reply, done. */
export function handle_message(sp: usize, sl: usize, bp: usize, bl: usize, hasReply: i32, rp: usize, rl: usize): usize {
  const msg = Message.lift(sp, sl, bp, bl, hasReply, rp, rl);
  if (!reply(msg, validate(msg.text()))) return done("publish failed");
  return done(null);
}
