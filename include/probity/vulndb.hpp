// The offline vulnerability database: SQLite, filled from NVD CVE API 2.0 records, legacy NVD 1.1
// feeds and OSV records; matched against components by CPE 2.3 with version ranges and the
// AND/OR structure of NVD configurations (docs/vulndb.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
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
class TaskPool;

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
  /// The distribution's package version ("2.36-9+deb12u14") and its distribution ("debian"):
  /// a CVE the distribution fixed at or before that version is `not-affected` (a backport).
  std::string distro_version;
  std::string distro;
};

/// Builds a query from an identified component: vendor/product from Component::cpe when it parses,
/// otherwise Component::vendor and Component::name.
VulnQuery query_for(const Component& component, std::span<const std::string> platform_cpes = {});

/// One imported file.
struct VulnSource {
  std::string path;
  std::string format;  ///< "nvd-api-2.0", "nvd-1.1", "osv", "cve5", "kev", "epss", ...
  std::uint64_t records = 0;
  std::string imported_at;  ///< UTC, ISO 8601
  std::uint64_t bytes = 0;  ///< bytes read (after gunzip for .gz)
  std::string data_date;    ///< newest date the data itself carries (ISO date; "" unknown)
};

/// Sources of one format, summed (what `db status` shows per source).
struct VulnSourceSummary {
  std::string format;
  std::uint64_t files = 0;
  std::uint64_t records = 0;
  std::string data_date;    ///< newest data date of these files
  std::string imported_at;  ///< last import of one of them
};

/// What `probity db status` prints.
struct VulnDbStatus {
  std::vector<VulnSource> sources;
  std::uint64_t vulnerabilities = 0;  ///< CVE and OSV records
  std::uint64_t cpe_matches = 0;      ///< cpe_match rows
  std::uint64_t configurations = 0;
  std::string snapshot;       ///< "sha256:<hex>" over every record's digest, sorted by id
  std::string snapshot_date;  ///< newest data date over all sources (ISO date)
  std::vector<VulnSourceSummary> by_format;
  std::uint64_t kev = 0, epss = 0, branch_fixes = 0, distro_fixes = 0, eol_products = 0,
                eol_cycles = 0, aliases = 0;
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
  std::string data_date;              ///< newest date the file's data carries
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
  /// Records are parsed on `pool` (two threads of their own when null) while this thread stores
  /// the ones parsed before them, in feed order.
  Result<std::vector<VulnImportStats>> import_files(std::span<const std::filesystem::path> paths,
                                                    TaskPool* pool = nullptr);

  /// Sources, counts and the snapshot id.
  Result<VulnDbStatus> status();
  /// What a scan records, cheaply: sources, the record count, and the snapshot id and date stored
  /// at the end of the last import (status() recomputes the id and counts every table).
  Result<VulnDbStatus> brief_status();

  /// The snapshot id alone ("sha256:<hex>"); what every report records.
  Result<std::string> snapshot_id();

  /// Every vulnerability whose configurations hold for the queried component in its image,
  /// with its KEV and EPSS data and its status against the component's stable branch or
  /// distribution version (affected / not-affected / unknown). Sorted by id. The component's
  /// CPE aliases (the alias table: curl is also haxx:libcurl) are looked up too.
  Result<std::vector<Vulnerability>> match(const VulnQuery& query);

  /// The newest data date over all sources (ISO date, "" when no source carries one).
  Result<std::string> snapshot_date();

  /// A value of the meta table ("" when absent), and setting one (writable databases).
  Result<std::string> meta(std::string_view key);
  Status set_meta(std::string_view key, std::string_view value);
  /// SQLite's integrity_check: an error naming the first problem.
  Status integrity_check();
  /// The endoflife.date/curated product ids the database holds.
  Result<std::vector<std::string>> eol_products();

