// The whole pipeline as one library call: unpack -> inventory -> identify -> end of life ->
// match -> checks -> fleet -> component findings -> suppressions -> judge -> outputs. `probity
// scan` and `probity diff` are thin shells over it; a program embeds probity the same way
// (examples/scan_image.cpp).
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "probity/checks.hpp"
#include "probity/error.hpp"
#include "probity/identify.hpp"
#include "probity/report.hpp"
#include "probity/unpack.hpp"

namespace probity {

struct ScanOptions {
  std::filesystem::path image;
  std::filesystem::path out;  ///< created; must be empty or absent
  /// Caps, --deep, worker threads (which bound identify and the checks too), progress.
  UnpackOptions unpack;
  /// Vulnerability database (SQLite). Empty: $PROBITY_DB or the default one; a missing default
  /// database means no matching (the verdict's evidence terms then decide); a named file that
  /// does not exist is an error.
  std::filesystem::path db;
  std::filesystem::path signatures;    ///< empty: default_signature_dir()
  std::filesystem::path policy;        ///< empty: default_policy_path()
  std::filesystem::path suppressions;  ///< reviewers' decisions (TOML); empty: none
  std::filesystem::path rules;         ///< extra YARA rules directory; empty: none
  std::filesystem::path geoip;         ///< MaxMind-format database; empty: none
  std::filesystem::path
      fleet_index;                  ///< fleet store (file or URL) shared across scans; empty: none
  std::optional<Severity> fail_on;  ///< also fail at or above this severity
  /// Write manifest.json, report.json, report.html, sbom.cdx.json, sbom.spdx.json,
  /// findings.sarif (and vex.cdx.json with suppressions) into `out`.
  bool write_outputs = true;
  /// Called as each stage starts ("unpack", "identify", "match", "check", "judge", "write");
  /// from the calling thread.
  std::function<void(std::string_view stage)> on_stage;
};

struct ScanResult {
  Report report;                                       ///< with its verdict
  std::uint64_t files_scanned = 0, bytes_scanned = 0;  ///< by identification
  HardeningStats hardening;
  std::vector<std::filesystem::path> written;  ///< output files, in the order written
  /// Unmatched suppressions (also warnings in the report).
  std::vector<std::string> unmatched_suppressions;
};

/// Runs the whole pipeline. Every input the options name is read and checked before the image
/// is unpacked, so a bad policy fails in milliseconds. Errors are unusable input (a policy that
/// does not parse, an unreadable image, an output directory in use); everything wrong inside
/// the image is in the report (warnings, coverage, an inconclusive verdict).
Result<ScanResult> scan(const ScanOptions& options);

/// The process exit code a verdict maps to: 0 pass, 1 fail, 3 inconclusive (docs/policy.md).
int verdict_exit_code(const Verdict& verdict);

}  // namespace probity
