// Loading version signatures from data/signatures/*.toml (format: docs/signatures.md).
#include <fmt/format.h>

#include <toml++/toml.h>
#include <algorithm>
#include <cctype>
#include <set>

#include "core/toml_bounded.hpp"
#include "probity/data.hpp"
#include "probity/identify.hpp"

namespace probity {
namespace {

std::vector<std::string> string_list(const toml::table& t, std::string_view key) {
  std::vector<std::string> out;
  if (const auto* a = t[key].as_array())
    for (const auto& v : *a)
      if (auto s = v.value<std::string>()) out.push_back(*s);
  return out;
}

Result<Signature> parse_entry(const toml::table& t, const std::string& file) {
  Signature s;
  s.source = file;
  const auto where = [&](std::string_view what) {
    return fail(fmt::format("signature '{}': {}", s.id, what), 0, file);
  };
  s.id = t["id"].value_or(std::string{});
  if (s.id.empty()) return fail("signature without an id", 0, file);
  s.vendor = t["vendor"].value_or(std::string{});
  s.product = t["product"].value_or(s.id);
  s.part = t["part"].value_or(std::string("a"));
  s.purl = t["purl"].value_or(fmt::format("pkg:generic/{}", s.id));
  if (s.vendor.empty()) return where("no vendor (the CPE 2.3 vendor)");
  if (s.part != "a" && s.part != "o" && s.part != "h") return where("part must be a, o or h");
  if (!s.purl.starts_with("pkg:")) return where("purl must start with pkg:");
  s.files = string_list(t, "files");
  s.packages = string_list(t, "packages");
  s.anchors = string_list(t, "anchors");
  s.context = string_list(t, "context");
  for (auto& r : string_list(t, "versions")) s.versions.push_back({std::move(r), false});
  for (auto& r : string_list(t, "hinted_versions")) s.versions.push_back({std::move(r), true});
  s.filenames = string_list(t, "filenames");
  s.negatives = string_list(t, "negatives");
  if (const auto* m = t["version_map"].as_table())
    for (const auto& [k, v] : *m)
      if (auto val = v.value<std::string>()) s.version_map[std::string(k.str())] = *val;
  if (const auto* tests = t["tests"].as_array()) {
    for (const auto& e : *tests) {
      const auto* pair = e.as_array();
      if (!pair || pair->size() != 2) return where("each test is [\"input\", \"version\"]");
      auto in = (*pair)[0].value<std::string>();
      auto ver = (*pair)[1].value<std::string>();
      if (!in || !ver) return where("each test is [\"input\", \"version\"]");
      s.tests.push_back({*in, *ver});
    }
  }
  if (s.versions.empty() && s.filenames.empty() && s.packages.empty())
    return where("needs versions, filenames or packages");
  if (!s.versions.empty() && s.tests.empty()) return where("version regexes need test cases");
  for (const auto& v : s.versions) {
    // The regex's literal text: escaped punctuation ("\\.", "\\(") read as itself.
    std::string literal;
    for (std::size_t i = 0; i < v.regex.size(); ++i) {
      if (v.regex[i] == '\\' && i + 1 < v.regex.size() &&
          std::ispunct(static_cast<unsigned char>(v.regex[i + 1])))
        ++i;
      literal += v.regex[i];
    }
    if (v.hinted && s.files.empty()) return where("hinted_versions need file-name hints");
    if (s.anchors.empty()) continue;
    // Every regex must contain one of the anchors literally: the anchor is what lets vectorscan
    // reject most bytes quickly, and what a reviewer reads to know what the regex looks for.
    const bool anchored = std::ranges::any_of(
        s.anchors, [&](const std::string& a) { return literal.find(a) != std::string::npos; });
    if (!anchored) return where(fmt::format("regex '{}' contains none of the anchors", v.regex));
  }
  return s;
}

}  // namespace

std::filesystem::path default_signature_dir() {
  return data_dir() / "signatures";
}

Result<std::vector<Signature>> load_signatures(const std::filesystem::path& dir) {
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.is_regular_file() && e.path().extension() == ".toml") files.push_back(e.path());
  if (ec)
    return fail(fmt::format("cannot read the signature directory: {}", ec.message()), 0,
                dir.string());
  std::ranges::sort(files);
  std::vector<Signature> out;
  std::set<std::string> ids;
  for (const auto& f : files) {
    auto parsed = load_toml_bounded(f);
    if (!parsed) return std::unexpected(parsed.error());
    const auto* products = (*parsed)["product"].as_array();
    if (!products) return fail("no [[product]] entries", 0, f.string());
    for (const auto& p : *products) {
      const auto* t = p.as_table();
      if (!t) return fail("[[product]] must be a table", 0, f.string());
      auto s = parse_entry(*t, f.string());
      if (!s) return std::unexpected(s.error());
      if (!ids.insert(s->id).second)
        return fail(fmt::format("duplicate signature id '{}'", s->id), 0, f.string());
      out.push_back(std::move(*s));
    }
  }
  if (out.empty()) return fail("no signatures found", 0, dir.string());
  return out;
}

std::string make_purl(const Signature& s, const std::string& version) {
  std::string v;
  for (unsigned char c : version) {
    if (std::isalnum(c) || c == '.' || c == '-' || c == '_' || c == '~')
      v += char(c);
    else
      v += fmt::format("%{:02X}", c);
  }
  return version.empty() ? s.purl : fmt::format("{}@{}", s.purl, v);
}

std::string make_cpe(const Signature& s, const std::string& version) {
  // CPE 2.3 formatted string binding: special characters in a component are backslash-quoted.
  const auto quote = [](const std::string& in) {
    std::string o;
    for (unsigned char c : in) {
      if (!std::isalnum(c) && c != '_' && c != '.' && c != '-') o += '\\';
      o += char(c);
    }
    return o;
  };
  return fmt::format("cpe:2.3:{}:{}:{}:{}:*:*:*:*:*:*:*", s.part, quote(s.vendor), quote(s.product),
                     version.empty() ? "*" : quote(version));
}

}  // namespace probity
