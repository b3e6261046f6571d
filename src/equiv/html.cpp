// equiv.html: one self-contained page (no network), in the style of report.html
// (src/report/html.cpp): equiv.json is embedded and rendered by a small script.
#include <string>

#include "probity/equiv.hpp"

namespace probity {
namespace {

constexpr const char* kHead = R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>probity equiv</title>
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
th{background:#f6f8fa;position:sticky;top:0}
td code,pre{font:12px ui-monospace,monospace;white-space:pre-wrap;word-break:break-all}
pre .add{background:#dafbe1} pre .del{background:#ffebe9} pre .hunk{color:#8250df}
input.search{display:block;width:320px;padding:4px 8px;margin:0 0 8px;border:1px solid #d0d7de;border-radius:4px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:8px}
.stat{border:1px solid #eaeef2;border-radius:6px;padding:8px}.stat b{font-size:20px;display:block}
</style></head><body>
<header><h1 id="title">probity equiv</h1><div class="sub" id="subtitle"></div></header>
<main>
<section id="verdict"><h2>Verdict</h2><div id="verdict-body"></div><div class="grid" id="stats"></div></section>
<section id="normalisations-section"><h2>Normalisations (masked, by rule)</h2><div id="normalisations"></div></section>
<section id="differences-section"><h2>Differences no normalisation explains</h2><div id="differences"></div></section>
<section id="warnings-section"><h2>Warnings</h2><div id="warnings"></div></section>
</main>
<script id="equiv-data" type="application/json">)HTML";

constexpr const char* kTail = R"HTML(</script>
<script>
"use strict";
const E = JSON.parse(document.getElementById("equiv-data").textContent);
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(k == null ? "" : String(k)));
  return e;
}
function diffPre(text) {
  const pre = el("pre", {class: "udiff"});
  for (const line of text.split("\n")) {
    const cls = line.startsWith("@@") ? "hunk" : (line.startsWith("+") && !line.startsWith("+++")) ? "add"
              : (line.startsWith("-") && !line.startsWith("---")) ? "del" : "";
    pre.append(el("span", cls ? {class: cls} : {}, line + "\n"));
  }
  return pre;
}
function table(host, id, rows, cols) {
  const search = el("input", {class: "search", type: "search", placeholder: "search…", "aria-label": "search " + id});
  const t = el("table", {id: id});
  const head = el("tr");
  cols.forEach(c => head.append(el("th", {}, c.title)));
  const body = el("tbody");
  t.append(el("thead", {}, head), body);
  function fill() {
    const q = search.value.toLowerCase();
    body.replaceChildren();
    for (const r of rows) {
      if (q && !JSON.stringify(r).toLowerCase().includes(q)) continue;
      const tr = el("tr");
      for (const c of cols) tr.append(el("td", {}, c.render(r)));
      body.append(tr);
    }
  }
  search.addEventListener("input", fill);
  fill();
  host.replaceChildren(search, t);
}
document.getElementById("title").textContent = "probity equiv: " + E.shipped.name + " vs " + E.rebuilt.name;
document.getElementById("subtitle").textContent =
  "shipped sha256 " + E.shipped.sha256 + " · rebuilt sha256 " + E.rebuilt.sha256 + " · probity " + E.tool.version;
const ok = E.verdict !== "different";
document.getElementById("verdict-body").append(
  el("span", {id: "verdict-result", class: "verdict " + (ok ? "pass" : "fail")}, E.verdict.toUpperCase()));
const stats = [["normalisations", E.normalisations.length], ["bytes masked", E.normalised_bytes],
               ["differences", E.differences_total], ["entries compared", E.files_compared]];
for (const [k, v] of stats) document.getElementById("stats").append(el("div", {class: "stat"}, el("b", {}, v), k));
table(document.getElementById("normalisations"), "normalisations-table", E.normalisations, [
  {title: "rule", render: n => el("code", {}, n.rule)},
  {title: "path", render: n => el("code", {}, n.path)},
  {title: "bytes", render: n => n.bytes},
  {title: "detail", render: n => n.detail + ("verified" in n ? " (verified: " + n.verified + ")" : "")},
]);
table(document.getElementById("differences"), "differences-table", E.differences, [
  {title: "path", render: d => el("code", {}, d.path)},
  {title: "kind", render: d => d.kind},
  {title: "explanation", render: d => {
    const box = el("div", {}, d.explanation);
    if (d.symbols && d.symbols.length) box.append(el("div", {}, "symbols: ", el("code", {}, d.symbols.join(", "))));
    if (d.ranges) box.append(el("div", {}, "ranges: ", el("code", {}, d.ranges.map(r => "0x" + r.offset.toString(16) + "+" + r.length).join(", "))));
    if (d.unified_diff) box.append(diffPre(d.unified_diff));
    if (d.hexdump_diff) box.append(diffPre(d.hexdump_diff));
    return box;
  }},
]);
const w = document.getElementById("warnings");
if (E.warnings.length) { const ul = el("ul"); for (const x of E.warnings) ul.append(el("li", {}, x)); w.append(ul); }
else w.append("none");
</script></body></html>
)HTML";

}  // namespace

std::string equiv_html(const Equivalence& e) {
  const std::string data =
      equiv_json(e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
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
