#include "probity/policy.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "policy/evidence.hpp"
#include "probity/data.hpp"
#include "probity/hash.hpp"

namespace probity {
namespace {

constexpr std::string_view kCategories[] = {
    "account",   "credentials", "remote-access",    "private-key",          "known-backdoor",
    "hardening", "endpoint",    "update-integrity", "vulnerable-component", "outdated-component"};
/// CycloneDX 1.6 impactAnalysisJustification values.
constexpr std::string_view kJustifications[] = {
    "code_not_present",     "code_not_reachable",     "requires_configuration",
    "requires_dependency",  "requires_environment",   "protected_by_compiler",
    "protected_at_runtime", "protected_at_perimeter", "protected_by_mitigating_control"};
constexpr std::string_view kStates[] = {"not_affected", "false_positive", "accepted"};
/// A policy or suppressions file larger than this is refused (they are hand-written text).
constexpr std::size_t kMaxFileBytes = 4 * 1024 * 1024;

template <std::size_t N>
bool one_of(std::string_view v, const std::string_view (&set)[N]) {
  return std::find(std::begin(set), std::end(set), v) != std::end(set);
}

Result<std::vector<std::string>> strings(const toml::node_view<const toml::node>& n,
                                         const std::string& where) {
  std::vector<std::string> out;
  if (!n) return out;
  const toml::array* a = n.as_array();
  if (!a) return fail(where + ": expected an array of strings");
  for (const auto& e : *a) {
    auto s = e.value<std::string>();
    if (!s) return fail(where + ": expected an array of strings");
    out.push_back(*s);
  }
  return out;
}

Result<std::string> read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("cannot read (check the path)", 0, path.string());
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.size() > kMaxFileBytes) return fail("file larger than 4 MiB", 0, path.string());
  return text;
}

