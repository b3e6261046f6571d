// Internal: one vulnerability record as the importers produce it and the store keeps it.
#pragma once

#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probity/vulndb.hpp"

namespace probity::vuln {

/// One cpeMatch entry (NVD) or one affected version range (OSV).
struct MatchEntry {
  bool vulnerable = true;
  std::string criteria;  ///< the CPE 2.3 string, or the purl / "osv:<ecosystem>/<name>"
  CpeName cpe;
  std::string vsi, vse, vei, vee;  ///< versionStart/End Including/Excluding (unescaped)
  [[nodiscard]] bool has_range() const {
    return !vsi.empty() || !vse.empty() || !vei.empty() || !vee.empty();
  }
};

/// A node: its entries combined with AND or OR, then optionally negated.
struct Node {
  bool is_and = false;
  bool negate = false;
  std::vector<MatchEntry> entries;
};

/// A configuration: its nodes combined with AND or OR (OR when absent), optionally negated.
struct Configuration {
  bool is_and = false;
  bool negate = false;
  std::vector<Node> nodes;
};

struct Cvss {
  double score = -1;  ///< < 0: absent
  std::string vector, severity;
  [[nodiscard]] bool present() const { return score >= 0 || !vector.empty(); }
};

struct Record {
  std::string id;
  std::string kind;  ///< "nvd" or "osv"
  std::string published, modified, status;
  std::string description;
  Cvss cvss31, cvss30, cvss40, cvss2;
  std::vector<std::string> cwe;
  std::vector<std::string> aliases;
  std::vector<Configuration> configurations;

  /// sha256 over a canonical serialisation of every field above: the same record gives the same
  /// digest whatever file, order or format it came from.
  [[nodiscard]] std::string digest() const;
};

/// Record formats an item of a feed can have.
enum class ItemFormat { kNvd20, kNvd11, kOsv, kUnknown };

/// Recognises the shape of one parsed item.
ItemFormat detect_item(simdjson::dom::element item);

/// Converts a parsed item; an error names what was missing.
Result<Record> nvd20_record(simdjson::dom::element item);  ///< {"cve":{...}} or a bare cve
Result<Record> nvd11_record(simdjson::dom::element item);  ///< one CVE_Items entry
Result<Record> osv_record(simdjson::dom::element item);

/// Parses and normalises a cpeMatch bound: NVD escapes characters in bounds ("03.04.10\(16\)").
std::string unescape_cpe_value(std::string_view v);

/// CVSS v3.x base score from a vector ("CVSS:3.1/AV:N/..."); nullopt when malformed.
std::optional<double> cvss3_base_score(std::string_view vector);
/// "none", "low", "medium", "high", "critical" for a CVSS v3/v4 base score.
std::string cvss_severity(double score);

}  // namespace probity::vuln
