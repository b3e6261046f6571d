// Loading version signatures from data/signatures/*.toml (format: docs/signatures.md).
#include <fmt/format.h>

#include <toml++/toml.h>
#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <map>
#include <regex>
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
  s.sonames = string_list(t, "sonames");
  s.symbol_versions = string_list(t, "symbol_versions");
  s.negatives = string_list(t, "negatives");
  s.cpe_reason = t["cpe_reason"].value_or(std::string{});
  if (const auto* m = t["version_map"].as_table())
    for (const auto& [k, v] : *m)
      if (auto val = v.value<std::string>()) s.version_map[std::string(k.str())] = *val;
  auto pairs = [&](const char* key, std::vector<SignatureTest>& out) -> bool {
    if (const auto* tests = t[key].as_array())
      for (const auto& e : *tests) {
        const auto* pair = e.as_array();
        if (!pair || pair->size() != 2) return false;
        auto in = (*pair)[0].value<std::string>();
        auto ver = (*pair)[1].value<std::string>();
        if (!in || !ver) return false;
        out.push_back({*in, *ver});
      }
    return true;
  };
  if (!pairs("tests", s.tests)) return where("each test is [\"input\", \"version\"]");
  if (!pairs("symbol_version_tests", s.symbol_version_tests))
    return where("each symbol_version_test is [\"node\", \"lower bound\"]");
  if (!s.symbol_versions.empty() && s.symbol_version_tests.empty())
    return where("symbol_versions need symbol_version_tests");
  for (const auto& list : {&s.sonames, &s.symbol_versions})
    for (const auto& r : *list) try {
        (void)std::regex(r, std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        return where(fmt::format("regex '{}': {}", r, e.what()));
      }
  if (s.versions.empty() && s.filenames.empty() && s.packages.empty() && s.sonames.empty() &&
      s.symbol_versions.empty())
    return where("needs versions, filenames, packages, sonames or symbol_versions");
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

/// Reads `file` (id, vendor, product, nvd_cves; tab-separated; '#' comments; a header line
/// starting with "id") into the signatures: each pair other than a signature's own becomes an
/// alias, and the counts are summed. A row naming no signature is an error (stale data).
Status load_aliases(const std::filesystem::path& file, std::vector<Signature>& sigs) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) return fail(fmt::format("cannot read: {}", ec.message()), 0, file.string());
  if (size > kMaxAliasFileBytes)
    return fail(fmt::format("{} bytes is over the {} byte cap (kMaxAliasFileBytes)", size,
                            kMaxAliasFileBytes),
                0, file.string());
  std::ifstream in(file, std::ios::binary);
  if (!in) return fail("cannot open", 0, file.string());
  std::map<std::string, std::size_t, std::less<>> by_id;
  for (std::size_t i = 0; i < sigs.size(); ++i) by_id.emplace(sigs[i].id, i);
  std::string line;
  std::uint64_t offset = 0;
  while (std::getline(in, line)) {
    const std::uint64_t at = offset;
    offset += line.size() + 1;
    if (line.empty() || line.starts_with('#') || line.starts_with("id\t")) continue;
    std::vector<std::string_view> f;
    for (std::string_view rest = line;;) {
      const auto tab = rest.find('\t');
      f.push_back(rest.substr(0, tab));
      if (tab == std::string_view::npos) break;
      rest.remove_prefix(tab + 1);
    }
    std::uint64_t cves = 0;
    if (f.size() != 4 || f[1].empty() || f[2].empty() ||
        std::from_chars(f[3].data(), f[3].data() + f[3].size(), cves).ec != std::errc{})
      return fail("expected: id, vendor, product, nvd_cves (tab-separated)", at, file.string());
    const auto it = by_id.find(f[0]);
    if (it == by_id.end())
      return fail(fmt::format("alias of an unknown signature '{}'", f[0]), at, file.string());
    auto& sig = sigs[it->second];
    sig.nvd_cves += cves;
    if (f[1] == sig.vendor && f[2] == sig.product) continue;
    sig.cpe_aliases.emplace_back(std::string(f[1]), std::string(f[2]));
  }
  return {};
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
  if (const auto aliases = dir / "cpe-aliases.tsv"; std::filesystem::exists(aliases, ec))
    if (auto st = load_aliases(aliases, out); !st) return std::unexpected(st.error());
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

std::vector<std::string> make_cpe_aliases(const Signature& s, const std::string& version) {
  std::vector<std::string> out;
  for (const auto& [vendor, product] : s.cpe_aliases) {
    Signature alias;
    alias.part = s.part;
    alias.vendor = vendor;
    alias.product = product;
    out.push_back(make_cpe(alias, version));
  }
  return out;
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

std::optional<std::string> symbol_version_bound(const std::regex& re, std::string_view node) {
  std::match_results<std::string_view::const_iterator> m;
  if (node.size() > kMaxVersionLength * 2 || !std::regex_match(node.begin(), node.end(), m, re))
    return std::nullopt;
  std::string bound;
  for (std::size_t g = 1; g < m.size(); ++g)
    if (m[g].matched && m[g].length() > 0) bound += (bound.empty() ? "" : ".") + m[g].str();
  if (bound.empty() || bound.size() > kMaxVersionLength) return std::nullopt;
  return bound;
}

}  // namespace probity
