/** The human-readable halves of the evidence pack: one self-contained HTML page and a Markdown summary. Pure. */
import type { Evidence, TimelinePoint } from "./evidence";

function esc(s: unknown): string {
  return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

const fmtMs = (v: number | null) => (v === null ? "—" : `${Math.round(v)} ms`);

/** The headline recovery (worst repetition) and the distribution beside it. */
export function recoveryText(o: Evidence["objectives"][number]): string {
  const worst = o.unrecoveredRepetitions ? `not recovered in ${o.unrecoveredRepetitions} repetition(s)` : fmtMs(o.recoveryMs.worst);
  return `${worst} (per repetition: ${o.recoveryMs.perRepetition.map((v) => (v === null ? "never" : Math.round(v))).join(", ") || "none"}; min ${fmtMs(o.recoveryMs.min)}, median ${fmtMs(o.recoveryMs.median)})`;
}

/** The overall verdict in the same words everywhere: CLI, report.md, report.html. */
export function verdictLine(e: Evidence): string {
  return `${e.verdict.toUpperCase()} — ${e.verdictReason}`;
}

const effectText = (f: Evidence["repetitions"][number]["faults"][number]) =>
  `${f.effect ? `effect ${f.effect.ok ? "confirmed" : "NOT SHOWN"}: ${f.effect.detail}` : "effect not checked"}${f.declaredMs !== null ? `; held ${f.heldMs === null ? "?" : Math.round(f.heldMs)} of ${f.declaredMs} ms declared` : ""}`;

/** Success rate (left axis) and p50 latency (right axis) over time, fault at t = 0, recovery marked. */
export function timelineSvg(points: readonly TimelinePoint[], recoveryMs: number | null, title: string): string {
  const W = 760;
  const H = 220;
  const L = 50;
  const R = 60;
  const T = 28;
  const B = 34;
  if (points.length === 0)
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="40" role="img" aria-label="${esc(title)}"><text x="10" y="24">no samples</text></svg>`;
  const t0 = Math.min(...points.map((p) => p.t), 0);
  const t1 = Math.max(...points.map((p) => p.t), recoveryMs ?? 0) + 250;
  const maxLat = Math.max(1, ...points.map((p) => p.p50LatencyMs ?? 0));
  const x = (t: number) => L + ((t - t0) / (t1 - t0)) * (W - L - R);
  const ySucc = (v: number) => T + (1 - v) * (H - T - B);
  const yLat = (v: number) => T + (1 - v / maxLat) * (H - T - B);
  const succ = points.map((p, i) => `${i ? "L" : "M"}${x(p.t).toFixed(1)},${ySucc(p.successRate).toFixed(1)}`).join(" ");
  const lat = points
    .filter((p) => p.p50LatencyMs !== null)
    .map((p, i) => `${i ? "L" : "M"}${x(p.t).toFixed(1)},${yLat(p.p50LatencyMs!).toFixed(1)}`)
    .join(" ");
  const ticks: string[] = [];
  const step = Math.max(500, Math.ceil((t1 - t0) / 8 / 500) * 500);
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
    ticks.push(
      `<line x1="${x(t)}" y1="${H - B}" x2="${x(t)}" y2="${H - B + 4}" stroke="#555"/><text x="${x(t)}" y="${H - B + 16}" font-size="10" text-anchor="middle">${(t / 1000).toFixed(1)} s</text>`,
    );
  }
  const rec =
    recoveryMs !== null
      ? `<line class="recovery" x1="${x(recoveryMs)}" y1="${T}" x2="${x(recoveryMs)}" y2="${H - B}" stroke="#1a7f37" stroke-width="2" stroke-dasharray="5,3"/><text x="${x(recoveryMs) + 4}" y="${T + 24}" font-size="11" fill="#1a7f37">recovered ${Math.round(recoveryMs)} ms</text>`
      : `<text x="${W - R - 4}" y="${T + 24}" font-size="11" fill="#cf222e" text-anchor="end">not recovered</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" class="timeline" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">
<text x="${L}" y="16" font-size="12" font-weight="bold">${esc(title)}</text>
<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="#fafafa" stroke="#ccc"/>
<text x="${L - 6}" y="${ySucc(1) + 4}" font-size="10" text-anchor="end">100%</text><text x="${L - 6}" y="${ySucc(0) + 4}" font-size="10" text-anchor="end">0%</text>
<text x="${W - R + 6}" y="${yLat(maxLat) + 4}" font-size="10">${maxLat.toFixed(1)} ms</text><text x="${W - R + 6}" y="${yLat(0) + 4}" font-size="10">0 ms</text>
${ticks.join("")}
<line class="injection" x1="${x(0)}" y1="${T}" x2="${x(0)}" y2="${H - B}" stroke="#cf222e" stroke-width="2"/><text x="${x(0) + 4}" y="${T + 12}" font-size="11" fill="#cf222e">fault injected</text>
${rec}
<path class="success" d="${succ}" fill="none" stroke="#0969da" stroke-width="2"/>
<path class="latency" d="${lat}" fill="none" stroke="#9a6700" stroke-width="1.5" opacity="0.8"/>
<text x="${L}" y="${H - 4}" font-size="10" fill="#0969da">— success rate</text><text x="${L + 100}" y="${H - 4}" font-size="10" fill="#9a6700">— p50 latency</text>
</svg>`;
}

export function renderHtml(e: Evidence): string {
  const badge = (v: string) =>
    `<span class="v ${v === "met" ? "met" : v === "breached" ? "breached" : "na"}">${esc(v.toUpperCase())}</span>`;
  const rules = e.verdictRules
    .map((r) => {
      const fired = e.verdictFindings.filter((f) => f.rule === r.name);
      return `<tr><td><code>${esc(r.name)}</code></td><td>${esc(r.description)}</td><td>${esc(r.outcome.toUpperCase())}</td><td>${fired.length ? `<span class="bad">fired</span>: ${esc(fired.map((f) => f.reason).join("; "))}` : "held"}</td></tr>`;
    })
    .join("\n");
  const objRows = e.objectives
    .map(
      (o) =>
        `<tr><td>${esc(o.workload)}</td><td>${esc(o.failover)}</td><td>${o.rtoObjectiveMs} ms</td><td>${esc(recoveryText(o))}</td><td>${badge(o.rtoVerdict)}</td><td>${o.rpoObjectiveMessages}</td><td>${o.acknowledgedLost ?? "—"}</td><td>${badge(o.rpoVerdict)}</td><td>${badge(o.verdict)}</td></tr>`,
    )
    .join("\n");
  const recRows = e.reconciliation
    .map(
      (s) =>
        `<tr><td>${s.repetition + 1}</td><td>${esc(s.stream)}</td><td>${esc(s.placement)}</td><td>${esc(s.copy)}</td><td>${s.acknowledged}</td><td>${s.recovered}</td><td class="${s.lost ? "bad" : ""}">${s.lost}</td><td>${s.duplicated}</td><td>${s.outOfOrder}</td><td>${s.mirrorLagAtFault ?? "—"}</td><td>${esc([s.note, s.error ? `NOT RECONCILED: ${s.error}` : null].filter(Boolean).join("; "))}</td></tr>`,
    )
    .join("\n");
  const reps = e.repetitions
    .map((r) => {
      const ts = Object.entries(r.timestamps)
        .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v ?? "—")}</td></tr>`)
        .join("");
      const charts = r.workloads.map((w) => timelineSvg(w.timeline, w.recoveryMs, `${w.workload} — repetition ${r.index + 1}`)).join("\n");
      const wrows = r.workloads
        .map(
          (w) =>
            `<tr><td>${esc(w.workload)}</td><td>${fmtMs(w.recoveryMs)}</td><td>${w.requestsOk}</td><td>${w.requestsFailed}</td><td>${w.latency.before.p50} / ${w.latency.before.p99}</td><td>${w.latency.during.p50} / ${w.latency.during.p99}</td><td>${w.latency.after.p50} / ${w.latency.after.p99}</td><td>${esc(
              Object.entries(w.servedBy)
                .map(([c, n]) => `${c}: ${n}`)
                .join(", "),
            )}</td><td>${esc(
              Object.entries(w.samplesAfterFault)
                .map(([c, n]) => `${c}: ${n}`)
                .join(", "),
            )}</td><td>${w.ledger ? `${w.ledger.acked} acked, ${w.ledger.lost} lost, ${w.ledger.duplicated} applied twice, balance short by ${w.ledger.balanceShortfall}` : esc(w.ledgerError ? `NOT RECONCILED: ${w.ledgerError}` : "—")}</td><td>${esc(
              Object.entries(w.errors)
                .map(([k, n]) => `${k}: ${n}`)
                .join("; ") || "none",
            )}</td></tr>`,
        )
        .join("");
      const faults = r.faults
        .map(
          (f) =>
            `<li>${esc(f.kind)}: ${esc(f.action)} ${esc(f.processes.join(", "))}${f.reason ? ` — ${esc(f.reason)}` : ""}; ${esc(effectText(f))}</li>`,
        )
        .join("");
      const interrupted = r.interrupted
        ? `<p class="bad">Interrupted by ${esc(r.interrupted.by)} at ${esc(r.interrupted.step)}${r.interrupted.detail ? `: ${esc(r.interrupted.detail)}` : ""}</p>`
        : "";
      const leaders = r.leadersAtFault
        ? `<p>Raft leaders before the fault: meta ${esc(r.leadersAtFault.meta ?? "unknown")}; ${esc(
            Object.entries(r.leadersAtFault.streams)
              .map(([k, v]) => `${k} ${v ?? "unknown"}`)
              .join(", "),
          )}</p>`
        : "";
      const api = r.jetstreamApi
        ? `<p>JetStream API during the fault: ${r.jetstreamApi.ok ? `<span class="v met">AVAILABLE</span> (stream and consumer created in ${r.jetstreamApi.ms} ms)` : `<span class="v breached">UNAVAILABLE</span> ${esc(r.jetstreamApi.error ?? "")}`}</p>`
        : "";
      return `<section><h3>Repetition ${r.index + 1}</h3><ul>${faults}</ul>${interrupted}${leaders}${api}${r.stopConditionsFired.length ? `<p class="bad">Stop conditions fired: ${esc(r.stopConditionsFired.join("; "))}</p>` : ""}
<table class="kv">${ts}</table>${charts}
<table><tr><th>workload</th><th>recovery</th><th>ok</th><th>failed</th><th>latency before p50/p99 ms</th><th>during</th><th>after</th><th>served by</th><th>requests after fault</th><th>ledger</th><th>errors</th></tr>${wrows}</table></section>`;
    })
    .join("\n");
  const findings = e.findings.map((f) => `<li><b>${esc(f.id)}</b> [${esc(f.severity)}] ${esc(f.text)}</li>`).join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Failover drill evidence — ${esc(e.scenario.name)}</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:24px auto;padding:0 16px;color:#1f2328}
