// Non-JSON intelligence sources: FIRST EPSS CSV, endoflife.date product files (YAML front
// matter, read with yaml-cpp) and the CPE alias table. Each is text of bounded size (the caller
// reads it with a cap); a malformed line is a warning naming the line, never the end of the file.
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cstdlib>

#include "core/text.hpp"
#include "probity/limits.hpp"
#include "vuln/record.hpp"

namespace probity::vuln {
namespace {

// Calls `f(line, number)` for each line (CR stripped), numbers from 1.
template <class F>
void each_line(std::string_view text, F&& f) {
  std::size_t pos = 0, n = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    f(line, ++n);
    pos = nl + 1;
  }
}

void warn(TextImport& t, std::string w) {
  ++t.rejected;
  if (t.warnings.size() < kMaxIntelTextWarnings) t.warnings.push_back(std::move(w));
}

bool parse_unit(std::string_view s, double& out) {
  // from_chars for double is in GCC 12's libstdc++.
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && out >= 0.0 && out <= 1.0;
}

// YAML scalar as text ("" when absent or not a scalar).
std::string scalar(const YAML::Node& n, const char* key) {
  const YAML::Node v = n[key];
  if (!v || !v.IsScalar()) return {};
  return v.Scalar();
}

bool is_iso_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (std::size_t i : {0u, 1u, 2u, 3u, 5u, 6u, 8u, 9u})
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  return true;
}

}  // namespace

Result<TextImport> parse_epss_csv(
    std::string_view text, const std::function<void(std::string_view, double, double)>& row) {
  TextImport t;
  bool header = false;
  each_line(text, [&](std::string_view line, std::size_t n) {
    if (line.empty()) return;
    if (line.front() == '#') {
      // FIRST's files open with "#model_version:v2023.03.01,score_date:2023-03-26T00:00:00+0000".
      if (auto p = line.find("score_date:"); p != std::string_view::npos)
        t.data_date = std::string(line.substr(p + 11, 10));
      return;
    }
    if (!header) {
      if (!line.starts_with("cve,epss,percentile")) {
        warn(t, fmt::format("line {}: expected the header cve,epss,percentile", n));
        return;
      }
      header = true;
      return;
    }
    const auto c1 = line.find(',');
    const auto c2 = c1 == std::string_view::npos ? c1 : line.find(',', c1 + 1);
    double score = 0, pct = 0;
    if (c2 == std::string_view::npos || !line.starts_with("CVE-") ||
        !parse_unit(line.substr(c1 + 1, c2 - c1 - 1), score) ||
        !parse_unit(line.substr(c2 + 1, line.find(',', c2 + 1) - c2 - 1), pct)) {
      warn(t, fmt::format("line {}: not cve,score,percentile with scores in [0,1]", n));
      return;
    }
    ++t.rows;
    row(line.substr(0, c1), score, pct);
  });
  if (!header) return fail("not an EPSS CSV (no cve,epss,percentile header)");
  return t;
}

