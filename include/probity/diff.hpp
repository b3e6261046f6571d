// Diff: what an update changed between two scanned images (DESIGN.md, "Report x Report").
// Reads two report.json documents (or Reports fresh from a scan), compares them section by
// section and writes the Delta as diff.json (docs/report-schema.md) and diff.html.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "probity/error.hpp"
#include "probity/limits.hpp"
#include "probity/report.hpp"
#include "probity/scan.hpp"

namespace probity {

/// Smallest ssdeep score (0..100) for a removed and an added file to count as one file moved and
/// edited. ssdeep's own documentation treats scores above ~20 as related; 50 keeps a renamed
/// binary rebuilt with small changes while refusing two unrelated files that share a library.
inline constexpr int kMoveSimilarity = 50;
/// Smallest file compared by similarity: ssdeep needs a few kilobytes to say anything.
/// A heuristic, not a cap.
inline constexpr std::uint64_t kMinSimilarityBytes = 4096;

/// Reads a report.json written by `probity scan`. Errors name the file and what is wrong
/// (not JSON, not a probity report, a field of the wrong type, an unknown schema version).
/// `files[].extracted` paths are kept only when they are relative and stay below the report's
/// directory (a hostile report cannot make diff read elsewhere).
Result<Report> read_report(const std::filesystem::path& path);

/// True when `path` is a file that parses as JSON with "schema": "probity-report".
bool is_report_file(const std::filesystem::path& path);

struct DiffOptions {
  /// Directories holding the extracted files of each side (FileRecord::extracted is relative to
  /// them); "" when the contents are not available: then moves are found by hash only.
  std::filesystem::path old_root, new_root;
  int move_similarity = kMoveSimilarity;
  std::uint64_t max_similarity_pairs = kMaxSimilarityPairs;
};

/// A file present on both sides whose content, mode, owner, link target or type changed.
struct FileChange {
  FileRecord from, to;
  std::vector<std::string> changes;  ///< content, mode, owner, symlink-target, type
};

/// A removed file matched to an added one: by equal content, or by ssdeep similarity.
struct FileMove {
  FileRecord from, to;
  std::string match;   ///< "sha256" or "ssdeep"
  int similarity = 0;  ///< 100 for equal content; the ssdeep score otherwise
};

struct ComponentChange {
  std::string name, from, to;
  std::string direction;  ///< upgrade or downgrade
};

/// One binary on both sides (or moved) that lost or gained protections.
struct HardeningChange {
  std::string path, location;  ///< on the new side
  std::string old_path;
  std::vector<std::string> lost, gained;  ///< nx, pie, relro-full, relro, canary, fortify, no-rpath
};

struct AccountChange {
  AccountFact from, to;
  std::vector<std::string> changes;  ///< uid, gid, shell, home, password
};

/// Everything that differs between OLD and NEW.
struct Delta {
  ImageInfo old_image, new_image;
  struct {
    std::vector<FileRecord> added, removed;
    std::vector<FileChange> changed;
    std::vector<FileMove> moved;
    int similarity_threshold = kMoveSimilarity;
    bool similarity_available = false;  ///< file contents were readable on both sides
  } files;
  struct {
    std::vector<Component> added, removed;
    std::vector<ComponentChange> changed;
  } components;
  struct {
    std::vector<Vulnerability> fixed, introduced;
  } vulnerabilities;
  struct {
    std::vector<Finding> added, fixed, persisting;  ///< added is diff.json's "new"
  } findings;
  struct {
    std::vector<HardeningChange> regressions, improvements;
  } hardening;
  struct {
    std::vector<AccountFact> added, removed;
    std::vector<AccountChange> changed;
  } accounts;
  struct {
    std::vector<ServiceFact> added, removed;
  } services;
  struct {
    std::vector<EndpointFact> added, removed;
  } endpoints;
  struct {
    std::vector<KeyFact> added, removed;
  } keys;
  /// The two verdicts: results ("" when a report has none), clauses the new image breaks that
  /// the old one passed (regressions) and the reverse, and why each side was not fully seen.
  struct {
    std::string old_result, new_result;
    std::vector<ClauseResult> regressions, fixed;
    std::vector<InconclusiveReason> old_reasons, new_reasons;
  } verdict;
  std::vector<Warning> warnings;  ///< e.g. a report without facts, the similarity cap reached
};

/// Compares two reports. Files are matched by normalised location (container format chain and
/// path, never container ids or offsets); findings by their stable id; components by name;
/// vulnerabilities by (id, component); facts by what identifies them (docs/report-schema.md).
Delta diff_reports(const Report& old_report, const Report& new_report, const DiffOptions& opt = {});

inline constexpr int kDiffSchemaVersion = 1;

/// diff.json (schema "probity-diff", docs/report-schema.md).
nlohmann::json delta_json(const Delta& delta);

/// diff.html: one self-contained page rendering a diff.json document (no network needed).
std::string diff_html(const nlohmann::json& delta_json);

// ---- the whole run as one library call (issue 14 item 1) -------------------------------------

/// `probity diff` without the CLI. Each side is an image (scanned with probity::scan into
/// OUT/old or OUT/new) or a report.json from an earlier scan (read, not rescanned).
struct DiffRunOptions {
  std::filesystem::path old_input, new_input;
  std::filesystem::path out;  ///< created if absent; the caller makes sure it may be written
  /// The scan of an image side: everything but `image` and `out`, which the run sets.
  ScanOptions scan;
  int move_similarity = kMoveSimilarity;
  std::uint64_t max_similarity_pairs = kMaxSimilarityPairs;
  /// CI gates: "new-high" (NEW adds a high or critical finding or vulnerability),
  /// "clause-regression" (NEW fails a policy clause OLD passed).
  std::vector<std::string> fail_on;
  /// Called before an image side is scanned ("old" or "new", the image).
  std::function<void(std::string_view side, const std::filesystem::path& image)> on_scan;
};

struct DiffRun {
  Delta delta;
  nlohmann::json json;               ///< diff.json as written
  std::vector<std::string> tripped;  ///< the gates of `fail_on` that tripped, with their counts
  std::vector<std::filesystem::path> written;  ///< output files, in the order written
};

/// Runs diff and writes OUT/diff.json and OUT/diff.html. Errors are unusable input (a side that
/// is neither a readable image nor a good report.json, a scan refused, an output not written).
Result<DiffRun> diff(const DiffRunOptions& options);

/// The process exit code of a run: 1 a gate tripped, 3 a side's verdict is inconclusive (not
/// fully seen: a diff against it proves nothing), else 0.
int diff_exit_code(const DiffRun& run);

}  // namespace probity
