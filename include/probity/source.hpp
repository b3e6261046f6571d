// `probity source DIR`: the scan pipeline on a source tree a vendor hands over (issue 18,
// docs/source-audit.md). Components from what source trees carry (version macros, build-system
// files, package recipes, Debian changelogs, manifests), matched against the vulnerability
// database as in scan; back-door checks on C/C++ through libclang; build-file checks; the
// image checks (secrets, keys, endpoints) on every file; the same report.json schema, SBOM,
// SARIF (with file/line regions) and HTML. `cli/source.cpp` is a thin shell over source_scan().
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "probity/error.hpp"
#include "probity/limits.hpp"
#include "probity/report.hpp"

namespace probity {

struct SourceOptions {
  std::filesystem::path dir;         ///< the source tree (read only; never written)
  std::filesystem::path out;         ///< created; must be empty or absent
  std::filesystem::path db;          ///< as ScanOptions::db
  std::filesystem::path signatures;  ///< product → CPE naming; empty: default_signature_dir()
  std::filesystem::path policy;      ///< empty: default_policy_path()
  unsigned threads = 0;              ///< 0: every core
  std::uint64_t max_file_bytes = kMaxSourceFileBytes;
  std::uint64_t max_files = kMaxSourceFiles;
  std::uint32_t max_depth = kMaxSourceDepth;
  std::uint64_t max_parse_bytes = kMaxSourceParseBytes;
  std::uint32_t parse_seconds = kSourceParseSeconds;
  /// Parse only the C/C++ files whose text holds a token the AST checks need (a comparison or
  /// socket call and an access-granting word); the others are listed as not-parsed-by-policy
  /// (docs/source-audit.md, "What is parsed"). Off by default: single-file parses are cheap.
  bool prefilter = false;
  bool write_outputs = true;  ///< report.json, sbom.cdx.json, findings.sarif, report.html
  /// Called as each stage starts ("walk", "components", "match", "check", "parse", "judge",
  /// "write"), from the calling thread.
  std::function<void(std::string_view stage)> on_stage;
};

/// A file of the tree that was not (fully) looked at, and why.
struct SourceSkip {
  std::string path;    ///< relative to the tree's root (bytes as on disk)
  std::string reason;  ///< stable code, see docs/source-audit.md
  std::string detail;
  /// False for files skipped by design (not-parsed-by-policy): they do not make the verdict
  /// inconclusive. True for caps, escapes, unreadable files and failed parses.
  bool counts = true;
};

struct SourceStats {
  std::uint64_t files = 0, bytes = 0;  ///< regular files read
  std::uint64_t c_files = 0;           ///< C/C++ files (by extension)
  std::uint64_t parsed = 0;            ///< of which parsed by libclang
  std::uint64_t parsed_with_errors = 0;
  std::uint64_t parse_ms = 0, elapsed_ms = 0;
};

struct SourceResult {
  Report report;  ///< tree.image names DIR; tree.files the regular files read
  /// 1-based line of each finding in its file, by finding id (report.json's `line`, SARIF's
  /// region startLine); findings without a line are not in it.
  std::map<std::string, std::uint32_t> lines;
  SourceStats stats;
  std::vector<SourceSkip> skipped;
  std::vector<std::filesystem::path> written;
};

/// Runs the source pipeline. Errors are unusable input (no such directory, a bad policy, an
/// output directory in use); everything wrong inside the tree is in the report.
Result<SourceResult> source_scan(const SourceOptions& options);

// ---- The hand-written parsers (exposed for the tests and fuzz/source_versions_fuzz.cpp) ----

/// A product version a source file states.
struct SourceVersion {
  std::string product;  ///< signature id where one exists (openssl, busybox, dropbear, ...)
  std::string version;
  std::uint32_t line = 0;  ///< 1-based
  std::string method;      ///< macro:NAME, ac-init, cmake-project, meson-project, makefile,
                           ///< pkg-version, yocto-recipe, debian-changelog, package-json
  std::string excerpt;
};

/// The versions `text` (the file `rel_path` of a tree) states. Bounded: looks at most at
/// kMaxSourceFileBytes, never allocates more than the input.
std::vector<SourceVersion> source_versions(std::string_view rel_path, std::string_view text);

/// A build-file step worth a reviewer's eyes.
struct BuildStep {
  std::string rule;  ///< build-decodes-blob, build-reads-test-data, build-downloads
  Severity severity = Severity::kMedium;
  std::uint32_t line = 0;
  std::string excerpt;
  std::string message;
};

/// Whether `rel_path` is a build file (configure, configure.ac/in, Makefile*, *.mk, *.m4,
/// *.am, CMakeLists.txt, *.cmake, meson.build, *.sh under build dirs, rules, *.bb/*.bbappend).
bool is_build_file(std::string_view rel_path);
/// The build steps of one build file that decode or unpack blobs or test files into the build,
/// or download during the build.
std::vector<BuildStep> build_steps(std::string_view rel_path, std::string_view text);

}  // namespace probity
