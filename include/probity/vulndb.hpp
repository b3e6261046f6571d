// The offline vulnerability database: SQLite, filled from NVD CVE API 2.0 records, legacy NVD 1.1
// feeds and OSV records; matched against components by CPE 2.3 with version ranges and the
// AND/OR structure of NVD configurations (docs/vulndb.md).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "probity/error.hpp"
#include "probity/limits.hpp"
#include "probity/report.hpp"

namespace probity {

/// A CPE 2.3 formatted-string name, unescaped and lower-cased; "*" is ANY, "-" is NA.
struct CpeName {
  std::string part, vendor, product, version, update, edition, language, sw_edition, target_sw,
      target_hw, other;
};

/// Parses "cpe:2.3:a:vendor:product:version:..." (backslash escapes honoured; missing trailing
/// fields are ANY). std::nullopt when it is not a CPE 2.3 formatted string.
std::optional<CpeName> parse_cpe23(std::string_view text);

/// What to look up: a component by CPE vendor/product and version. An empty vendor matches every
/// vendor of the product (NVD files some products under several vendors).
struct VulnQuery {
  std::string vendor;
  std::string product;
  std::string version;
  /// Name reported in Vulnerability::component (defaults to product).
  std::string component;
  /// Every CPE known to be present in the image (OS, hardware, other components): a configuration
  /// that ANDs the component with a platform matches only when that platform is in this set.
  std::vector<std::string> platform_cpes;
};

/// Builds a query from an identified component: vendor/product from Component::cpe when it parses,
/// otherwise Component::vendor and Component::name.
VulnQuery query_for(const Component& component, std::span<const std::string> platform_cpes = {});

/// One imported file.
struct VulnSource {
  std::string path;
  std::string format;  ///< "nvd-api-2.0", "nvd-1.1", "osv"
  std::uint64_t records = 0;
  std::string imported_at;  ///< UTC, ISO 8601
  std::uint64_t bytes = 0;  ///< JSON bytes read (after gunzip for .json.gz)
};

/// What `probity db status` prints.
struct VulnDbStatus {
  std::vector<VulnSource> sources;
  std::uint64_t vulnerabilities = 0;  ///< CVE and OSV records
  std::uint64_t cpe_matches = 0;      ///< cpe_match rows
  std::uint64_t configurations = 0;
  std::string snapshot;  ///< "sha256:<hex>" over every record's digest, sorted by id
};

/// Per-file import result.
struct VulnImportStats {
  std::string format;
  std::uint64_t records = 0;   ///< records read
  std::uint64_t stored = 0;    ///< inserted or replaced
  std::uint64_t skipped = 0;   ///< unchanged duplicates, or older than the stored record
  std::uint64_t rejected = 0;  ///< malformed or over a cap (see warnings)
  std::uint64_t cpe_matches = 0;
  std::vector<std::string> warnings;  ///< at most a few, with record ids
};

/// An open vulnerability database. One instance per thread (it caches prepared statements);
/// several instances may read the same file at once.
class VulnDb {
 public:
  /// Opens (read_only) or opens/creates (writable) the database at `path`.
  static Result<VulnDb> open(const std::filesystem::path& path, bool read_only = true);

  VulnDb(VulnDb&&) noexcept;
  VulnDb& operator=(VulnDb&&) noexcept;
  ~VulnDb();

  /// Imports one file (.json or .json.gz; the format is recognised from its content). Records
  /// already present are replaced when the new one is newer (lastModified, then digest), so that
  /// the result does not depend on import order.
  Result<VulnImportStats> import_file(const std::filesystem::path& path);

  /// Imports several files in one transaction (one result per file, in order); all or nothing.
  Result<std::vector<VulnImportStats>> import_files(std::span<const std::filesystem::path> paths);

  /// Sources, counts and the snapshot id.
  Result<VulnDbStatus> status();

  /// The snapshot id alone ("sha256:<hex>"); what every report records.
  Result<std::string> snapshot_id();

  /// Every vulnerability whose configurations hold for the queried component in its image.
  /// Sorted by id.
  Result<std::vector<Vulnerability>> match(const VulnQuery& query);

  /// Opaque state (src/vuln/vulndb.cpp).
  struct Impl;

 private:
  explicit VulnDb(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Previous answers of match_components by query, shared across images (a fleet re-judge meets
/// the same component versions again and again).
using MatchCache = std::map<std::string, std::vector<Vulnerability>>;

/// The match stage of a scan: every vulnerability of each versioned component, with every CPE
/// of `components` as platform context (a CVE that ANDs a component with a hardware platform
/// matches only when that platform is present); one per (id, component, version). `cache`, when
/// given, remembers answers by query.
Result<std::vector<Vulnerability>> match_components(VulnDb& db,
                                                    const std::vector<Component>& components,
                                                    MatchCache* cache = nullptr);

/// The database `probity scan` and `probity db` use without --db: $PROBITY_DB when set, else the
/// one built with probity (build/data/vuln.db).
std::filesystem::path default_vuln_db_path();

/// End of life for `product` at `version` (its release line), with `reached` judged against
/// `today` (ISO date "YYYY-MM-DD"). Data: data/eol/<product>.json (or `eol_dir`).
std::optional<Eol> eol_for(std::string_view product, std::string_view version,
                           std::string_view today, const std::filesystem::path& eol_dir = {});

/// Today's UTC date as "YYYY-MM-DD".
std::string today_utc();

}  // namespace probity
