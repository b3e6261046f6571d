// report.html: one self-contained page (no network): the report JSON is embedded and rendered by
// a small script; tables are searchable and sortable.
#include <string>

#include "probity/outputs.hpp"
#include "report/html_parts.hpp"

namespace probity {
namespace {

const std::string kHead = std::string(R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>probity report</title>
<style>
)HTML" + std::string(html::kStyle) + R"HTML(</style></head><body>
<header><h1 id="title">probity report</h1><div class="sub" id="subtitle"></div></header>
<main>
<section id="fix-first-section"><h2>Fix first</h2><div id="fix-first"></div></section>
<section id="summary"><h2>Summary</h2><div class="grid" id="stats"></div></section>
<section id="verdict"><h2>Verdict</h2><div id="verdict-body"></div></section>
<section id="severity"><h2>Findings by severity</h2><div id="chart"></div></section>
<section id="findings-section"><h2>Findings</h2><div id="findings"></div></section>
<section id="components-section"><h2>Components</h2><div id="components"></div></section>
<section id="vulns-section"><h2>Vulnerabilities</h2><div id="vulns"></div></section>
</main>
<script id="report-data" type="application/json">)HTML");

const std::string kTail = std::string(R"HTML(</script>
<script>
"use strict";
const R = JSON.parse(document.getElementById("report-data").textContent);
)HTML" + std::string(html::kHelpers) + R"HTML(const img = R.image || {};
document.getElementById("title").textContent = "probity report: " + (img.name || img.path || "image");
document.getElementById("subtitle").textContent = "sha256 " + (img.sha256 || "?") + " · " + (img.size || 0) + " bytes" + (R.db_snapshot ? " · vulnerability DB " + R.db_snapshot : "") + (R.db_snapshot_date ? " of " + R.db_snapshot_date + (R.db_age_days != null ? " (" + R.db_age_days + " days old)" : "") : "");
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
  if ((R.verdict.reasons || []).length)
    table(vb, "reasons", R.verdict.reasons.slice(), [
      {title: "not seen", get: r => r.code},
      {title: "what", get: r => r.text},
      {title: "evidence", get: r => r.evidence}]);
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
  {title: "cvss", get: v => v.cvss || 0}, {title: "fixed in", get: v => v.fixed_in || ""},
  {title: "KEV", get: v => v.kev ? v.kev.date_added : ""},
  {title: "EPSS", get: v => v.epss ? v.epss.score : -1, render: v => v.epss ? v.epss.score.toFixed(3) : ""},
  {title: "reachability", get: v => v.reachability ? v.reachability.state : "",
   render: v => el("span", {title: v.reachability ? v.reachability.chain.join("\n") : ""}, v.reachability ? v.reachability.state : "")},
  {title: "status", get: v => v.status || "", render: v => el("span", {title: v.status_evidence || ""}, v.status || "")}]);
const ff = R.fix_first || [];
if (ff.length) {
  const byKey = new Map(vulns.map(v => [v.id + " " + v.component + " " + v.version, v]));
  table(document.getElementById("fix-first"), "fix-first-table", ff.slice(), [
    {title: "#", get: f => ff.indexOf(f) + 1},
    {title: "id", get: f => f.id}, {title: "component", get: f => f.component + " " + f.version},
    {title: "why", get: f => f.reason},
    {title: "chain", get: f => { const v = byKey.get(f.id + " " + f.component + " " + f.version); return v && v.reachability ? v.reachability.chain.join(" → ") : ""; }}]);
} else document.getElementById("fix-first").append("Nothing exposed to the network or in CISA's KEV catalogue.");
</script></body></html>
)HTML");

}  // namespace

std::string html_report(const nlohmann::json& report) {
  return kHead + html::embed_json(report) + kTail;
}

namespace html {

std::string embed_json(const nlohmann::json& j) {
  std::string data = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
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
  return safe;
}

}  // namespace html

}  // namespace probity
