// The latticeform guest ABI (AssemblyScript side). The host calls `alloc` to place the request, then
// `handle(ptr, len)`, which returns a pointer to [len: i32][bytes]. Key-value is the only capability:
// `kv_get` returns a pointer to [len][bytes] (0 when the key is missing, -1 on error), `kv_put` returns 0 or -1.

@external("env", "kv_get")
declare function kv_get_raw(keyPtr: usize, keyLen: i32): isize;
@external("env", "kv_put")
declare function kv_put_raw(keyPtr: usize, keyLen: i32, valPtr: usize, valLen: i32): i32;

export function allocBytes(len: i32): usize {
  return heap.alloc(<usize>len);
}

export function input(ptr: usize, len: i32): string {
  return String.UTF8.decodeUnsafe(ptr, <usize>len);
}

export function output(s: string): usize {
  const buf = String.UTF8.encode(s);
  const n = buf.byteLength;
  const res = heap.alloc(<usize>(4 + n));
  store<i32>(res, n);
  memory.copy(res + 4, changetype<usize>(buf), <usize>n);
  return res;
}

/** The value of `key`, "" when missing; throws (traps) when the capability fails. */
export function kvGet(key: string): string | null {
  const k = String.UTF8.encode(key);
  const r = kv_get_raw(changetype<usize>(k), k.byteLength);
  if (r == 0) return null;
  if (r < 0) throw new Error("kv_get failed");
  const n = load<i32>(<usize>r);
  return String.UTF8.decodeUnsafe(<usize>r + 4, <usize>n);
}

export function kvPut(key: string, value: string): void {
  const k = String.UTF8.encode(key);
  const v = String.UTF8.encode(value);
  if (kv_put_raw(changetype<usize>(k), k.byteLength, changetype<usize>(v), v.byteLength) != 0) throw new Error("kv_put failed");
}

// Minimal JSON field access for flat request objects.
export function jsonString(json: string, key: string): string | null {
  const at = json.indexOf('"' + key + '"');
  if (at < 0) return null;
  const colon = json.indexOf(":", at + key.length + 2);
  if (colon < 0) return null;
  const open = json.indexOf('"', colon + 1);
  if (open < 0) return null;
  // Only whitespace may stand between the colon and the opening quote.
  for (let i = colon + 1; i < open; i++) {
    const c = json.charCodeAt(i);
    if (c != 32 && c != 9 && c != 10 && c != 13) return null;
  }
  const close = json.indexOf('"', open + 1);
  if (close < 0) return null;
  return json.substring(open + 1, close);
}

export function jsonNumber(json: string, key: string): f64 {
  const at = json.indexOf('"' + key + '"');
  if (at < 0) return NaN;
  let i = json.indexOf(":", at + key.length + 2) + 1;
  if (i <= 0) return NaN;
  while (i < json.length && (json.charCodeAt(i) == 32 || json.charCodeAt(i) == 9)) i++;
  let j = i;
  while (j < json.length) {
    const c = json.charCodeAt(j);
    if ((c >= 48 && c <= 57) || c == 45 || c == 46 || c == 43 || c == 101 || c == 69) j++;
    else break;
  }
  if (j == i) return NaN;
  return parseFloat(json.substring(i, j));
}

export function quote(s: string): string {
  return '"' + s.replaceAll("\\", "\\\\").replaceAll('"', '\\"') + '"';
}