  /// End of life from the imported endoflife.date/curated data: the release line of `version`
  /// of the product named `name` (a component name, CPE product or endoflife.date id).
  Result<std::optional<Eol>> eol(std::string_view name, std::string_view version,
                                 std::string_view today);

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

/// What `probity db update` fetches and from where (every URL can point at a local replay
/// server for tests; docs/vulndb.md, "Updates").
struct VulnUpdateOptions {
  std::string nvd_url = "https://services.nvd.nist.gov/rest/json/cves/2.0";
  std::string kev_url =
      "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json";
  std::string epss_url = "https://epss.cyentia.com/epss_scores-current.csv.gz";
  std::string eol_url =
      "https://raw.githubusercontent.com/endoflife-date/endoflife.date/master/products";
  std::string osv_url;                    ///< a JSON array of OSV records (none by default)
  std::vector<std::string> eol_products;  ///< endoflife.date ids to refresh
  bool nvd = true, kev = true, epss = true, eol = true, osv = true;
  std::string api_key;  ///< NVD API key ($NVD_API_KEY): 50 instead of 5 requests per 30 s
  std::uint32_t results_per_page = 2000;
  /// Pause between requests; negative: NVD's documented rate (6 s without a key, 0.6 s with).
  std::chrono::milliseconds min_interval{-1};
  int max_retries = 5;                      ///< per request, on 403/429/5xx/transport/bad body
  std::chrono::milliseconds backoff{2000};  ///< doubled per retry (at most 60 s); Retry-After wins
  int read_timeout_s = 60;
  std::filesystem::path work_dir;  ///< default: <db>.update (kept until an update completes)
  std::function<void(std::string_view)> log;
};

struct VulnUpdateResult {
  std::uint64_t nvd_pages = 0, nvd_records = 0, requests = 0, retries = 0;
  bool resumed = false;  ///< a previous run's downloads were reused
  std::string snapshot;  ///< the new snapshot id
};

/// Fetches every source, validating each response (a truncated or malformed page is retried like
/// a 503), keeps what it fetched in the work directory so that a failed run resumes, imports all
/// of it into a copy of `db`, verifies the copy, and only then replaces `db`.
Result<VulnUpdateResult> update_vuln_db(const std::filesystem::path& db,
                                        const VulnUpdateOptions& options);

/// A signed database snapshot (`probity db export` / `probity db import FILE --trust PUB`).
struct VulnSnapshotInfo {
  std::string snapshot;  ///< the snapshot id of the database inside
  std::string date;      ///< its newest data date (ISO date)
  std::string created;   ///< when it was exported (UTC ISO 8601)
  std::string signer;    ///< "name+keyid" of the key that signed it
  std::string sha256;    ///< of the database bytes
  std::uint64_t bytes = 0;
};

/// Writes `out`: a C2SP signed note (snapshot id, data date, creation time, SHA-256 and size of
/// the database), signed with the Ed25519 `probity key` at `key_file`, then a compacted copy of
/// the database.
Result<VulnSnapshotInfo> export_vuln_snapshot(const std::filesystem::path& db,
                                              const std::filesystem::path& out,
                                              const std::filesystem::path& key_file);
/// Verifies `file` against the trusted verifier key (a file or the vkey text), its size and
/// SHA-256, refuses a snapshot older than the database at `db`, checks that the records give the
/// snapshot id the note names, and only then replaces `db`. Any failure leaves `db` unchanged.
Result<VulnSnapshotInfo> import_vuln_snapshot(const std::filesystem::path& file,
                                              const std::string& trust,
                                              const std::filesystem::path& db);
/// True when `path` starts like a snapshot file.
bool is_vuln_snapshot(const std::filesystem::path& path);

/// End of life for `product` at `version` (its release line), with `reached` judged against
/// `today` (ISO date "YYYY-MM-DD"). Data: data/eol/<product>.json (or `eol_dir`).
std::optional<Eol> eol_for(std::string_view product, std::string_view version,
                           std::string_view today, const std::filesystem::path& eol_dir = {});

/// Today's UTC date as "YYYY-MM-DD".
std::string today_utc();
/// Now in UTC as "YYYY-MM-DDTHH:MM:SSZ".
std::string now_utc();

}  // namespace probity
