// Internal: one vulnerability record as the importers produce it and the store keeps it.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probity/vulndb.hpp"

namespace probity::vuln {

/// A coarse, order-preserving key of a plainly numeric version (major * 1e9 + minor); nullopt
/// when the version is not plainly numeric. key(a) > key(b) implies compare_versions(a, b) > 0
/// (the `hi` column of cpe_match; tests/unit/vulndb_match_test.cpp checks it on the real data).
std::optional<std::int64_t> range_key(std::string_view v);

/// One cpeMatch entry (NVD) or one affected version range (OSV).
struct MatchEntry {
  bool vulnerable = true;
  std::string criteria;  ///< the CPE 2.3 string, or the purl / "osv:<ecosystem>/<name>"
  CpeName cpe;
  std::string vsi, vse, vei, vee;  ///< versionStart/End Including/Excluding (unescaped)
  /// The stored range key of the upper bound (cpe_match.hi), when the importer computed it
  /// ahead (on its parsing thread); not part of the record's digest.
  std::optional<std::int64_t> hi;
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
  std::string kind;  ///< "nvd", "cve5", "osv" or "vendor" (a vendor advisory table)
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
enum class ItemFormat {
  kNvd20,
  kNvd11,
  kOsv,
  kCve5,            ///< a CVE JSON 5 record (CNA + ADP containers)
  kKev,             ///< one entry of CISA's KEV catalogue
  kCurlTable,       ///< one row of curl's vulnerability table (vendor advisory)
  kKernelBranches,  ///< {"CVE-…": {"4.4": {"fixed_version": "4.4.34"}, …}, …}
  kUnknown
};

/// A CVE in CISA's KEV catalogue.
struct KevRow {
  std::string cve, date_added, due_date, vendor, product, name, ransomware;
};

/// The first fixed version of a CVE on one stable branch of a product (kernel 4.4.y: "4.4.34").
struct BranchFixRow {
  std::string cve, product, branch, fixed;
};

/// One release line of a product's end-of-life data (endoflife.date or curated).
struct EolRow {
  std::string product, cycle, release_date, eol, latest, source;
};

/// Recognises the shape of one parsed item.
ItemFormat detect_item(simdjson::dom::element item);

/// Converts a parsed item; an error names what was missing.
Result<Record> nvd20_record(simdjson::dom::element item);  ///< {"cve":{...}} or a bare cve
Result<Record> nvd11_record(simdjson::dom::element item);  ///< one CVE_Items entry
Result<Record> osv_record(simdjson::dom::element item);
Result<Record> cve5_record(simdjson::dom::element item);
Result<KevRow> kev_row(simdjson::dom::element item);
/// curl's table row as a vendor record: id "CURL-<CVE>", alias the CVE, curl/libcurl ranges.
Result<Record> curl_table_record(simdjson::dom::element item);
/// Every CVE × branch of a kernel stable-branch fix document.
Result<std::vector<BranchFixRow>> kernel_branch_rows(simdjson::dom::element doc);

/// Non-JSON sources, parsed from their text (bounded by the caller's read cap). Each calls back
/// per row; a malformed line is a warning naming its line, not the end of the file.
struct TextImport {
  std::uint64_t rows = 0, rejected = 0;
  std::vector<std::string> warnings;
  std::string data_date;  ///< the date the source says its data is from ("" if it does not)
};
/// FIRST EPSS CSV: "cve,epss,percentile" (comment lines "#model_version:…,score_date:…").
Result<TextImport> parse_epss_csv(
    std::string_view text,
    const std::function<void(std::string_view cve, double score, double percentile)>& row);
/// endoflife.date product file (Markdown with YAML front matter: identifiers, releases).
Result<TextImport> parse_endoflife_md(std::string_view text, std::string_view product,
                                      const std::function<void(const EolRow&)>& row,
                                      std::vector<std::string>& names);
/// CPE alias table: "probity_id TAB cpe_vendor TAB cpe_product" (header line, # comments).
Result<TextImport> parse_alias_tsv(
    std::string_view text, const std::function<void(std::string_view id, std::string_view vendor,
                                                    std::string_view product)>& row);

/// Parses and normalises a cpeMatch bound: NVD escapes characters in bounds ("03.04.10\(16\)").
std::string unescape_cpe_value(std::string_view v);

/// CVSS v3.x base score from a vector ("CVSS:3.1/AV:N/..."); nullopt when malformed.
std::optional<double> cvss3_base_score(std::string_view vector);
/// "none", "low", "medium", "high", "critical" for a CVSS v3/v4 base score.
std::string cvss_severity(double score);

}  // namespace probity::vuln
