// Subcommand registry for the probity CLI: one file per subcommand plus one line in commands.def.
#pragma once

#include <CLI/CLI.hpp>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probity/artifact.hpp"
#include "probity/limits.hpp"
#include "probity/scan.hpp"
#include "probity/unpack.hpp"

namespace probity::cli {

/// Exit codes shared by every subcommand (documented in --help and the README).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFail = 1;   ///< a verdict failed (policy, equivalence, verification)
inline constexpr int kExitUsage = 2;  ///< bad usage or unreadable input
/// The image was not fully seen (a scan's verdict is inconclusive; docs/policy.md).
inline constexpr int kExitInconclusive = 3;

/// A registered subcommand: its CLI11 node and what to run when it was chosen.
struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

#define PROBITY_COMMAND(name) Command add_##name(CLI::App& parent);
#include "commands.def"
#undef PROBITY_COMMAND

/// The unpacking flags every subcommand that unpacks takes (unpack, scan): caps and workers.
struct UnpackFlags {
  std::string max_total = "4G", max_file = "2G";
  std::uint32_t max_ratio = kMaxRatio, max_depth = kMaxDepth, format_timeout = kFormatSeconds;
  std::uint64_t max_files = kMaxEntries, max_candidates = kMaxCarveCandidates;
  std::string max_memory = "192M";
  bool deep = false;
  unsigned threads = 0;
};
void add_unpack_flags(CLI::App& app, UnpackFlags& flags);

/// What `scan` needs; `diff` scans its image arguments with the same pipeline.
struct ScanArgs {
  std::string image, out, db, signatures, policy, suppressions, rules, geoip;
  std::string fleet_index;  ///< scan --fleet-index ("" = none)
  std::string fail_on;      ///< scan --fail-on SEVERITY ("" = no gate)
  bool quiet = false;
  bool force = false;            ///< --force: replace an earlier output in --out
  std::string format = "table";  ///< --format: what goes to stdout
  UnpackFlags flags;
};
/// The scan options besides IMAGE, --out and --quiet: --db, --signatures, the unpack flags,
/// --policy, --suppressions, --rules, --geoip.
void add_scan_flags(CLI::App& app, ScanArgs& args);
/// The whole scan of args.image into args.out through probity::scan (every output file, and the
/// terminal summary unless quiet); errors are printed as "probity WHO: ...". Returns kExitOk
/// (policy passed), kExitFail (policy failed), kExitInconclusive or kExitUsage.
int run_scan(const ScanArgs& args, const char* who);
/// The library's scan options from the flags (image and out included); prints "probity WHO:
/// error" and returns nullopt for a flag that does not parse.
std::optional<ScanOptions> scan_options(const ScanArgs& args, const char* who);

/// The library's unpack options from the flags; prints "probity WHO: error" and returns nullopt
/// for a size that does not parse.
std::optional<UnpackOptions> unpack_options(const char* who, const UnpackFlags& flags);

/// The one rule for output directories (unpack, scan, diff, equiv): DIR is created when absent;
/// an existing non-directory or non-empty directory is refused, unless `force` and it holds an
/// earlier probity output (manifest.json, report.json, diff.json or equiv.json at its top), which
/// is then emptied. Prints "probity WHO: ..." and returns false when refused.
bool prepare_out_dir(const char* who, const std::string& out, bool force);
/// --out,-o DIR (required) and --force, with the rule above in their help.
void add_out_flags(CLI::App& app, std::string& out, bool& force);
/// --format NAME, one of `allowed` (json, sarif, cyclonedx, spdx, table; default: `format`'s
/// value): what the subcommand prints on stdout.
void add_format_flag(CLI::App& app, std::string& format, const std::vector<std::string>& allowed);
/// Copies the file at `path` to stdout (what --format prints: the same bytes as the file).
bool print_file(const char* who, const std::filesystem::path& path);

/// Levenshtein distance (the typo metric for "did you mean").
std::size_t edit_distance(std::string_view a, std::string_view b);
/// The candidate nearest `word` when close enough to be a typo of it (or that `word` prefixes),
/// else "".
std::string closest(std::string_view word, const std::vector<std::string>& candidates);
/// After a parse error: prints "probity [SUB]: unknown subcommand 'X'; did you mean 'Y'?" or
/// "unknown flag" likewise and returns true; false when the error is of another kind.
bool explain_parse_error(CLI::App& top, int argc, char** argv);

/// Version, commit, build date and the default database's snapshot, one per line.
std::string version_text();
/// Writes the man page (roff), bash or zsh completion for the whole command tree of `top`.
std::string generate_man(const CLI::App& top);
std::string generate_bash_completion(const CLI::App& top);
std::string generate_zsh_completion(const CLI::App& top);

/// Parses "4G", "512M", "64K" or a plain byte count.
std::uint64_t parse_size(const std::string& text);

/// Prints progress ("bytes and files done") on stderr every half second while alive, unless
/// quiet; silent for runs shorter than a second.
class ProgressPrinter {
 public:
  ProgressPrinter(const char* what, const std::atomic<std::uint64_t>& bytes,
                  const std::atomic<std::uint64_t>& files, bool quiet);
  ~ProgressPrinter();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace probity::cli
