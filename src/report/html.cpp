// report.html: one self-contained page (no network): the report JSON is embedded and rendered by
// a small script; tables are searchable and sortable.
#include <string>

#include "probity/outputs.hpp"
#include "report/html_parts.hpp"

namespace probity {
namespace {

const std::string kHead =
    html::page_head("probity report") +
    R"HTML(<nav id="toc"><a href="#verdict">verdict</a> <a href="#fix-first-section">fix first</a> <a href="#summary">summary</a> <a href="#image-map">image map</a> <a href="#findings-section">findings</a> <a href="#vulns-section">vulnerabilities</a> <a href="#components-section">components</a> <a href="#accounts-section">accounts</a> <a href="#boot-services-section">boot services</a> <a href="#listening-section">listening services</a> <a href="#keys-section">keys</a> <a href="#endpoints-section">endpoints</a></nav>
<main>
<section id="verdict"><h2>Verdict</h2><div id="verdict-body"></div></section>
<section id="fix-first-section"><h2>Fix first</h2><div id="fix-first"></div></section>
<section id="summary"><h2>Summary</h2><div class="grid" id="stats"></div></section>
<section id="image-map"><h2>Image map</h2><div id="map"></div></section>
<section id="severity"><h2>Findings by severity</h2><div id="chart"></div></section>
<section id="findings-section"><h2>Findings</h2><div id="findings"></div></section>
<section id="vulns-section"><h2>Vulnerabilities</h2><div id="vulns"></div></section>
<section id="components-section"><h2>Components</h2><div id="components"></div></section>
<section id="accounts-section"><h2>Accounts</h2><div id="accounts"></div></section>
<section id="boot-services-section"><h2>Boot services</h2><div id="boot-services"></div></section>
<section id="listening-section"><h2>Listening services</h2><div id="listening"></div></section>
<section id="keys-section"><h2>Keys</h2><div id="keys"></div></section>
<section id="endpoints-section"><h2>Endpoints</h2><div id="endpoints"></div></section>
</main>
<script id="page-extras" type="application/json">)HTML";

const std::string kMiddle = std::string(R"HTML(</script>
<script id="report-data" type="application/json">)HTML");

const std::string kTail =
    html::script_start("report-data", "R") +
    R"HTML(const X = JSON.parse(document.getElementById("page-extras").textContent) || {};
const img = R.image || {};
document.getElementById("title").textContent = "probity report: " + (img.name || img.path || "image");
document.getElementById("subtitle").textContent = "sha256 " + (img.sha256 || "?") + " · " + (img.size || 0) + " bytes" + (R.db_snapshot ? " · vulnerability DB " + R.db_snapshot : "") + (R.db_snapshot_date ? " of " + R.db_snapshot_date + (R.db_age_days != null ? " (" + R.db_age_days + " days old)" : "") : "");
const findings = R.findings || [], comps = R.components || [], vulns = R.vulnerabilities || [];
const files = R.files || [], facts = R.facts || {};
// Anchors: every finding id, CVE, component and path has one (#finding-ID, #cve-ID,
// #component-NAME@VERSION, #path-PATH); links jump to them.
const anchor = (kind, v) => kind + "-" + String(v).replace(/[^A-Za-z0-9._@:\/-]/g, "_");
const link = (kind, v, text) => el("a", {href: "#" + anchor(kind, v)}, text == null ? v : text);
const pathsWithFindings = new Set(findings.map(f => f.path).filter(p => p));
const pathLink = p => p ? (pathsWithFindings.has(p) ? link("path", p, p) : el("code", {}, p)) : "";
const stats = document.getElementById("stats");
[["files", files.filter(f => f.type === "file").length], ["components", comps.length],
 ["vulnerabilities", vulns.length], ["findings", findings.length],
 ["critical + high", findings.filter(f => f.severity === "critical" || f.severity === "high").length],
 ["end of life reached", comps.filter(c => c.eol && c.eol.reached).length]]
  .forEach(([k, v]) => stats.append(el("div", {class: "stat"}, el("b", {}, v), k)));
const vb = document.getElementById("verdict-body");
const refList = c => {
  const span = el("span");
  (c.findings || []).forEach(id => span.append(link("finding", id), " "));
  (c.vulnerabilities || []).forEach(id => span.append(id.startsWith("EOL:") ? link("component", id.slice(4), id) : link("cve", id), " "));
  return span;
};
if (R.verdict) {
  vb.append(el("span", {class: "verdict " + R.verdict.result, id: "verdict-result"}, R.verdict.result.toUpperCase()),
            " against ", el("b", {}, R.verdict.policy || "policy"));
  if ((R.verdict.reasons || []).length)
    table(vb, "reasons", R.verdict.reasons.slice(), [
      {title: "not seen", get: r => r.code},
      {title: "what", get: r => r.text},
      {title: "evidence", get: r => r.evidence}]);
  const clauses = R.verdict.clauses || [];
  const failing = clauses.filter(c => c.result !== "pass"), passing = clauses.filter(c => c.result === "pass");
  const cols = [
    {title: "clause", get: c => c.id},
    {title: "text", get: c => c.text},
    {title: "result", get: c => c.result, render: c => el("span", {class: "verdict " + c.result}, c.result)},
    {title: "breaking findings / CVEs", get: c => (c.findings || []).concat(c.vulnerabilities || []).join(" "), render: refList}];
  vb.append(el("h3", {}, failing.length + " failing clause" + (failing.length === 1 ? "" : "s")));
  table(vb, "clauses", failing, cols);
  const more = el("details", {id: "passing-clauses"}, el("summary", {}, passing.length + " passing clauses"));
  table(more, "clauses-passing", passing, cols);
  vb.append(more);
} else vb.append("No verdict in this report.");
// Image map: one bar, each top-level region of the image by kind.
(() => {
  const host = document.getElementById("map"), regs = X.regions || [], total = X.image_size || img.size || 0;
  if (!regs.length || !total) { host.append("No region data (report.html rendered without the scan's extras)."); return; }
  const kind = r => r.format === "padding" ? "padding" : r.understood ? "format" : (r.entropy >= 7.5 ? "encrypted" : "unknown");
  const fill = {format: "#2da44e", padding: "#d0d7de", encrypted: "#8250df", unknown: "#cf222e"};
  const svgNS = "http://www.w3.org/2000/svg", W = 1000;
  const svg = document.createElementNS(svgNS, "svg");
  svg.setAttribute("viewBox", "0 0 " + W + " 28"); svg.setAttribute("width", "100%"); svg.setAttribute("id", "image-map-bar");
  for (const r of regs) {
    const x = W * r.offset / total, w = Math.max(W * r.size / total, 0.5);
    const rect = document.createElementNS(svgNS, "rect");
    rect.setAttribute("x", String(x)); rect.setAttribute("y", "0"); rect.setAttribute("width", String(w)); rect.setAttribute("height", "28");
    rect.setAttribute("fill", fill[kind(r)]); rect.setAttribute("class", "region region-" + kind(r));
    const t = document.createElementNS(svgNS, "title");
    t.textContent = (r.format || (kind(r) === "encrypted" ? "encrypted-looking" : "not understood")) + " at 0x" + r.offset.toString(16) + ", " + r.size + " bytes, entropy " + r.entropy;
    rect.append(t); svg.append(rect);
  }
  host.append(svg);
  const legend = el("div", {class: "legend"});
  for (const [k, c] of Object.entries(fill)) {
    const bytes = regs.filter(r => kind(r) === k).reduce((a, r) => a + r.size, 0);
    legend.append(el("span", {class: "key", style: "background:" + c}), " " + k + " " + (100 * bytes / total).toFixed(1) + "%  ");
  }
  host.append(legend);
  if (X.regions_not_drawn) host.append(el("div", {}, X.regions_not_drawn + " more regions not drawn"));
  const more = el("details", {}, el("summary", {}, regs.length + " regions"));
  host.append(more);
  table(more, "regions-table", regs.slice(), [
    {title: "offset", get: r => r.offset, render: r => "0x" + r.offset.toString(16)},
    {title: "size", get: r => r.size}, {title: "kind", get: r => kind(r)},
    {title: "format", get: r => r.format || ""}, {title: "entropy", get: r => r.entropy}]);
})();
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
// The evidence file view: container chain, hexdump and strings around the offset.
const evidenceView = f => {
  const box = el("div");
  box.append(el("pre", {}, ((f.evidence && f.evidence.excerpt) || "") + ((f.evidence && f.evidence.related && f.evidence.related.length) ? "\nrelated: " + f.evidence.related.join(", ") : "")));
  const v = (X.evidence || {})[f.id];
  if (v) {
    const d = el("details", {class: "fileview"}, el("summary", {}, "file view"));
    d.append(el("div", {}, el("b", {}, "chain: "), v.chain));
    if (v.hexdump) d.append(el("div", {}, "offset 0x" + (v.offset || 0).toString(16) + " of " + v.size + " bytes"), el("pre", {class: "hex"}, v.hexdump.join("\n")));
    if (v.strings && v.strings.length) d.append(el("pre", {class: "strings"}, v.strings.map(s => s.offset.toString(16).padStart(8, "0") + "  " + s.text).join("\n")));
    box.append(d);
  }
  return box;
};
const seenPath = new Set();
table(document.getElementById("findings"), "findings-table", findings.slice().sort((a, b) => SEV.indexOf(a.severity) - SEV.indexOf(b.severity)), [
  {title: "severity", get: f => SEV.length - SEV.indexOf(f.severity), render: f => sevBadge(f.severity)},
  {title: "category", get: f => f.category},
  {title: "rule", get: f => f.rule},
  {title: "path", get: f => f.path + (f.line ? ":" + f.line : ""), render: f => {
    // `probity source` findings carry the line in their file.
    const c = el("code", {}, f.path + (f.line ? ":" + f.line : ""));
    if (f.path && !seenPath.has(f.path)) { seenPath.add(f.path); c.setAttribute("id", anchor("path", f.path)); }
    return c; }},
  {title: "message", get: f => f.message + (f.suppression ? " [suppressed: " + f.suppression.state + " by " + f.suppression.by + "]" : "")},
  {title: "evidence", get: f => (f.evidence && f.evidence.excerpt) || "", render: evidenceView},
  {title: "id", get: f => f.id, render: f => el("a", {id: anchor("finding", f.id), href: "#" + anchor("finding", f.id)}, f.id)}]);
table(document.getElementById("vulns"), "vulns-table", vulns.slice().sort((a, b) => (b.cvss || 0) - (a.cvss || 0)), [
  {title: "id", get: v => v.id, render: v => el("a", {id: anchor("cve", v.id), href: "#" + anchor("cve", v.id)}, v.id)},
  {title: "component", get: v => v.component + " " + v.version, render: v => link("component", v.component + "@" + v.version, v.component + " " + v.version)},
  {title: "severity", get: v => v.severity || "", render: v => sevBadge(v.severity || "info")},
  {title: "cvss", get: v => v.cvss || 0}, {title: "fixed in", get: v => v.fixed_in || ""},
  {title: "KEV", get: v => v.kev ? v.kev.date_added : ""},
  {title: "EPSS", get: v => v.epss ? v.epss.score : -1, render: v => v.epss ? v.epss.score.toFixed(3) : ""},
  {title: "reachability", get: v => v.reachability ? v.reachability.state : "",
   render: v => el("span", {title: v.reachability ? v.reachability.chain.join("\n") : ""}, v.reachability ? v.reachability.state : "")},
  {title: "status", get: v => v.status || "", render: v => el("span", {title: v.status_evidence || ""}, v.status || "")},
  {title: "description", get: v => v.description || "" }]);
const seenComp = new Set();
table(document.getElementById("components"), "components-table", comps.slice(), [
  {title: "name", get: c => c.name, render: c => {
    const key = c.name + "@" + c.version, a = el("span", {}, c.name);
    if (!seenComp.has(key)) { seenComp.add(key); a.setAttribute("id", anchor("component", key)); }
    return a; }},
  {title: "version", get: c => c.version},
  {title: "cpe", get: c => c.cpe || "", render: c => el("code", {}, c.cpe || "")},
  {title: "end of life", get: c => c.eol ? (c.eol.date || "") : "",
   render: c => c.eol ? el("span", {}, c.eol.date || "", " ", c.eol.reached ? el("span", {class: "sev sev-high eol-reached"}, "EOL REACHED") : el("span", {class: "sev sev-info"}, "supported")) : ""},
  {title: "CVEs", get: c => vulns.filter(v => v.component === c.name && v.version === c.version).length,
   render: c => { const s = el("span"); vulns.filter(v => v.component === c.name && v.version === c.version).forEach(v => s.append(link("cve", v.id), " ")); return s; }},
  {title: "evidence", get: c => (c.evidence || []).map(e => e.path + "@" + e.offset).join(" ")}]);
const factTable = (host, id, rows, cols) => {
  const h = document.getElementById(host);
  if (!rows.length) { h.append(el("div", {class: "none"}, facts.accounts ? "none found" : "not in this report")); return; }
  table(h, id, rows, cols);
};
factTable("accounts", "accounts-table", (facts.accounts || []).slice(), [
  {title: "name", get: a => a.name}, {title: "uid", get: a => a.uid, render: a => a.uid === 0 ? el("b", {class: "sev sev-high"}, "0") : a.uid},
  {title: "gid", get: a => a.gid}, {title: "shell", get: a => a.shell}, {title: "home", get: a => a.home},
  {title: "password", get: a => a.password}, {title: "file", get: a => a.path, render: a => pathLink(a.path)}]);
const daemon = s => s.how === "inetd" || /(telnetd|dropbear|sshd|httpd|nc|netcat|ncat|socat|ftpd|tftpd|snmpd|smbd|dnsmasq)$/.test(s.name);
const svcCols = [{title: "name", get: s => s.name}, {title: "how", get: s => s.how},
  {title: "command", get: s => s.command, render: s => el("code", {}, s.command)}, {title: "file", get: s => s.path, render: s => pathLink(s.path)}];
factTable("boot-services", "boot-services-table", (facts.services || []).filter(s => s.how !== "inetd"), svcCols);
factTable("listening", "listening-table", (facts.services || []).filter(daemon), svcCols);
factTable("keys", "keys-table", (facts.keys || []).slice(), [
  {title: "role", get: k => k.role}, {title: "type", get: k => k.type}, {title: "bits", get: k => k.bits},
  {title: "fingerprint", get: k => k.fingerprint, render: k => el("code", {}, k.fingerprint)}, {title: "file", get: k => k.path, render: k => pathLink(k.path)}]);
factTable("endpoints", "endpoints-table", (facts.endpoints || []).slice(), [
  {title: "value", get: e => e.value, render: e => el("code", {}, e.value)}, {title: "kind", get: e => e.kind},
  {title: "class", get: e => e.class}, {title: "file", get: e => e.path, render: e => pathLink(e.path)}]);
const ff = R.fix_first || [];
if (ff.length) {
  const byKey = new Map(vulns.map(v => [v.id + " " + v.component + " " + v.version, v]));
  table(document.getElementById("fix-first"), "fix-first-table", ff.slice(), [
    {title: "#", get: f => ff.indexOf(f) + 1},
    {title: "id", get: f => f.id, render: f => link("cve", f.id)}, {title: "component", get: f => f.component + " " + f.version},
    {title: "why", get: f => f.reason},
    {title: "chain", get: f => { const v = byKey.get(f.id + " " + f.component + " " + f.version); return v && v.reachability ? v.reachability.chain.join(" → ") : ""; }}]);
} else document.getElementById("fix-first").append("Nothing exposed to the network or in CISA's KEV catalogue.");
</script></body></html>
)HTML";

}  // namespace

std::string html_report(const nlohmann::json& report, const nlohmann::json& extras) {
  return kHead + html::embed_json(extras.is_null() ? nlohmann::json::object() : extras) + kMiddle +
         html::embed_json(report) + kTail;
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
