// Minimal JSON helpers for flat request objects (AssemblyScript has no JSON in its standard library).

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
