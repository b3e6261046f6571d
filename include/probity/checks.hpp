// The checks stage: back-door indicators and engineering-quality findings over an unpacked tree
// (docs/findings.md). Each check is one file in src/checks/ plus one line in checks.def.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "probity/artifact.hpp"
#include "probity/error.hpp"
#include "probity/limits.hpp"
#include "probity/report.hpp"

namespace probity {

class TaskPool;

/// What the checks need besides the tree.
struct CheckOptions {
  /// Extra YARA rules (*.yar, *.yara) compiled together with data/rules/ ("" for none).
  std::filesystem::path rules_dir;
  /// Data directory holding rules/ and credentials/ (default: the compiled-in PROBITY_DATA_DIR).
  std::filesystem::path data_dir;
  /// Endpoint allowlist: domains (a name matches itself and its sub-domains) and CIDR networks.
  /// When both are empty and no GeoIP database is given, endpoints are inventoried, not judged.
  std::vector<std::string> allowed_domains;
  std::vector<std::string> allowed_networks;
  /// Optional MaxMind-format database; IP literals whose country is not in `allowed_countries`
  /// (ISO 3166 alpha-2) are flagged.
  std::filesystem::path geoip_db;
  std::vector<std::string> allowed_countries;
  /// Worker threads (0: all cores); ignored when `pool` is set.
  unsigned threads = 0;
  /// The run's task pool (null: a pool of `threads` for this call).
  TaskPool* pool = nullptr;
};

/// Image-level hardening statistics (as in Finite State's 2019 firmware study).
struct HardeningStats {
  std::uint64_t binaries = 0;     ///< ELF executables and shared objects looked at
  std::uint64_t executables = 0;  ///< of which executables (ET_EXEC, or ET_DYN with PT_INTERP)
  std::uint64_t nx = 0;
  std::uint64_t pie = 0;  ///< executables only
  std::uint64_t relro_partial = 0;
  std::uint64_t relro_full = 0;
  std::uint64_t canary = 0;
  std::uint64_t fortify = 0;
  std::uint64_t rpath = 0;  ///< RPATH or RUNPATH set
  std::uint64_t stripped = 0;
  /// Import counts of the unsafe functions (strcpy, sprintf, gets, system, ...), by name.
  std::map<std::string, std::uint64_t> unsafe_calls;
  /// Binaries importing at least one unsafe function.
  std::uint64_t with_unsafe_calls = 0;
};

/// Runs every registered check over the regular files of `tree`, whose contents are at
/// `out_dir / FileRecord::extracted` (as written by `unpack`). Findings come back sorted by path,
/// rule and id, with unique ids. `stats`, when given, receives the hardening statistics;
/// `facts`, when given, the accounts, boot services, endpoints, keys and per-binary hardening the
/// checks parsed on the way (sorted by location, so equal trees give equal facts).
std::vector<Finding> run_checks(const ArtifactTree& tree, const std::filesystem::path& out_dir,
                                const CheckOptions& opt, HardeningStats* stats = nullptr,
                                Facts* facts = nullptr);

/// Compiles the bundled rule pack together with the user's rules in `rules_dir` without scanning
/// anything, so that `--rules DIR` can be refused up front (exit 2) with the compiler's message
/// (file:line). run_checks reports the same problem as a "yara-rules-error" finding.
Status validate_rules(const std::filesystem::path& rules_dir,
                      const std::filesystem::path& data_dir = {});

/// Opens `geoip_db` as a MaxMind DB (libmaxminddb), so that a `--geoip` file that is not one is
/// refused up front (exit 2) rather than leaving every endpoint's country unknown.
Status validate_geoip(const std::filesystem::path& geoip_db);

/// Ids of the registered checks, in registry order.
std::vector<std::string> check_ids();

/// The stable finding id: the first 16 hex digits of SHA-256 over rule, location and evidence
/// key joined by '\n' (docs/findings.md).
std::string finding_id(std::string_view rule, std::string_view location,
                       std::string_view evidence_key);

/// The normalised location of a file: its container's format chain (blob paths and formats,
/// never offsets or numeric ids) and its path, e.g. "squashfs:etc/shadow", or
/// "squashfs>boot/initrd.gz>gzip>initrd>cpio:etc/passwd" for a cpio inside a gzip found at
/// boot/initrd.gz in the squashfs. The image's own file name is left out (it changes per release).
std::string normalised_location(const FileRecord& f);

}  // namespace probity
