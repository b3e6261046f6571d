// Subcommand registry for the probity CLI: one file per subcommand plus one line in commands.def.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <optional>
#include <string>

#include "probity/artifact.hpp"
#include "probity/limits.hpp"
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
  UnpackFlags flags;
};
/// The scan options besides IMAGE, --out and --quiet: --db, --signatures, the unpack flags,
/// --policy, --suppressions, --rules, --geoip.
void add_scan_flags(CLI::App& app, ScanArgs& args);
/// The whole scan of args.image into args.out through probity::scan (every output file, and the
/// terminal summary unless quiet); errors are printed as "probity WHO: ...". Returns kExitOk
/// (policy passed), kExitFail (policy failed), kExitInconclusive or kExitUsage.
int run_scan(const ScanArgs& args, const char* who);

/// The library's unpack options from the flags; prints "probity WHO: error" and returns nullopt
/// for a size that does not parse.
std::optional<UnpackOptions> unpack_options(const char* who, const UnpackFlags& flags);

/// Unpacks IMAGE into OUT and inventories it, with progress on stderr unless quiet. On failure
/// prints "probity WHO: error" and returns nullopt (the caller exits kExitUsage). `skip_blob`:
/// see UnpackOptions::skip_blob.
std::optional<ArtifactTree> unpack_and_inventory(
    const char* who, const std::string& image, const std::string& out, const UnpackFlags& flags,
    bool quiet, std::function<bool(const FileRecord& file)> skip_blob = {});

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
