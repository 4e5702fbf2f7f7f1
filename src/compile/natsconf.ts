/** Serializer for the nats-server configuration format (a superset of JSON). Pure. */
export type ConfValue = string | number | boolean | ConfValue[] | { [key: string]: ConfValue | undefined };
export type NatsConf = { [key: string]: ConfValue | undefined };

const BARE_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

function indent(depth: number): string {
  return "  ".repeat(depth);
}

function value(v: ConfValue, depth: number): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) {
    if (v.length === 0) return "[]";
    if (v.every((x) => typeof x !== "object")) return `[${v.map((x) => value(x, depth)).join(", ")}]`;
    return `[\n${v.map((x) => indent(depth + 1) + value(x, depth + 1)).join("\n")}\n${indent(depth)}]`;
  }
  return `{\n${body(v, depth + 1)}${indent(depth)}}`;
}

function body(conf: NatsConf, depth: number): string {
  let out = "";
  for (const [k, v] of Object.entries(conf)) {
    if (v === undefined) continue;
    const key = BARE_KEY.test(k) ? k : JSON.stringify(k);
    out += `${indent(depth)}${key}: ${value(v, depth)}\n`;
  }
  return out;
}

/** Render a config object as nats-server config text, with a header comment. */
export function renderConf(conf: NatsConf, header?: string): string {
  const head = header
    ? header
        .split("\n")
        .map((l) => `# ${l}`)
        .join("\n") + "\n"
    : "";
  return head + body(conf, 0);
}

/** "10Gi" -> bytes, for max_file_store / max_memory_store. */
export function sizeToBytes(size: string): number {
  const m = /^([0-9]+)(Mi|Gi|Ti)$/.exec(size);
  if (!m) throw new Error(`invalid size ${size}`);
  const mult = { Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 }[m[2] as "Mi" | "Gi" | "Ti"];
  return Number(m[1]) * mult;
}
