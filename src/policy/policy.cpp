#include "probity/policy.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "checks_support/endpoint_class.hpp"
#include "core/toml_bounded.hpp"
#include "policy/evidence.hpp"
#include "probity/data.hpp"
#include "probity/hash.hpp"
#include "probity/limits.hpp"
#include "probity/mapped_file.hpp"

namespace probity {
namespace {

constexpr std::string_view kCategories[] = {
    "account",   "credentials", "remote-access",    "private-key",          "known-backdoor",
    "hardening", "endpoint",    "update-integrity", "vulnerable-component", "outdated-component",
    "provenance"};
/// CycloneDX 1.6 impactAnalysisJustification values.
constexpr std::string_view kJustifications[] = {
    "code_not_present",     "code_not_reachable",     "requires_configuration",
    "requires_dependency",  "requires_environment",   "protected_by_compiler",
    "protected_at_runtime", "protected_at_perimeter", "protected_by_mitigating_control"};
constexpr std::string_view kStates[] = {"not_affected", "false_positive", "accepted"};

template <std::size_t N>
bool one_of(std::string_view v, const std::string_view (&set)[N]) {
  return std::find(std::begin(set), std::end(set), v) != std::end(set);
}

/// A value as the file wrote it, for errors (shortened).
std::string shown(const toml::node& n) {
  std::ostringstream o;
  if (const auto* s = n.as_string())
    o << '\'' << s->get() << '\'';
  else
    n.visit([&](const auto& v) { o << v; });
  std::string out = o.str();
  if (out.size() > 80) out = out.substr(0, 77) + "...";
  for (auto& c : out)
    if (static_cast<unsigned char>(c) < 0x20) c = '?';
  return out;
}

/// Reads the keys of one TOML file, checking types and ranges; every error names the file, the
/// key, the value and its byte offset. A wrong type is an error, never a default: a typo must
/// never silently weaken the agreement.
class Keys {
 public:
  Keys(std::string_view text, const std::string& origin) : text_(text), origin_(origin) {}

  std::unexpected<Error> bad(const toml::node& at, std::string message) const {
    return fail(std::move(message), toml_offset(text_, at.source()), origin_);
  }
  std::unexpected<Error> bad(std::string message) const {
    return fail(std::move(message), 0, origin_);
  }

  /// An optional string (absent: "").
  Result<std::string> str(const toml::table& t, std::string_view key,
                          const std::string& where) const {
    const toml::node* n = t.get(key);
    if (!n) return std::string();
    if (const auto* s = n->as_string()) return s->get();
    return bad(*n, fmt::format("{}{} = {} must be a string", where, key, shown(*n)));
  }
  Result<std::vector<std::string>> strings(const toml::table& t, std::string_view key,
                                           const std::string& where) const {
    std::vector<std::string> out;
    const toml::node* n = t.get(key);
    if (!n) return out;
    const toml::array* a = n->as_array();
    if (!a)
      return bad(*n, fmt::format("{}{} = {} must be an array of strings", where, key, shown(*n)));
    for (const auto& e : *a) {
      const auto* s = e.as_string();
      if (!s) return bad(e, fmt::format("{}{}: {} is not a string", where, key, shown(e)));
      out.push_back(s->get());
    }
    return out;
  }
  /// Every entry of `key` passes `ok` (else the error names the entry and what it should be).
  template <class Ok>
  Result<std::vector<std::string>> checked_strings(const toml::table& t, std::string_view key,
                                                   const std::string& where, Ok ok,
                                                   std::string_view expected) const {
    auto v = strings(t, key, where);
    if (!v) return v;
    const toml::array* a = t.get_as<toml::array>(key);
    for (std::size_t i = 0; i < v->size(); ++i)
      if (!ok((*v)[i]))
        return bad(*a->get(i),
                   fmt::format("{}{}: {} is not {}", where, key, shown(*a->get(i)), expected));
    return v;
  }
  Result<bool> boolean(const toml::table& t, std::string_view key, const std::string& where) const {
    const toml::node* n = t.get(key);
    if (!n) return false;
    if (const auto* b = n->as_boolean()) return b->get();
    return bad(*n, fmt::format("{}{} = {} must be true or false", where, key, shown(*n)));
  }
  /// An optional number (integer or float) that must be finite and within [lo, hi].
  Result<std::optional<double>> number(const toml::table& t, std::string_view key,
                                       const std::string& where, double lo, double hi,
                                       std::string_view what) const {
    const toml::node* n = t.get(key);
    if (!n) return std::optional<double>();
    std::optional<double> v;
    if (const auto* i = n->as_integer()) v = double(i->get());
    if (const auto* f = n->as_floating_point()) v = f->get();
    if (!v || !std::isfinite(*v) || *v < lo || *v > hi)
      return bad(*n, fmt::format("{}{} = {} must be {} (a finite number from {} to {})", where, key,
                                 shown(*n), what, lo, hi));
    return v;
  }
  /// Keys other than `known` are errors.
  Status only(const toml::table& t, std::initializer_list<std::string_view> known,
              const std::string& where) const {
    for (const auto& [k, v] : t)
      if (std::find(known.begin(), known.end(), k.str()) == known.end()) {
        std::string list;
        for (auto n : known) list += (list.empty() ? "" : ", ") + std::string(n);
        return bad(v, fmt::format("{}unknown key '{}' (expected {})", where, k.str(), list));
      }
    return {};
  }

