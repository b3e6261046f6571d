// report.html: one self-contained page (no network): the report JSON is embedded and rendered by
// a small script; tables are searchable and sortable.
#include <string>

#include "probity/outputs.hpp"

namespace probity {
namespace {

constexpr const char* kHead = R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>probity report</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f8fa}
header{background:#24292f;color:#fff;padding:16px 24px}
header h1{margin:0;font-size:20px} header .sub{opacity:.8;font-size:12px;word-break:break-all}
main{padding:16px 24px;max-width:1400px}
section{background:#fff;border:1px solid #d0d7de;border-radius:6px;margin:0 0 16px;padding:12px 16px}
h2{font-size:16px;margin:4px 0 10px}
.verdict{font-size:18px;font-weight:700;padding:4px 10px;border-radius:4px;display:inline-block}
.pass{background:#dafbe1;color:#116329}.fail{background:#ffebe9;color:#a40e26}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid #eaeef2;padding:4px 6px;text-align:left;vertical-align:top}
th{cursor:pointer;user-select:none;background:#f6f8fa;position:sticky;top:0}
th.asc::after{content:" \25B2"} th.desc::after{content:" \25BC"}
td code,pre{font:12px ui-monospace,monospace;white-space:pre-wrap;word-break:break-all}
.sev{font-weight:600;border-radius:3px;padding:0 5px}
.sev-critical{background:#a40e26;color:#fff}.sev-high{background:#cf222e;color:#fff}
.sev-medium{background:#fb8500;color:#fff}.sev-low{background:#ffd33d}.sev-info{background:#ddf4ff}
.supp{opacity:.55}
input.search{display:block;width:320px;padding:4px 8px;margin:0 0 8px;border:1px solid #d0d7de;border-radius:4px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:8px}
.stat{border:1px solid #eaeef2;border-radius:6px;padding:8px}.stat b{font-size:20px;display:block}
</style></head><body>
<header><h1 id="title">probity report</h1><div class="sub" id="subtitle"></div></header>
<main>
<section id="summary"><h2>Summary</h2><div class="grid" id="stats"></div></section>
<section id="verdict"><h2>Verdict</h2><div id="verdict-body"></div></section>
<section id="severity"><h2>Findings by severity</h2><div id="chart"></div></section>
<section id="findings-section"><h2>Findings</h2><div id="findings"></div></section>
<section id="components-section"><h2>Components</h2><div id="components"></div></section>
<section id="vulns-section"><h2>Vulnerabilities</h2><div id="vulns"></div></section>
</main>
<script id="report-data" type="application/json">)HTML";

constexpr const char* kTail = R"HTML(</script>
<script>
"use strict";
const R = JSON.parse(document.getElementById("report-data").textContent);
const SEV = ["critical","high","medium","low","info"];
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(k == null ? "" : String(k)));
  return e;
}
function sevBadge(s) { return el("span", {class: "sev sev-" + s}, s); }
// A searchable, sortable table. cols: [{title, get(row) -> sortable value, render(row) -> Node|string}]
function table(host, id, rows, cols) {
  const search = el("input", {class: "search", type: "search", placeholder: "search…", "aria-label": "search " + id});
  const t = el("table", {id: id});
  const head = el("tr");
  cols.forEach((c, i) => {
    const th = el("th", {}, c.title);
    th.addEventListener("click", () => {
      const dir = th.classList.contains("asc") ? "desc" : "asc";
      head.querySelectorAll("th").forEach(h => h.classList.remove("asc", "desc"));
      th.classList.add(dir);
      rows.sort((a, b) => {
        const x = c.get(a), y = c.get(b);
        const r = (typeof x === "number" && typeof y === "number") ? x - y : String(x).localeCompare(String(y));
        return dir === "asc" ? r : -r;
      });
      fill();
    });
    head.append(th);
  });
  const body = el("tbody");
  t.append(el("thead", {}, head), body);
  function fill() {
    const q = search.value.toLowerCase();
    body.replaceChildren();
    for (const r of rows) {
      const text = cols.map(c => String(c.get(r))).join(" ").toLowerCase();
      if (q && !text.includes(q)) continue;
      const tr = el("tr", r.suppression ? {class: "supp"} : {});
      for (const c of cols) tr.append(el("td", {}, c.render ? c.render(r) : c.get(r)));
      body.append(tr);
    }
  }
  search.addEventListener("input", fill);
  host.append(search, t);
  fill();
}
const img = R.image || {};
document.getElementById("title").textContent = "probity report: " + (img.name || img.path || "image");
document.getElementById("subtitle").textContent = "sha256 " + (img.sha256 || "?") + " · " + (img.size || 0) + " bytes" + (R.db_snapshot ? " · vulnerability DB " + R.db_snapshot : "");
const findings = R.findings || [], comps = R.components || [], vulns = R.vulnerabilities || [];
const files = R.files || [];
const stats = document.getElementById("stats");
[["files", files.filter(f => f.type === "file").length], ["components", comps.length],
 ["vulnerabilities", vulns.length], ["findings", findings.length],
 ["critical + high", findings.filter(f => f.severity === "critical" || f.severity === "high").length]]
  .forEach(([k, v]) => stats.append(el("div", {class: "stat"}, el("b", {}, v), k)));
const vb = document.getElementById("verdict-body");
if (R.verdict) {
  vb.append(el("span", {class: "verdict " + R.verdict.result, id: "verdict-result"}, R.verdict.result.toUpperCase()),
            " against ", el("b", {}, R.verdict.policy || "policy"));
  table(vb, "clauses", (R.verdict.clauses || []).slice(), [
    {title: "clause", get: c => c.id},
    {title: "text", get: c => c.text},
    {title: "result", get: c => c.result, render: c => el("span", {class: "verdict " + c.result}, c.result)},
    {title: "breaking findings / CVEs", get: c => (c.findings || []).concat(c.vulnerabilities || []).join(" ")}]);
} else vb.append("No verdict in this report.");
const counts = SEV.map(s => findings.filter(f => f.severity === s && !f.suppression).length);
const max = Math.max(1, ...counts);
const svgNS = "http://www.w3.org/2000/svg";
const svg = document.createElementNS(svgNS, "svg");
svg.setAttribute("width", "520"); svg.setAttribute("height", String(SEV.length * 26 + 4)); svg.setAttribute("id", "severity-chart");
const colors = {critical:"#a40e26", high:"#cf222e", medium:"#fb8500", low:"#d4a72c", info:"#54aeff"};
SEV.forEach((s, i) => {
  const y = i * 26 + 2, w = Math.round(380 * counts[i] / max);
  const label = document.createElementNS(svgNS, "text"); label.setAttribute("x", "0"); label.setAttribute("y", String(y + 16)); label.textContent = s;
  const bar = document.createElementNS(svgNS, "rect"); bar.setAttribute("x", "80"); bar.setAttribute("y", String(y)); bar.setAttribute("height", "20");
  bar.setAttribute("width", String(Math.max(w, 1))); bar.setAttribute("fill", colors[s]);
  const n = document.createElementNS(svgNS, "text"); n.setAttribute("x", String(86 + w)); n.setAttribute("y", String(y + 16)); n.textContent = counts[i];
  svg.append(label, bar, n);
});
document.getElementById("chart").append(svg);
table(document.getElementById("findings"), "findings-table", findings.slice().sort((a, b) => SEV.indexOf(a.severity) - SEV.indexOf(b.severity)), [
  {title: "severity", get: f => SEV.length - SEV.indexOf(f.severity), render: f => sevBadge(f.severity)},
  {title: "category", get: f => f.category},
  {title: "rule", get: f => f.rule},
  {title: "path", get: f => f.path, render: f => el("code", {}, f.path)},
  {title: "message", get: f => f.message + (f.suppression ? " [suppressed: " + f.suppression.state + " by " + f.suppression.by + "]" : "")},
  {title: "evidence", get: f => (f.evidence && f.evidence.excerpt) || "",
   render: f => el("pre", {}, ((f.evidence && f.evidence.excerpt) || "") + ((f.evidence && f.evidence.related && f.evidence.related.length) ? "\nrelated: " + f.evidence.related.join(", ") : ""))},
  {title: "id", get: f => f.id, render: f => el("code", {}, f.id)}]);
table(document.getElementById("components"), "components-table", comps.slice(), [
  {title: "name", get: c => c.name}, {title: "version", get: c => c.version},
  {title: "cpe", get: c => c.cpe || "", render: c => el("code", {}, c.cpe || "")},
  {title: "end of life", get: c => c.eol ? (c.eol.date || "") : ""},
  {title: "evidence", get: c => (c.evidence || []).map(e => e.path + "@" + e.offset).join(" ")}]);
table(document.getElementById("vulns"), "vulns-table", vulns.slice().sort((a, b) => (b.cvss || 0) - (a.cvss || 0)), [
  {title: "id", get: v => v.id}, {title: "component", get: v => v.component + " " + v.version},
  {title: "severity", get: v => v.severity || "", render: v => sevBadge(v.severity || "info")},
  {title: "cvss", get: v => v.cvss || 0}, {title: "fixed in", get: v => v.fixed_in || ""}]);
</script></body></html>
)HTML";

}  // namespace

std::string html_report(const nlohmann::json& report) {
  std::string data = report.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  // Inside <script>, "</" could close the element early: escape every one.
  std::string safe;
  safe.reserve(data.size());
  for (std::size_t i = 0; i < data.size(); ++i) {
    if (data[i] == '<' && i + 1 < data.size() && data[i + 1] == '/') {
      safe += "<\\/";
      ++i;
    } else {
      safe.push_back(data[i]);
    }
  }
  return std::string(kHead) + safe + kTail;
}

}  // namespace probity
