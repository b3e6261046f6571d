// The fleet store (docs/fleet.md): every scanned image's components, vulnerabilities, findings,
// keys and verdicts in one database a lab can query and re-judge. SQLite for one machine
// (`--store FILE.db`), PostgreSQL for a cluster (`--store postgresql://...`), one schema
// (data/fleet/schema/*.sql). Fleet-wide keys: a key the store holds from another image becomes a
// `fleet-wide-key` finding (`probity scan --fleet-index STORE`, docs/findings.md).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "probity/error.hpp"
#include "probity/limits.hpp"
#include "probity/report.hpp"

namespace probity {

/// Images re-judged per transaction by `fleet rejudge` (each image is still all or nothing).
inline constexpr std::size_t kRejudgeBatch = 200;

/// True when `store` names PostgreSQL (postgresql:// or postgres://) rather than a SQLite file.
bool is_postgresql_url(const std::string& store);

/// What `ingest` did with one report.
struct IngestResult {
  std::string sha256, name, probity_version;
  std::int64_t image_id = 0;
  bool stored = false;  ///< false: this image and probity version were already in the store
};

/// One image holding a queried component.
struct ComponentHit {
  std::string sha256, image, component, version;
  std::size_t copies = 0;
};
/// One key found in several images.
struct SharedKey {
  std::string fingerprint;
  struct Sighting {
    std::string sha256, image, path, rule;
  };
  std::vector<Sighting> sightings;  ///< sorted by image name, path
  std::size_t images = 0;           ///< distinct images
};
/// One image affected by a queried vulnerability.
struct CveHit {
  std::string sha256, image, component, version, severity;
  double cvss = 0;
  bool suppressed = false;
};
/// An image whose verdict differs from the one it had under a database snapshot.
struct VerdictChange {
  std::string sha256, image, before, after, before_snapshot, after_snapshot;
};
/// Batch-scan tasks of one job, by state.
struct TaskCounts {
  std::size_t pending = 0, running = 0, done = 0, skipped = 0, failed = 0;
  std::vector<std::pair<std::string, std::string>> failures;  ///< image, error
};
struct RejudgeOptions {
  std::filesystem::path db;      ///< vulnerability database; empty: default_vuln_db_path()
  std::filesystem::path policy;  ///< empty: default_policy_path()
};
struct RejudgeStats {
  std::size_t images = 0, changed = 0, vulnerabilities = 0;
  std::string db_snapshot;
};

class FleetStore {
 public:
  /// Opens the store (`postgresql://...` or a SQLite file path, created when missing) and applies
  /// any schema migration it lacks. An unreachable server or a wrong URL is an error naming it.
  static Result<FleetStore> open(const std::string& store);
  FleetStore(FleetStore&&) noexcept;
  FleetStore& operator=(FleetStore&&) noexcept;
  ~FleetStore();

  /// "sqlite" or "postgresql".
  [[nodiscard]] const char* kind() const;

  /// Loads one scan (a scan directory or its report.json; manifest.json beside it adds containers
  /// and regions) in one transaction: every row of the image or none. Idempotent by image sha256
  /// and probity version.
  Result<IngestResult> ingest(const std::filesystem::path& scan);
  /// The same from a report in memory; `source` is recorded, `manifest` may be empty.
  Result<IngestResult> ingest(const Report& report, const std::string& probity_version,
                              const std::string& source, const std::string& scanned_at,
                              const std::filesystem::path& manifest = {});
  /// True when the image (by sha256) was stored by this probity version.
  Result<bool> has_image(const std::string& sha256, const std::string& probity_version);

  /// Records the key findings of a report just scanned and returns a `fleet-wide-key` finding
  /// (critical) per key the store holds from another image (sha256).
  Result<std::vector<Finding>> join_keys(const Report& report);

  /// Images holding component `name` (below `below` by version order when given).
  Result<std::vector<ComponentHit>> query_component(const std::string& name,
                                                    const std::string& below = {});
  /// Keys (fingerprints) found in more than one image.
  Result<std::vector<SharedKey>> query_shared_keys();
  /// Images affected by vulnerability `id`.
  Result<std::vector<CveHit>> query_cve(const std::string& id);
  /// Images whose latest verdict differs from the latest one judged under the database snapshot
  /// `since` (a full snapshot id or a prefix of it).
  Result<std::vector<VerdictChange>> verdict_changes(const std::string& since);

  /// Re-matches every stored image's components against a vulnerability database, rebuilds its
  /// component findings and judges it again against a policy, without unpacking anything: a new
  /// judgement per image.
  Result<RejudgeStats> rejudge(const RejudgeOptions& options);

  /// Batch tasks (`fleet submit`): create pending rows, update one, count them.
  Status add_tasks(const std::string& job, const std::vector<std::string>& images);
  Status set_task(const std::string& job, std::int64_t task, const std::string& state,
                  const std::string& error = {});
  Result<std::vector<std::string>> task_images(const std::string& job);
  Result<TaskCounts> task_counts(const std::string& job);
  /// Jobs in the store, newest first.
  Result<std::vector<std::string>> jobs();
  /// Number of stored images.
  Result<std::size_t> image_count();

  struct Impl;

 private:
  explicit FleetStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// The fleet index of `probity scan --fleet-index`: the fleet store's keys table.
class FleetIndex {
 public:
  /// Opens the store at `store` (SQLite file or postgresql:// URL; created when missing).
  static Result<FleetIndex> open(const std::filesystem::path& store);
  /// See FleetStore::join_keys. Rescanning the same image adds nothing and raises nothing new.
  Result<std::vector<Finding>> join(const Report& report) { return store_.join_keys(report); }

 private:
  explicit FleetIndex(FleetStore s) : store_(std::move(s)) {}
  FleetStore store_;
};

}  // namespace probity
