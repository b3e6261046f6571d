// equiv.html: one self-contained page (no network) with the style, table helpers and JSON
// embedding report.html and diff.html use (src/report/html_parts.hpp).
#include <string>

#include "probity/equiv.hpp"
#include "report/html_parts.hpp"

namespace probity {
namespace {

const std::string kHead =
    html::page_head(
        "probity equiv",
        R"CSS(pre .add{background:#dafbe1} pre .del{background:#ffebe9} pre .hunk{color:#8250df})CSS") +
    R"HTML(<main>
<section id="verdict"><h2>Verdict</h2><div id="verdict-body"></div><div class="grid" id="stats"></div></section>
<section id="normalisations-section"><h2>Normalisations (masked, by rule)</h2><div id="normalisations"></div></section>
<section id="differences-section"><h2>Differences no normalisation explains</h2><div id="differences"></div></section>
<section id="warnings-section"><h2>Warnings</h2><div id="warnings"></div></section>
</main>
<script id="equiv-data" type="application/json">)HTML";

const std::string kTail = html::script_start("equiv-data", "E") + R"HTML(
function diffPre(text) {
  const pre = el("pre", {class: "udiff"});
  for (const line of text.split("\n")) {
    const cls = line.startsWith("@@") ? "hunk" : (line.startsWith("+") && !line.startsWith("+++")) ? "add"
              : (line.startsWith("-") && !line.startsWith("---")) ? "del" : "";
    pre.append(el("span", cls ? {class: cls} : {}, line + "\n"));
  }
  return pre;
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
  {title: "rule", get: n => n.rule, render: n => el("code", {}, n.rule)},
  {title: "path", get: n => n.path, render: n => el("code", {}, n.path)},
  {title: "bytes", get: n => n.bytes},
  {title: "detail", get: n => n.detail + ("verified" in n ? " (verified: " + n.verified + ")" : "")},
]);
table(document.getElementById("differences"), "differences-table", E.differences, [
  {title: "path", get: d => d.path, render: d => el("code", {}, d.path)},
  {title: "kind", get: d => d.kind},
  {title: "explanation",
   get: d => [d.explanation, ...(d.symbols || []), d.unified_diff || "", d.hexdump_diff || ""].join(" "),
   render: d => {
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
  return kHead + html::embed_json(equiv_json(e)) + kTail;
}

}  // namespace probity
