// Shared parts of the self-contained HTML pages (report.html, diff.html, equiv.html): the style
// sheet, the small DOM helpers (el, sevBadge, a searchable sortable table) and safe JSON embedding.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace probity::html {

/// The style sheet (inside <style>...</style>).
inline constexpr const char* kStyle =
    R"CSS(body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f8fa}
header{background:#24292f;color:#fff;padding:16px 24px}
header h1{margin:0;font-size:20px} header .sub{opacity:.8;font-size:12px;word-break:break-all}
main{padding:16px 24px;max-width:1400px}
section{background:#fff;border:1px solid #d0d7de;border-radius:6px;margin:0 0 16px;padding:12px 16px}
h2{font-size:16px;margin:4px 0 10px}
.verdict{font-size:18px;font-weight:700;padding:4px 10px;border-radius:4px;display:inline-block}
.pass{background:#dafbe1;color:#116329}.fail{background:#ffebe9;color:#a40e26}
.inconclusive{background:#fff8c5;color:#7d4e00}
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
nav{padding:8px 24px;background:#fff;border-bottom:1px solid #d0d7de;font-size:13px} nav a{margin-right:10px}
a{color:#0969da;text-decoration:none} a:hover{text-decoration:underline} :target{background:#fff8c5}
.legend{font-size:12px;margin:4px 0 8px}.legend .key{display:inline-block;width:12px;height:12px;vertical-align:middle}
details.fileview pre{background:#f6f8fa;padding:6px;max-height:320px;overflow:auto}
h3{font-size:14px;margin:10px 0 6px}
)CSS";

/// const SEV, el(tag, attrs, ...kids), sevBadge(s), table(host, id, rows, cols).
inline constexpr const char* kHelpers = R"JS(const SEV = ["critical","high","medium","low","info"];
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
)JS";

/// The JSON text to place inside <script type="application/json">: every "</" is escaped so
/// that strings from the image cannot close the element early.
std::string embed_json(const nlohmann::json& j);

/// The end of the page's embedded JSON and the start of its script: strict mode, `const <var>`
/// parsed from the JSON element `data_id`, then the shared helpers (kHelpers).
inline std::string script_start(std::string_view data_id, std::string_view var) {
  std::string s = "</script>\n<script>\n\"use strict\";\nconst ";
  s.append(var).append(" = JSON.parse(document.getElementById(\"").append(data_id);
  s.append("\").textContent);\n").append(kHelpers);
  return s;
}

/// The start of a page up to its <main>: doctype, the content security policy that keeps it
/// offline, `title`, the style sheet followed by the page's own `extra_css`, and the header (the
/// title and an empty #subtitle the script fills in).
inline std::string page_head(std::string_view title, std::string_view extra_css = {}) {
  std::string s = R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>)HTML";
  s.append(title).append("</title>\n<style>\n").append(kStyle);
  if (!extra_css.empty()) s.append("\n").append(extra_css).append("\n");
  s.append("</style></head><body>\n<header><h1 id=\"title\">").append(title);
  s.append("</h1><div class=\"sub\" id=\"subtitle\"></div></header>\n");
  return s;
}

}  // namespace probity::html