Result<TextImport> parse_endoflife_md(std::string_view text, std::string_view product,
                                      const std::function<void(const EolRow&)>& row,
                                      std::vector<std::string>& names) {
  TextImport t;
  // YAML front matter: from a first line "---" to the next "---".
  if (!text.starts_with("---")) return fail("not an endoflife.date product file (no front matter)");
  const auto end = text.find("\n---", 3);
  if (end == std::string_view::npos) return fail("front matter not closed by ---");
  const std::string yaml(text.substr(3, end - 3));
  // yaml-cpp parses recursively: bound the size and the nesting (flow brackets and indentation)
  // before handing it the text.
  if (yaml.size() > kMaxEolFileBytes)
    return fail(fmt::format("front matter over kMaxEolFileBytes ({} bytes)", yaml.size()));
  {
    int depth = 0;
    std::size_t indent = 0;
    bool line_start = true;
    for (std::size_t i = 0; i < yaml.size(); ++i) {
      const char c = yaml[i];
      if (c == '\n') {
        line_start = true;
        indent = 0;
        continue;
      }
      if (line_start && (c == ' ' || c == '-')) {
        if (++indent > 2 * kMaxJsonDepth)
          return fail(
              fmt::format("front matter indented deeper than kMaxJsonDepth (offset {})", i));
        continue;
      }
      line_start = false;
      if (c == '[' || c == '{') {
        if (++depth > static_cast<int>(kMaxJsonDepth))
          return fail(fmt::format("front matter nested deeper than kMaxJsonDepth (offset {})", i));
      } else if (c == ']' || c == '}') {
        --depth;
      }
    }
  }
  YAML::Node doc;
  try {
    doc = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    return fail(fmt::format("YAML front matter: {} (line {})", e.msg, e.mark.line + 2));
  }
  try {
    if (!doc.IsMap() || !doc["releases"] || !doc["releases"].IsSequence())
      return fail("front matter without a releases list");
    names.push_back(lower(product));
    if (auto title = scalar(doc, "title"); !title.empty()) names.push_back(lower(title));
    if (const YAML::Node ids = doc["identifiers"]; ids && ids.IsSequence())
      for (const auto& id : ids) {
        if (!id.IsMap()) continue;
        if (auto cpe = scalar(id, "cpe"); !cpe.empty()) {
          // cpe:2.3:a:vendor:product… or cpe:/a:vendor:product…: the product field.
          std::vector<std::string> f;
          std::string cur;
          for (char c : cpe) {
            if (c == ':')
              f.push_back(cur), cur.clear();
            else
              cur += c;
          }
          f.push_back(cur);
          const std::size_t at = cpe.starts_with("cpe:2.3:") ? 4 : 3;
          if (f.size() > at && !f[at].empty()) names.push_back(lower(f[at]));
        }
        if (auto purl = scalar(id, "purl"); purl.starts_with("pkg:generic/")) {
          auto n = purl.substr(12);
          names.push_back(lower(n.substr(0, n.find_first_of("@?#"))));
        }
        if (auto rep = scalar(id, "repology"); !rep.empty()) names.push_back(lower(rep));
      }
    const std::string link = fmt::format("https://endoflife.date/{}", product);
    std::size_t i = 0;
    for (const auto& rel : doc["releases"]) {
      ++i;
      EolRow r;
      r.product = std::string(product);
      r.cycle = scalar(rel, "releaseCycle");
      if (r.cycle.empty()) {
        warn(t, fmt::format("release {}: no releaseCycle", i));
        continue;
      }
      r.release_date = scalar(rel, "releaseDate");
      // eol: a date, true (ended, date not given) or false (supported).
      const auto eol = scalar(rel, "eol");
      if (is_iso_date(eol))
        r.eol = eol;
      else if (eol == "true")
        r.eol = "ended";
      else if (eol != "false")
        r.eol = "";
      r.latest = scalar(rel, "latest");
      r.source = link;
      ++t.rows;
      row(r);
    }
  } catch (const YAML::Exception& e) {
    return fail(fmt::format("front matter: {}", e.msg));
  }
  return t;
}

Result<TextImport> parse_alias_tsv(
    std::string_view text,
    const std::function<void(std::string_view, std::string_view, std::string_view)>& row) {
  TextImport t;
  bool header = false;
  each_line(text, [&](std::string_view line, std::size_t n) {
    if (line.empty() || line.front() == '#') return;
    if (!header) {
      header = true;
      if (line.starts_with("probity_id\t")) return;
    }
    const auto t1 = line.find('\t');
    const auto t2 = t1 == std::string_view::npos ? t1 : line.find('\t', t1 + 1);
    if (t2 == std::string_view::npos || t1 == 0 || t2 == t1 + 1 || t2 + 1 >= line.size()) {
      warn(t, fmt::format("line {}: expected probity_id, cpe_vendor, cpe_product", n));
      return;
    }
    ++t.rows;
    row(line.substr(0, t1), line.substr(t1 + 1, t2 - t1 - 1), line.substr(t2 + 1));
  });
  if (!header) return fail("empty alias table");
  return t;
}

}  // namespace probity::vuln