 private:
  std::string_view text_;
  const std::string& origin_;
};

/// A domain name as the endpoint allowlist compares it: letters, digits, '-', '_' and dots
/// (one leading dot allowed: ".example.com" means the same as "example.com"), labels of 1 to 63
/// bytes, at most 253 bytes. "https://x" or "x/y" would never match an endpoint.
bool is_domain(std::string_view d) {
  if (d.starts_with('.')) d.remove_prefix(1);
  if (d.empty() || d.size() > 253) return false;
  std::size_t label = 0;
  for (char c : d) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok || ++label > 63) return false;
  }
  return label > 0;
}

/// GeoIP answers ISO 3166-1 alpha-2 codes in capitals, compared exactly: "gb" would never match.
bool is_country(std::string_view c) {
  return c.size() == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z';
}

bool is_network(std::string_view n) {
  return checks::parse_cidr(n).has_value();
}

/// YYYY-MM-DD, a real calendar day (SARIF and VEX carry it as a timestamp).
bool is_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (s[i] < '0' || s[i] > '9') return false;
  auto num = [&](std::size_t from, std::size_t n) {
    int v = 0;
    for (std::size_t i = from; i < from + n; ++i) v = v * 10 + (s[i] - '0');
    return v;
  };
  const std::chrono::year_month_day d{std::chrono::year(num(0, 4)),
                                      std::chrono::month(unsigned(num(5, 2))),
                                      std::chrono::day(unsigned(num(8, 2)))};
  return d.ok();
}

/// Sorts and de-duplicates what broke the clause; it passes when nothing did.
void settle(ClauseResult& r) {
  for (auto* ids : {&r.findings, &r.vulnerabilities}) {
    std::sort(ids->begin(), ids->end());
    ids->erase(std::unique(ids->begin(), ids->end()), ids->end());
  }
  r.pass = r.findings.empty() && r.vulnerabilities.empty();
}

}  // namespace

std::optional<Severity> parse_severity(std::string_view s) {
  for (auto v :
       {Severity::kInfo, Severity::kLow, Severity::kMedium, Severity::kHigh, Severity::kCritical})
    if (s == to_string(v)) return v;
  return std::nullopt;
}

