// diff.html: one self-contained page (no network) rendering diff.json with the same style and
// table helpers as report.html: summary counts, then each section as a searchable table.
#include "probity/diff.hpp"
#include "report/html_parts.hpp"

namespace probity {
namespace {

const std::string kHead =
    html::page_head(
        "probity diff",
        R"CSS(.up{color:#116329}.down{color:#a40e26;font-weight:600}.warn{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:6px 10px;margin:0 0 8px})CSS") +
    R"HTML(<main>
<section id="verdict-section"><h2>Verdict and clause regressions</h2><div id="verdict"></div></section>
<section id="source-section" hidden><h2>Source changes to review</h2><div id="source-changes"></div></section>
<section id="summary"><h2>Summary</h2><div id="warnings"></div><div class="grid" id="stats"></div></section>
<section id="findings-new-section"><h2>New findings</h2><div id="findings-new"></div></section>
<section id="findings-fixed-section"><h2>Fixed findings</h2><div id="findings-fixed"></div></section>
<section id="findings-persisting-section"><h2>Persisting findings</h2><div id="findings-persisting"></div></section>
<section id="accounts-section"><h2>Accounts</h2><div id="accounts"></div></section>
<section id="services-section"><h2>Boot-time services</h2><div id="services"></div></section>
<section id="components-section"><h2>Components</h2><div id="components"></div></section>
<section id="vulns-section"><h2>Vulnerabilities</h2><div id="vulns"></div></section>
<section id="hardening-section"><h2>Hardening</h2><div id="hardening"></div></section>
<section id="keys-section"><h2>Keys</h2><div id="keys"></div></section>
<section id="endpoints-section"><h2>Endpoints</h2><div id="endpoints"></div></section>
<section id="files-section"><h2>Files</h2><div id="files"></div></section>
</main>
<script id="diff-data" type="application/json">)HTML";

const std::string kTail = html::script_start("diff-data", "R") + R"HTML(
const D = (sec, key) => ((R[sec] || {})[key] || []);
const o = R.old || {}, n = R.new || {};
document.getElementById("title").textContent = "probity diff: " + (o.name || "old") + " \u2192 " + (n.name || "new");
document.getElementById("subtitle").textContent = "old sha256 " + (o.sha256 || "?") + " \u00b7 new sha256 " + (n.sha256 || "?");
for (const w of (R.warnings || [])) document.getElementById("warnings").append(el("div", {class: "warn"}, w.code + ": " + w.message));
const stats = document.getElementById("stats");
[["new findings", D("findings", "new").length], ["fixed findings", D("findings", "fixed").length],
 ["accounts added", D("accounts", "added").length], ["accounts removed", D("accounts", "removed").length],
 ["services added", D("services", "added").length], ["components changed", D("components", "changed").length],
 ["CVEs introduced", D("vulnerabilities", "introduced").length], ["CVEs fixed", D("vulnerabilities", "fixed").length],
 ["hardening regressions", D("hardening", "regressions").length],
 ["files added", D("files", "added").length], ["files removed", D("files", "removed").length],
 ["files changed", D("files", "changed").length], ["files moved", D("files", "moved").length]]
  .forEach(([k, v]) => stats.append(el("div", {class: "stat"}, el("b", {}, v), k)));
// Rows of several lists in one table, each tagged with its change ("new", "fixed", ...).
const tagged = (sec, keys) => keys.flatMap(k => D(sec, k).map(x => Object.assign({change: k}, x)));
const code = s => el("code", {}, s == null ? "" : String(s));
// Verdict first: the two results, then the clauses the new image breaks that the old passed.
(() => {
  const v = R.verdict || {}, host = document.getElementById("verdict");
  const badge = r => el("span", {class: "verdict " + (r || "none")}, (r || "none").toUpperCase());
  host.append(badge(v.old), " \u2192 ", badge(v.new));
  const regressions = v.clause_regressions || [], fixed = v.clauses_fixed || [];
  host.append(el("h3", {}, regressions.length + " clause regression" + (regressions.length === 1 ? "" : "s")));
  if (regressions.length)
    table(host, "clause-regressions", regressions.slice(), [
      {title: "clause", get: c => c.id}, {title: "text", get: c => c.text},
      {title: "breaking findings / CVEs", get: c => (c.findings || []).concat(c.vulnerabilities || []).join(" "),
       render: c => { const s = el("span"); (c.findings || []).forEach(id => s.append(el("a", {href: "#finding-" + id}, id), " "));
                      (c.vulnerabilities || []).forEach(id => s.append(el("code", {}, id), " ")); return s; }}]);
  if (fixed.length) {
    host.append(el("h3", {}, fixed.length + " clause(s) the new image fixes"));
    table(host, "clauses-fixed", fixed.slice(), [{title: "clause", get: c => c.id}, {title: "text", get: c => c.text}]);
  }
  for (const [side, list] of [["old", v.old_reasons || []], ["new", v.new_reasons || []]])
    for (const r of list) host.append(el("div", {class: "warn"}, side + " image not fully seen: " + r.code + ": " + r.text));
})();
// `probity source diff`: the security-relevant changes, each with its line on both sides.
if (R.source) {
  const sec = document.getElementById("source-section"), host = document.getElementById("source-changes");
  sec.hidden = false;
  host.append(el("p", {}, R.source.files_changed + " files changed, " + R.source.files_added + " added, " +
    R.source.files_removed + " removed; " + (R.source.changes || []).length + " changes to review" +
    (R.source.hunks_total > (R.source.changes || []).length ? " (cap reached: " + R.source.hunks_total + " hunks)" : "")));
  const lines = t => el("pre", {}, t || "");
  table(host, "source-changes-table", (R.source.changes || []).slice(), [
    {title: "severity", get: c => SEV.length - SEV.indexOf(c.severity), render: c => sevBadge(c.severity)},
    {title: "kind", get: c => c.kind}, {title: "what", get: c => c.message},
    {title: "new", get: c => c.path + ":" + c.new_line, render: c => code(c.new_line ? c.path + ":" + c.new_line : "-")},
    {title: "old", get: c => (c.old_path || "") + ":" + c.old_line, render: c => code(c.old_line ? c.old_path + ":" + c.old_line : "-")},
    {title: "removed", get: c => c.old_text, render: c => lines(c.old_text)},
    {title: "added", get: c => c.new_text, render: c => lines(c.new_text)}]);
}
// New, fixed and persisting findings in their own tables, worst first.
const findingCols = [
  {title: "severity", get: f => SEV.length - SEV.indexOf(f.severity), render: f => sevBadge(f.severity)},
  {title: "category", get: f => f.category}, {title: "rule", get: f => f.rule},
  {title: "path", get: f => f.path, render: f => code(f.path)},
  {title: "message", get: f => f.message + (f.suppression ? " [suppressed: " + f.suppression.state + "]" : "")},
  {title: "id", get: f => f.id, render: f => el("a", {id: "finding-" + f.id, href: "#finding-" + f.id}, f.id)}];
for (const k of ["new", "fixed", "persisting"]) {
  const rows = D("findings", k).slice().sort((a, b) => SEV.indexOf(a.severity) - SEV.indexOf(b.severity));
  const host = document.getElementById("findings-" + k);
  if (!rows.length) host.append("none");
  else table(host, "findings-" + k + "-table", rows, findingCols);
}
table(document.getElementById("accounts"), "accounts-table",
  tagged("accounts", ["added", "removed"]).concat(D("accounts", "changed").map(c => Object.assign({change: "changed: " + c.changes.join(", ")}, c.to))), [
  {title: "change", get: a => a.change}, {title: "name", get: a => a.name},
  {title: "uid", get: a => a.uid, render: a => a.uid === 0 ? el("b", {class: "down"}, "0") : String(a.uid)},
  {title: "gid", get: a => a.gid}, {title: "shell", get: a => a.shell}, {title: "home", get: a => a.home},
  {title: "password", get: a => a.password}, {title: "file", get: a => a.path, render: a => code(a.path)}]);
table(document.getElementById("services"), "services-table", tagged("services", ["added", "removed"]), [
  {title: "change", get: s => s.change}, {title: "name", get: s => s.name}, {title: "how", get: s => s.how},
  {title: "command", get: s => s.command, render: s => code(s.command)}, {title: "file", get: s => s.path, render: s => code(s.path)}]);
table(document.getElementById("components"), "components-table",
  D("components", "changed").map(c => ({change: c.direction, name: c.name, from: c.from, to: c.to}))
    .concat(D("components", "added").map(c => ({change: "added", name: c.name, from: "", to: c.version})))
    .concat(D("components", "removed").map(c => ({change: "removed", name: c.name, from: c.version, to: ""}))), [
  {title: "change", get: c => c.change, render: c => el("span", {class: c.change === "downgrade" ? "down" : c.change === "upgrade" ? "up" : ""}, c.change)},
  {title: "name", get: c => c.name}, {title: "from", get: c => c.from}, {title: "to", get: c => c.to}]);
table(document.getElementById("vulns"), "vulns-table", tagged("vulnerabilities", ["introduced", "fixed"]), [
  {title: "change", get: v => v.change}, {title: "id", get: v => v.id},
  {title: "component", get: v => v.component + " " + v.version},
  {title: "severity", get: v => v.severity || "", render: v => sevBadge(v.severity || "info")},
  {title: "cvss", get: v => v.cvss || 0}]);
table(document.getElementById("hardening"), "hardening-table",
  D("hardening", "regressions").map(h => ({change: "lost", path: h.path, what: h.lost.join(", ")}))
    .concat(D("hardening", "improvements").map(h => ({change: "gained", path: h.path, what: h.gained.join(", ")}))), [
  {title: "change", get: h => h.change, render: h => el("span", {class: h.change === "lost" ? "down" : "up"}, h.change)},
  {title: "binary", get: h => h.path, render: h => code(h.path)}, {title: "protections", get: h => h.what}]);
table(document.getElementById("keys"), "keys-table", tagged("keys", ["added", "removed"]), [
  {title: "change", get: k => k.change}, {title: "role", get: k => k.role}, {title: "type", get: k => k.type + " " + k.bits},
  {title: "fingerprint", get: k => k.fingerprint, render: k => code(k.fingerprint)}, {title: "file", get: k => k.path, render: k => code(k.path)}]);
table(document.getElementById("endpoints"), "endpoints-table", tagged("endpoints", ["added", "removed"]), [
  {title: "change", get: e => e.change}, {title: "endpoint", get: e => e.value, render: e => code(e.value)},
  {title: "kind", get: e => e.kind}, {title: "class", get: e => e.class}, {title: "file", get: e => e.path, render: e => code(e.path)}]);
table(document.getElementById("files"), "files-table",
  tagged("files", ["added", "removed"]).map(f => ({change: f.change, path: f.path, detail: f.type + (f.sha256 ? " " + f.sha256.slice(0, 16) : "")}))
    .concat(D("files", "changed").map(c => ({change: "changed", path: c.path, detail: c.changes.join(", ")})))
    .concat(D("files", "moved").map(m => ({change: "moved", path: m.from + " \u2192 " + m.to, detail: m.match + " " + m.similarity}))), [
  {title: "change", get: f => f.change}, {title: "path", get: f => f.path, render: f => code(f.path)}, {title: "detail", get: f => f.detail}]);
</script></body></html>
)HTML";

}  // namespace

std::string diff_html(const nlohmann::json& delta) {
  return kHead + html::embed_json(delta) + kTail;
}

}  // namespace probity
