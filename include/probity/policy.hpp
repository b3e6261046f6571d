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

/// When an image counts as fully seen ([evidence] in the policy; defaults in
/// data/policy/default.toml; docs/policy.md). Anything short of it makes the verdict
/// inconclusive, never a pass.
struct EvidencePolicy {
  double min_coverage = 0.95;                       ///< understood share of the image, 0..1
  std::uint64_t max_unexplained_bytes = 64 * 1024;  ///< high-entropy bytes no format explained
  bool require_root_filesystem = true;              ///< a container holding etc/ and bin|sbin|usr
  std::uint32_t max_db_age_days = 0;                ///< 0: the database's age is not checked
  std::string db_snapshot;                          ///< "": any database; else this snapshot id
  bool require_db = true;                           ///< no or an empty database is inconclusive
};

struct Policy {
  std::string name;
  EvidencePolicy evidence;
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
/// A failed clause fails; otherwise any reason of inconclusive_reasons() makes it inconclusive.
Verdict judge(const Policy& policy, const Report& report);

/// What of the image was not seen, by the policy's [evidence] terms: no root filesystem,
/// coverage below min_coverage, high-entropy regions past max_unexplained_bytes, any cap hit,
/// any container that failed after its probe, a missing/empty/stale/other database, a missing
/// data file.
std::vector<InconclusiveReason> inconclusive_reasons(const EvidencePolicy& evidence,
                                                     const Report& report);

/// The CI gate of `scan --fail-on SEVERITY` (as grype and trivy have): adds the clause
/// "fail-on-SEVERITY", broken by every unsuppressed finding or vulnerability at or above `min`,
/// to the verdict, which then fails when it breaks (fail wins over inconclusive).
void apply_fail_on(Verdict& verdict, const Report& report, Severity min);

/// vulnerable-component findings (one per CVE and component copy) and outdated-component findings
/// (one per copy past its end of life), with stable ids.
std::vector<Finding> component_findings(const Report& report);

/// Parses "info".."critical"; nullopt otherwise.
std::optional<Severity> parse_severity(std::string_view s);

}  // namespace probity