Result<Policy> parse_policy(std::string_view text, const std::string& origin) {
  auto doc = parse_toml_bounded(text, origin);
  if (!doc) return std::unexpected(doc.error());
  const toml::table& t = *doc;
  const Keys keys(text, origin);
  // Unknown keys are errors: a misspelt key must never silently weaken the agreement.
  if (auto ok = keys.only(t, {"name", "residency", "evidence", "clause"}, ""); !ok)
    return std::unexpected(ok.error());
  Policy p;
  p.sha256 = sha256_hex({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
  auto name = keys.str(t, "name", "");
  if (!name) return std::unexpected(name.error());
  p.name = name->empty() ? origin : *name;
  if (const toml::node* e = t.get("evidence")) {
    const toml::table* ev = e->as_table();
    if (!ev) return keys.bad(*e, "evidence must be a table ([evidence])");
    if (auto st = parse_evidence(*ev, p.evidence, origin); !st) return std::unexpected(st.error());
  }
  if (const toml::node* r = t.get("residency")) {
    const toml::table* res = r->as_table();
    if (!res) return keys.bad(*r, "residency must be a table ([residency])");
    if (auto ok =
            keys.only(*res, {"allow_domains", "allow_networks", "allow_countries"}, "residency: ");
        !ok)
      return std::unexpected(ok.error());
    auto domains = keys.checked_strings(*res, "allow_domains", "residency.", is_domain,
                                        "a domain name (e.g. acme.example)");
    if (!domains) return std::unexpected(domains.error());
    auto networks =
        keys.checked_strings(*res, "allow_networks", "residency.", is_network,
                             "an IPv4 or IPv6 network in CIDR form (e.g. 192.0.2.0/24)");
    if (!networks) return std::unexpected(networks.error());
    auto countries =
        keys.checked_strings(*res, "allow_countries", "residency.", is_country,
                             "an ISO 3166-1 alpha-2 country code in capitals (e.g. GB)");
    if (!countries) return std::unexpected(countries.error());
    p.allow_domains = std::move(*domains);
    p.allow_networks = std::move(*networks);
    p.allow_countries = std::move(*countries);
  }
  const toml::array* clauses = t["clause"].as_array();
  if (!clauses || clauses->empty()) return keys.bad("a policy needs at least one [[clause]]");
  std::set<std::string> ids;
  for (const auto& node : *clauses) {
    const toml::table* c = node.as_table();
    if (!c) return keys.bad(node, "[[clause]] must be a table");
    if (auto ok = keys.only(
            *c, {"id", "text", "categories", "rules", "min_severity", "max_cvss", "no_eol"},
            "clause: ");
        !ok)
      return std::unexpected(ok.error());
    Clause cl;
    auto id = keys.str(*c, "id", "clause: ");
    if (!id) return std::unexpected(id.error());
    cl.id = std::move(*id);
    const std::string where = "clause '" + cl.id + "': ";
    auto clause_text = keys.str(*c, "text", where);
    if (!clause_text) return std::unexpected(clause_text.error());
    cl.text = std::move(*clause_text);
    if (cl.id.empty() || cl.text.empty())
      return keys.bad(*c, "every clause needs an id and a text");
    if (!ids.insert(cl.id).second) return keys.bad(*c, "clause '" + cl.id + "' defined twice");
    auto cats = keys.checked_strings(
        *c, "categories", where, [](std::string_view v) { return one_of(v, kCategories); },
        "a known category (docs/policy.md)");
    if (!cats) return std::unexpected(cats.error());
    auto rules = keys.strings(*c, "rules", where);
    if (!rules) return std::unexpected(rules.error());
    cl.categories = std::move(*cats);
    cl.rules = std::move(*rules);
    auto sev = keys.str(*c, "min_severity", where);
    if (!sev) return std::unexpected(sev.error());
    if (!sev->empty()) {
      auto s = parse_severity(*sev);
      if (!s)
        return keys.bad(*c->get("min_severity"),
                        fmt::format("{}unknown severity '{}' (info, low, medium, high, critical)",
                                    where, *sev));
      cl.min_severity = *s;
    }
    auto cvss = keys.number(*c, "max_cvss", where, 0.0, 10.0, "a CVSS score");
    if (!cvss) return std::unexpected(cvss.error());
    cl.max_cvss = *cvss;
    auto eol = keys.boolean(*c, "no_eol", where);
    if (!eol) return std::unexpected(eol.error());
    cl.no_eol = *eol;
    if (cl.categories.empty() && cl.rules.empty() && !cl.max_cvss && !cl.no_eol)
      return keys.bad(*c, where + "says nothing to check (categories, rules, max_cvss or no_eol)");
    p.clauses.push_back(std::move(cl));
  }
  return p;
}

Result<Policy> load_policy(const std::filesystem::path& path) {
  auto text = read_file_capped(path, kMaxTomlBytes);
  if (!text) return std::unexpected(text.error());
  return parse_policy(*text, path.string());
}

std::filesystem::path default_policy_path() {
  return data_dir() / "policy" / "default.toml";
}

Result<std::vector<SuppressionEntry>> parse_suppressions(std::string_view text,
                                                         const std::string& origin) {
  auto doc = parse_toml_bounded(text, origin);
  if (!doc) return std::unexpected(doc.error());
  const Keys keys(text, origin);
  std::vector<SuppressionEntry> out;
  if (auto ok = keys.only(*doc, {"suppress"}, ""); !ok) return std::unexpected(ok.error());
  const toml::node* listed = doc->get("suppress");
  if (!listed) return out;
  const toml::array* list = listed->as_array();
  if (!list) return keys.bad(*listed, "suppress must be [[suppress]] tables");
  for (const auto& node : *list) {
    const toml::table* s = node.as_table();
    if (!s) return keys.bad(node, "[[suppress]] must be a table");
    if (auto ok =
            keys.only(*s, {"id", "state", "justification", "by", "detail", "date"}, "suppress: ");
        !ok)
      return std::unexpected(ok.error());
    SuppressionEntry e;
    auto id = keys.str(*s, "id", "suppress: ");
    if (!id) return std::unexpected(id.error());
    e.id = std::move(*id);
    const std::string where = "suppression '" + e.id + "': ";
    for (auto [key, dest] :
         {std::pair{"state", &e.decision.state},
          std::pair{"justification", &e.decision.justification}, std::pair{"by", &e.decision.by},
          std::pair{"detail", &e.decision.detail}}) {
      auto v = keys.str(*s, key, where);
      if (!v) return std::unexpected(v.error());
      *dest = std::move(*v);
    }
    // The date: a TOML date (2026-11-20) or a string holding one.
    if (const toml::node* d = s->get("date")) {
      if (const auto* date = d->as_date())
        e.decision.date =
            fmt::format("{:04}-{:02}-{:02}", date->get().year, date->get().month, date->get().day);
      else if (const auto* str = d->as_string())
        e.decision.date = str->get();
      if (!is_date(e.decision.date))
        return keys.bad(
            *d, fmt::format("{}date = {} must be a calendar date YYYY-MM-DD", where, shown(*d)));
    }
    if (e.id.empty()) return keys.bad(*s, "every [[suppress]] needs an id");
    if (!one_of(e.decision.state, kStates))
      return keys.bad(*s, where + "state must be not_affected, false_positive or accepted");
    if (e.decision.by.empty()) return keys.bad(*s, where + "'by' (who decided) is required");
    if (e.decision.state == "not_affected" && !one_of(e.decision.justification, kJustifications))
      return keys.bad(
          *s, where + "not_affected needs a CycloneDX justification (e.g. code_not_reachable)");
    if (e.decision.state != "not_affected" && e.decision.detail.empty() &&
        e.decision.justification.empty())
      return keys.bad(*s, where + "say why (justification or detail)");
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::vector<SuppressionEntry>> load_suppressions(const std::filesystem::path& path) {
  auto text = read_file_capped(path, kMaxTomlBytes);
  if (!text) return std::unexpected(text.error());
  return parse_suppressions(*text, path.string());
}

std::vector<std::string> apply_suppressions(Report& report,
                                            const std::vector<SuppressionEntry>& entries) {
  std::vector<std::string> unmatched;
  for (const auto& e : entries) {
    bool hit = false;
    for (auto& f : report.findings)
      if (f.id == e.id) {
        f.suppression = e.decision;
        hit = true;
      }
    for (auto& v : report.vulnerabilities)
      if (v.id == e.id) {
        v.suppression = e.decision;
        hit = true;
      }
    if (!hit) unmatched.push_back(e.id);
  }
  return unmatched;
}

Verdict judge(const Policy& policy, const Report& report) {
  Verdict v;
  v.policy = policy.name;
  v.policy_sha256 = policy.sha256;
  for (const Clause& c : policy.clauses) {
    ClauseResult r{c.id, c.text, true, {}, {}};
    for (const Finding& f : report.findings) {
      if (f.suppression || f.severity < c.min_severity) continue;
      const bool by_category =
          std::find(c.categories.begin(), c.categories.end(), f.category) != c.categories.end();
      const bool by_rule = std::find(c.rules.begin(), c.rules.end(), f.rule) != c.rules.end();
      if (by_category || by_rule) r.findings.push_back(f.id);
    }
    if (c.max_cvss)
      for (const Vulnerability& vu : report.vulnerabilities)
        // A backport or stable-branch fix the data shows (not-affected) breaks no clause.
        if (!vu.suppression && vu.status != "not-affected" && vu.cvss >= *c.max_cvss)
          r.vulnerabilities.push_back(vu.id);
    if (c.no_eol)
      for (const Component& comp : report.components)
        if (comp.eol && comp.eol->reached)
          r.vulnerabilities.push_back(fmt::format("EOL:{}@{}", comp.name, comp.version));
    settle(r);
    v.pass = v.pass && r.pass;
    v.clauses.push_back(std::move(r));
  }
  // FAIL wins: a back door found in what was read fails whatever was not read. Otherwise what
  // was not seen makes the result inconclusive, never a pass.
  v.reasons = inconclusive_reasons(policy.evidence, report);
  v.result = !v.pass ? "fail" : v.reasons.empty() ? "pass" : "inconclusive";
  v.pass = v.result == "pass";
  return v;
}

void apply_fail_on(Verdict& v, const Report& report, Severity min) {
  ClauseResult r{"fail-on-" + std::string(to_string(min)),
                 fmt::format("No finding or vulnerability of severity {} or above (--fail-on).",
                             to_string(min)),
                 true,
                 {},
                 {}};
  for (const Finding& f : report.findings)
    if (!f.suppression && f.severity >= min) r.findings.push_back(f.id);
  for (const Vulnerability& vu : report.vulnerabilities)
    if (auto s = parse_severity(vu.severity);
        !vu.suppression && vu.status != "not-affected" && s && *s >= min)
      r.vulnerabilities.push_back(vu.id);
  settle(r);
  if (!r.pass) {
    v.pass = false;
    v.result = "fail";
  }
  v.clauses.push_back(std::move(r));
}

}  // namespace probity
