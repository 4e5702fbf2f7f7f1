/**
 * A model of how the official NATS chart (nats-io/k8s helm/charts/nats 2.14.x, files/config/*.yaml and
 * nats.formatConfig) turns values into nats.conf, for the keys latticeform sets: each enabled block's base
 * document, `mergeOverwrite` with the block's `merge`, then the top-level `config.merge`; rendered as JSON with
 * sorted keys, `"<< X >>"` unquoted and `"...$include": "f"` turned into `include f;`. Test support only.
 */
type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** sprig mergeOverwrite: deep for maps, the source wins for everything else (lists replaced). */
export function mergeOverwrite(dst: Obj, src: Obj): Obj {
  const out: Obj = { ...dst };
  for (const [k, v] of Object.entries(src)) out[k] = isObj(v) && isObj(out[k]) ? mergeOverwrite(out[k] as Obj, v) : structuredClone(v);
  return out;
}

function tlsBase(tls: Obj): Obj {
  const dir = String(tls.dir).replace(/\/$/, "");
  return tls.secretName ? { cert_file: `${dir}/${String(tls.cert ?? "tls.crt")}`, key_file: `${dir}/${String(tls.key ?? "tls.key")}` } : {};
}

function withTls(base: Obj, block: Obj): Obj {
  const tls = block.tls as Obj | undefined;
  if (tls?.enabled) return { ...base, tls: mergeOverwrite(tlsBase(tls), (tls.merge as Obj) ?? {}) };
  return base;
}

/** The config document the chart builds from `values` (before rendering). */
export function chartConfig(values: Obj): Obj {
  const cfg = values.config as Obj;
  const fullname = String(values.fullnameOverride);
  const nats = cfg.nats as Obj;
  let doc: Obj = {
    server_name: "<< $SERVER_NAME >>",
    lame_duck_grace_period: "10s",
    lame_duck_duration: "30s",
    pid_file: "/var/run/nats/nats.pid",
    port: nats.port,
  };
  const natsTls = nats.tls as Obj | undefined;
  if (natsTls?.enabled) doc.tls = mergeOverwrite(tlsBase(natsTls), (natsTls.merge as Obj) ?? {});
  const leaf = cfg.leafnodes as Obj | undefined;
  if (leaf?.enabled) doc.leafnodes = mergeOverwrite(withTls({ port: leaf.port, no_advertise: true }, leaf), (leaf.merge as Obj) ?? {});
  const cluster = cfg.cluster as Obj | undefined;
  if (cluster?.enabled) {
    const proto = (cluster.tls as Obj | undefined)?.enabled ? "tls" : "nats";
    const routes = Array.from(
      { length: Number(cluster.replicas) },
      (_, i) => `${proto}://${fullname}-${i}.${fullname}-headless:${String(cluster.port)}`,
    );
    const base = withTls({ name: fullname, port: cluster.port, no_advertise: cluster.noAdvertise ?? true, routes }, cluster);
    doc.cluster = mergeOverwrite(base, (cluster.merge as Obj) ?? {});
  }
  const gw = cfg.gateway as Obj | undefined;
  if (gw?.enabled) doc.gateway = mergeOverwrite(withTls({ name: fullname, port: gw.port }, gw), (gw.merge as Obj) ?? {});
  const mon = cfg.monitor as Obj | undefined;
  if (mon?.enabled !== false) doc.http_port = mon?.port ?? 8222;
  const js = cfg.jetstream as Obj | undefined;
  if (js?.enabled) {
    const mem = js.memoryStore as Obj;
    const file = js.fileStore as Obj;
    const base: Obj = {};
    base.max_memory_store = mem.enabled ? `<< ${String(mem.maxSize)} >>` : 0;
    if (file.enabled) {
      base.store_dir = file.dir;
      if (file.maxSize) base.max_file_store = `<< ${String(file.maxSize)} >>`;
      else if ((file.pvc as Obj).enabled) base.max_file_store = `<< ${String((file.pvc as Obj).size)} >>`;
    } else base.max_file_store = 0;
    doc.jetstream = mergeOverwrite(base, (js.merge as Obj) ?? {});
  }
  doc = mergeOverwrite(doc, (cfg.merge as Obj) ?? {});
  return doc;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (isObj(v))
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys(v[k])]),
    );
  return v;
}

/** nats.conf text as the chart renders it. */
export function renderChartConfig(doc: Obj): string {
  const json = JSON.stringify(sortKeys(doc), null, 2);
  return json.replace(/".*\$include": "(.*)",?/g, "include $1;").replace(/"<<\s+(.*?)\s+>>"/g, "$1");
}
