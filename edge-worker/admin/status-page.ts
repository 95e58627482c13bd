/**
 * The status page: one self-contained HTML document (no build step, no external assets) that fetches
 * /status.json every 2 s and renders backends, sessions and throughput. With a token, open it as
 * `/#token=...`: the fragment never leaves the browser, and the page sends it as a bearer token.
 */
export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ftpx status</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d2430; background: #f7f8fa; }
  h1 { font-size: 1.3rem; margin: 0 0 .2rem; }
  h2 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
  table { border-collapse: collapse; width: 100%; background: #fff; }
  th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid #e3e6eb; font-variant-numeric: tabular-nums; }
  th { background: #eef1f5; font-weight: 600; }
  .up { color: #17803d; font-weight: 600; } .down { color: #c0262d; font-weight: 600; } .unknown { color: #6b7280; }
  #state { color: #6b7280; } #error { color: #c0262d; }
  svg { background: #fff; border: 1px solid #e3e6eb; }
  .empty { color: #6b7280; font-style: italic; }
  .legend { color: #6b7280; font-size: 12px; margin-top: .3rem; }
</style>
</head>
<body>
<h1>ftpx status</h1>
<div id="state">loading…</div>
<div id="error"></div>
<h2>Backends</h2>
<table id="backends"><thead><tr><th>Pool</th><th>Backend</th><th>Health</th><th>Active sessions</th></tr></thead><tbody></tbody></table>
<h2>Sessions (<span id="session-count">0</span>)</h2>
<table id="sessions"><thead><tr><th>Id</th><th>Protocol</th><th>Pool</th><th>Client</th><th>User</th><th>Backend</th><th>Bytes in</th><th>Bytes out</th><th>Idle (s)</th></tr></thead><tbody></tbody></table>
<h2>Throughput, last 10 minutes (<span id="rate">0 B/s</span> over the last minute)</h2>
<svg id="throughput" width="600" height="120" viewBox="0 0 600 120" role="img" aria-label="bytes per 10 seconds"></svg>
<div class="legend"><span style="color:#2563eb">&#9632;</span> in (uploads) &nbsp; <span style="color:#16a34a">&#9632;</span> out (downloads), per 10 seconds</div>
<script>
"use strict";
const token = new URLSearchParams(location.hash.slice(1)).get("token");
const headers = token ? { authorization: "Bearer " + token } : {};
function cell(row, text, cls) { const td = row.insertCell(); td.textContent = String(text); if (cls) td.className = cls; }
function fill(table, rows, columns, emptyText) {
  const body = table.tBodies[0];
  body.replaceChildren();
  if (rows.length === 0) { const r = body.insertRow(); cell(r, emptyText, "empty"); r.cells[0].colSpan = columns; return; }
  return body;
}
function bytes(n) { const u = ["B", "KiB", "MiB", "GiB"]; let i = 0; while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; } return (i ? n.toFixed(1) : n) + " " + u[i]; }
function render(s) {
  document.getElementById("state").textContent =
    (s.ready ? "ready" : "not ready") + " · " + s.workers + " worker process(es) · updated " + new Date(s.generatedAt).toLocaleTimeString();
  let body = fill(document.getElementById("backends"), s.backends, 4, "no backends");
  for (const b of body ? s.backends : []) { const r = body.insertRow(); cell(r, b.pool); cell(r, b.backend); cell(r, b.health, b.health); cell(r, b.activeSessions); }
  document.getElementById("session-count").textContent = s.sessions.length;
  body = fill(document.getElementById("sessions"), s.sessions, 9, "no sessions");
  for (const x of body ? s.sessions : []) {
    const r = body.insertRow();
    [x.id, x.protocol + "/" + x.role, x.pool, x.client, x.user ?? "", x.backend ?? "", x.bytesIn, x.bytesOut, x.idleSeconds].forEach((v) => cell(r, v));
  }
  const svg = document.getElementById("throughput");
  const slots = s.throughput, max = Math.max(1, ...slots.map((t) => t.in + t.out)), w = 600 / slots.length;
  svg.replaceChildren();
  slots.forEach((t, i) => {
    for (const [value, base, color] of [[t.in, 0, "#2563eb"], [t.out, t.in, "#16a34a"]]) {
      if (!value) continue;
      const rect = document.createElementNS("http://www.w3.org/2000/svg", "rect");
      const h = (value / max) * 110, y = 115 - ((base + value) / max) * 110;
      rect.setAttribute("x", String(i * w + 1)); rect.setAttribute("width", String(Math.max(1, w - 2)));
      rect.setAttribute("y", String(y)); rect.setAttribute("height", String(h)); rect.setAttribute("fill", color);
      svg.appendChild(rect);
    }
  });
  const lastMinute = slots.slice(-6).reduce((sum, t) => sum + t.in + t.out, 0);
  document.getElementById("rate").textContent = bytes(Math.round(lastMinute / 60)) + "/s";
}
async function refresh() {
  try {
    const response = await fetch("status.json", { headers, cache: "no-store" });
    if (!response.ok) throw new Error("status.json: HTTP " + response.status);
    render(await response.json());
    document.getElementById("error").textContent = "";
  } catch (err) {
    document.getElementById("error").textContent = String(err.message || err);
  }
  setTimeout(refresh, 2000);
}
refresh();
</script>
</body>
</html>
`;