Result<toml::table> parse_toml(std::string_view text, const std::string& origin) {
  try {
    return toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    return fail(fmt::format("TOML error at line {}, column {}: {}", e.source().begin.line,
                            e.source().begin.column, e.description()),
                0, origin);
  }
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
  auto doc = parse_toml(text, origin);
  if (!doc) return std::unexpected(doc.error());
  const toml::table& t = *doc;
  // Unknown keys are errors: a misspelt key must never silently weaken the agreement.
  for (const auto& [k, v] : t)
    if (k != "name" && k != "residency" && k != "clause" && k != "evidence")
      return fail(
          fmt::format("unknown key '{}' (expected name, residency, evidence, clause)", k.str()), 0,
          origin);
  Policy p;
  p.sha256 = sha256_hex({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
  p.name = t["name"].value_or(origin);
  if (t.contains("evidence")) {
    const toml::table* ev = t["evidence"].as_table();
    if (!ev) return fail("[evidence] must be a table", 0, origin);
    if (auto st = parse_evidence(*ev, p.evidence, origin); !st) return std::unexpected(st.error());
  }
  for (auto [field, dest] : {std::pair{"allow_domains", &p.allow_domains},
                             std::pair{"allow_networks", &p.allow_networks},
                             std::pair{"allow_countries", &p.allow_countries}}) {
    auto v = strings(t["residency"][field], std::string("residency.") + field);
    if (!v) return fail(v.error().message, 0, origin);
    *dest = std::move(*v);
  }
  const toml::array* clauses = t["clause"].as_array();
  if (!clauses || clauses->empty())
    return fail("a policy needs at least one [[clause]]", 0, origin);
  std::set<std::string> ids;
  for (const auto& node : *clauses) {
    const toml::table* c = node.as_table();
    if (!c) return fail("[[clause]] must be a table", 0, origin);
    for (const auto& [k, v] : *c)
      if (k != "id" && k != "text" && k != "categories" && k != "rules" && k != "min_severity" &&
          k != "max_cvss" && k != "no_eol")
        return fail(fmt::format("unknown clause key '{}'", k.str()), 0, origin);
    Clause cl;
    cl.id = (*c)["id"].value_or(std::string());
    cl.text = (*c)["text"].value_or(std::string());
    const std::string where = "clause '" + cl.id + "'";
    if (cl.id.empty() || cl.text.empty())
      return fail("every clause needs an id and a text", 0, origin);
    if (!ids.insert(cl.id).second) return fail(where + " defined twice", 0, origin);
    auto cats = strings((*c)["categories"], where + ".categories");
    auto rules = strings((*c)["rules"], where + ".rules");
    if (!cats) return fail(cats.error().message, 0, origin);
    if (!rules) return fail(rules.error().message, 0, origin);
    for (const auto& cat : *cats)
      if (!one_of(cat, kCategories))
        return fail(fmt::format("{}: unknown category '{}'", where, cat), 0, origin);
    cl.categories = std::move(*cats);
    cl.rules = std::move(*rules);
    if (auto sev = (*c)["min_severity"].value<std::string>()) {
      auto s = parse_severity(*sev);
      if (!s) return fail(fmt::format("{}: unknown severity '{}'", where, *sev), 0, origin);
      cl.min_severity = *s;
    }
    if (auto m = (*c)["max_cvss"].value<double>()) cl.max_cvss = *m;
    cl.no_eol = (*c)["no_eol"].value_or(false);
    if (cl.categories.empty() && cl.rules.empty() && !cl.max_cvss && !cl.no_eol)
      return fail(where + ": says nothing to check (categories, rules, max_cvss or no_eol)", 0,
                  origin);
    p.clauses.push_back(std::move(cl));
  }
  return p;
}

Result<Policy> load_policy(const std::filesystem::path& path) {
  auto text = read_text(path);
  if (!text) return std::unexpected(text.error());
  return parse_policy(*text, path.string());
}

std::filesystem::path default_policy_path() {
  return data_dir() / "policy" / "default.toml";
}

Result<std::vector<SuppressionEntry>> parse_suppressions(std::string_view text,
                                                         const std::string& origin) {
  auto doc = parse_toml(text, origin);
  if (!doc) return std::unexpected(doc.error());
  std::vector<SuppressionEntry> out;
  for (const auto& [k, v] : *doc)
    if (k != "suppress")
      return fail(fmt::format("unknown key '{}' (expected [[suppress]] tables)", k.str()), 0,
                  origin);
  const toml::array* list = (*doc)["suppress"].as_array();
  if (!list) return out;
  for (const auto& node : *list) {
    const toml::table* s = node.as_table();
    if (!s) return fail("[[suppress]] must be a table", 0, origin);
    for (const auto& [k, v] : *s)
      if (k != "id" && k != "state" && k != "justification" && k != "by" && k != "detail" &&
          k != "date")
        return fail(fmt::format("unknown suppression key '{}'", k.str()), 0, origin);
    SuppressionEntry e;
    e.id = (*s)["id"].value_or(std::string());
    e.decision.state = (*s)["state"].value_or(std::string());
    e.decision.justification = (*s)["justification"].value_or(std::string());
    e.decision.by = (*s)["by"].value_or(std::string());
    e.decision.detail = (*s)["detail"].value_or(std::string());
    e.decision.date = (*s)["date"].value_or(std::string());
    const std::string where = "suppression '" + e.id + "'";
    if (e.id.empty()) return fail("every [[suppress]] needs an id", 0, origin);
    if (!one_of(e.decision.state, kStates))
      return fail(fmt::format("{}: state must be not_affected, false_positive or accepted", where),
                  0, origin);
    if (e.decision.by.empty()) return fail(where + ": 'by' (who decided) is required", 0, origin);
    if (e.decision.state == "not_affected" && !one_of(e.decision.justification, kJustifications))
      return fail(
          where + ": not_affected needs a CycloneDX justification (e.g. code_not_reachable)", 0,
          origin);
    if (e.decision.state != "not_affected" && e.decision.detail.empty() &&
        e.decision.justification.empty())
      return fail(where + ": say why (justification or detail)", 0, origin);
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::vector<SuppressionEntry>> load_suppressions(const std::filesystem::path& path) {
  auto text = read_text(path);
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
        if (!vu.suppression && vu.cvss >= *c.max_cvss) r.vulnerabilities.push_back(vu.id);
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
    if (auto s = parse_severity(vu.severity); !vu.suppression && s && *s >= min)
      r.vulnerabilities.push_back(vu.id);
  settle(r);
  if (!r.pass) {
    v.pass = false;
    v.result = "fail";
  }
  v.clauses.push_back(std::move(r));
}

}  // namespace probity