h1{font-size:22px;margin-bottom:4px} h2{font-size:18px;margin-top:28px;border-bottom:1px solid #d0d7de;padding-bottom:4px} h3{font-size:15px}
table{border-collapse:collapse;margin:8px 0;font-size:13px} td,th{border:1px solid #d0d7de;padding:4px 8px;text-align:left} th{background:#f6f8fa}
.v{font-weight:bold;padding:2px 6px;border-radius:4px} .met{background:#dafbe1;color:#1a7f37} .breached{background:#ffebe9;color:#cf222e} .na{background:#eee;color:#555}
.overall{font-size:18px;margin:12px 0} .bad{color:#cf222e;font-weight:bold} .kv th{width:140px} svg{display:block;margin:8px 0}
.sign td{height:28px;min-width:180px}
</style></head><body>
<h1>Failover drill evidence: ${esc(e.scenario.name)}</h1>
<p class="overall" id="overall-verdict">Overall verdict: ${badge(e.verdict)} — ${esc(e.verdictReason)}</p>
<p>Stack <b>${esc(e.stack.name)}</b> (lattice ${esc(e.stack.lattice)}), ${e.repetitions.length} repetition(s), ${esc(e.startedAt)} to ${esc(e.finishedAt)}</p>
<h2>Verdicts</h2>
<table id="verdicts"><tr><th>workload</th><th>failover</th><th>RTO objective</th><th>recovery: worst (distribution)</th><th>RTO</th><th>RPO objective (msgs)</th><th>acknowledged lost</th><th>RPO</th><th>verdict</th></tr>
${objRows}</table>
<h2>Verdict rules</h2>
<table id="rules"><tr><th>rule</th><th>what it checks</th><th>when it fires</th><th>this drill</th></tr>
${rules}</table>
<h2>Findings</h2><ul>${findings}</ul>
<h2>Scenario</h2><p><b>Hypothesis.</b> ${esc(e.scenario.hypothesis)}</p>
<p>Scenario <code>${esc(e.scenario.id)}</code>, ${e.scenario.source === "stack" ? `declared in the stack file <code>${esc(e.stack.file)}</code>` : "built into latticeform"}.</p>
<p>Faults: ${esc(JSON.stringify(e.scenario.faults))}. Settings: ${esc(JSON.stringify(e.scenario.settings))}.</p>
<h2>Reconciliation of acknowledged messages</h2>
<table id="reconciliation"><tr><th>rep</th><th>stream</th><th>placement</th><th>looked up in</th><th>acknowledged</th><th>recovered</th><th>lost</th><th>duplicated</th><th>out of order</th><th>mirror lag at fault</th><th>note</th></tr>${recRows || `<tr><td colspan="11">no streams published</td></tr>`}</table>
<h2>Timeline and measurements</h2>${reps}
<h2>System under test</h2>
<table class="kv"><tr><th>stack file</th><td>${esc(e.stack.file)}</td></tr><tr><th>config hash</th><td>${esc(e.stack.configHash)}</td></tr>
<tr><th>tool</th><td>${esc(e.versions.tool)}</td></tr><tr><th>nats-server</th><td>${esc(e.versions.natsServer)}</td></tr><tr><th>node</th><td>${esc(e.versions.node)}</td></tr><tr><th>git commit</th><td>${esc(e.versions.gitCommit)}</td></tr>
${Object.entries(e.tuning)
  .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`)
  .join("")}</table>
<h2>Sign-off</h2>
<table class="sign"><tr><th></th><th>name</th><th>role</th><th>date</th><th>signature</th></tr>
<tr><th>Service owner</th><td>${esc(e.signOff.owner.name)}</td><td>${esc(e.signOff.owner.role)}</td><td>${esc(e.signOff.owner.date)}</td><td></td></tr>
<tr><th>Independent reviewer</th><td>${esc(e.signOff.independentReviewer.name)}</td><td>${esc(e.signOff.independentReviewer.role)}</td><td>${esc(e.signOff.independentReviewer.date)}</td><td></td></tr></table>
<p>Integrity: every file of this pack is listed with its SHA-256 in an in-toto statement signed with Ed25519 (statement.dsse.json, public key in signing-key.pub); check with <code>latticeform drill verify &lt;dir&gt; --key &lt;pub&gt;</code>.</p>
</body></html>
`;
}

export function renderMarkdown(e: Evidence): string {
  const lines: string[] = [];
  lines.push(`# Failover drill: ${e.scenario.name}`, "");
  lines.push(
    `**Overall verdict: ${verdictLine(e)}**`,
    "",
    `Stack \`${e.stack.name}\` (lattice \`${e.stack.lattice}\`), ${e.repetitions.length} repetition(s), commit \`${e.versions.gitCommit.slice(0, 12)}\`, config \`${e.stack.configHash.slice(0, 19)}…\``,
    "",
  );
  lines.push(
    "| workload | failover | RTO objective | recovery: worst (distribution) | RTO | RPO objective | acked lost | RPO | verdict |",
    "|---|---|---|---|---|---|---|---|---|",
  );
  for (const o of e.objectives) {
    lines.push(
      `| ${o.workload} | ${o.failover} | ${o.rtoObjectiveMs} ms | ${recoveryText(o)} | ${o.rtoVerdict} | ${o.rpoObjectiveMessages} | ${o.acknowledgedLost ?? "—"} | ${o.rpoVerdict} | **${o.verdict}** |`,
    );
  }
  lines.push("", "## Verdict rules", "", "| rule | fires as | this drill |", "|---|---|---|");
  for (const r of e.verdictRules) {
    const fired = e.verdictFindings.filter((f) => f.rule === r.name);
    lines.push(
      `| \`${r.name}\` | ${r.outcome.toUpperCase()} | ${fired.length ? `fired: ${fired.map((f) => f.reason).join("; ")}` : "held"} |`,
    );
  }
  lines.push("", "## Findings", "");
  for (const f of e.findings) lines.push(`- **${f.id}** [${f.severity}] ${f.text}`);
  lines.push("", "## Reconciliation of acknowledged messages", "");
  if (e.reconciliation.length) {
    lines.push(
      "| rep | stream | looked up in | acked | recovered | lost | dup | out of order | mirror lag at fault |",
      "|---|---|---|---|---|---|---|---|---|",
    );
    for (const s of e.reconciliation)
      lines.push(
        `| ${s.repetition + 1} | ${s.stream} | ${s.copy} | ${s.acknowledged} | ${s.recovered} | ${s.lost} | ${s.duplicated} | ${s.outOfOrder} | ${s.mirrorLagAtFault ?? "—"} |`,
      );
  } else lines.push("No streams were published in this drill.");
  lines.push("", "## Timestamps", "");
  for (const r of e.repetitions) {
    lines.push(
      `Repetition ${r.index + 1}: ${Object.entries(r.timestamps)
        .map(([k, v]) => `${k} ${v ?? "—"}`)
        .join("; ")}`,
      "",
    );
    for (const f of r.faults)
      lines.push(`- ${f.kind}: ${f.action} ${f.processes.join(", ")}${f.reason ? ` — ${f.reason}` : ""}; ${effectText(f)}`);
    if (r.interrupted)
      lines.push(`- interrupted by ${r.interrupted.by} at ${r.interrupted.step}${r.interrupted.detail ? `: ${r.interrupted.detail}` : ""}`);
    lines.push("");
    if (r.leadersAtFault)
      lines.push(
        `Raft leaders before the fault: meta ${r.leadersAtFault.meta ?? "unknown"}; ${Object.entries(r.leadersAtFault.streams)
          .map(([k, v]) => `${k} ${v ?? "unknown"}`)
          .join(", ")}`,
        "",
      );
  }
  lines.push("## Hypothesis", "", e.scenario.hypothesis, "");
  lines.push(
    `Scenario \`${e.scenario.id}\`, ${e.scenario.source === "stack" ? `declared in the stack file \`${e.stack.file}\`` : "built into latticeform"}.`,
    "",
  );
  lines.push("## Sign-off", "", "| | name | date |", "|---|---|---|", "| Service owner | | |", "| Independent reviewer | | |", "");
  return lines.join("\n");
}
