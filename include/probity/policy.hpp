// Policies (the technical terms of a no-back-door agreement, as TOML clauses), suppressions
// (reviewers' VEX decisions) and the verdict. Format: docs/policy.md.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probity/error.hpp"
#include "probity/report.hpp"

namespace probity {

/// One clause: the findings or vulnerabilities that break it.
struct Clause {
  std::string id;
  std::string text;
  std::vector<std::string> categories;      ///< findings of these categories break it
  std::vector<std::string> rules;           ///< findings of these rules break it
  Severity min_severity = Severity::kInfo;  ///< ... at this severity or above
  std::optional<double> max_cvss;           ///< any vulnerability with cvss >= this breaks it
  bool no_eol = false;                      ///< any component past its end of life breaks it
};

struct Policy {
  std::string name;
  std::string sha256;  ///< digest of the policy text
  std::vector<Clause> clauses;
  /// Data residency: endpoints must be in these domains or networks (or countries, with GeoIP).
  std::vector<std::string> allow_domains;
  std::vector<std::string> allow_networks;
  std::vector<std::string> allow_countries;
};

/// Parses a policy; `origin` names it in errors.
Result<Policy> parse_policy(std::string_view toml_text, const std::string& origin);
Result<Policy> load_policy(const std::filesystem::path& path);
/// data/policy/default.toml (the policy used when --policy is not given).
std::filesystem::path default_policy_path();

/// A suppression keyed by finding id or vulnerability id.
struct SuppressionEntry {
  std::string id;
  Suppression decision;
};

/// Parses a suppressions file (TOML, `[[suppress]]` tables). Unknown states or justifications
/// are errors: a typo must not silently un-suppress or suppress.
Result<std::vector<SuppressionEntry>> parse_suppressions(std::string_view toml_text,
                                                         const std::string& origin);
Result<std::vector<SuppressionEntry>> load_suppressions(const std::filesystem::path& path);
/// Marks matching findings and vulnerabilities; returns the ids that matched nothing.
std::vector<std::string> apply_suppressions(Report& report,
                                            const std::vector<SuppressionEntry>& entries);

/// Judges the report against the policy. Suppressed findings and vulnerabilities do not count.
Verdict judge(const Policy& policy, const Report& report);

/// vulnerable-component findings (one per CVE and component copy) and outdated-component findings
/// (one per copy past its end of life), with stable ids.
std::vector<Finding> component_findings(const Report& report);

/// Parses "info".."critical"; nullopt otherwise.
std::optional<Severity> parse_severity(std::string_view s);

}  // namespace probity
