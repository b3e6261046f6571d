// Identification: third-party components with exact versions, from version signatures (data in
// data/signatures/*.toml, compiled into one vectorscan database) and from package metadata
// (opkg, dpkg, os-release, openwrt_release, Buildroot and Yocto manifests).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "probity/artifact.hpp"
#include "probity/error.hpp"
#include "probity/limits.hpp"
#include "probity/report.hpp"

namespace probity {

class TaskPool;

/// One real version string and the version it must yield (a signature's test case).
struct SignatureTest {
  std::string input;
  std::string version;
};

/// A version regex of a signature. The regex must match the whole version string; its first
/// capture group that matched is the version.
struct VersionPattern {
  std::string regex;
  /// Only report matches in files whose name matches one of the signature's `files` globs
  /// (for patterns too generic to trust anywhere, e.g. a bare "10.42 2022-12-11").
  bool hinted = false;
};

/// One product: everything needed to name it, find it and test the finding.
struct Signature {
  std::string id;                     ///< component name, unique, e.g. "openssl"
  std::string vendor;                 ///< CPE 2.3 vendor
  std::string product;                ///< CPE 2.3 product
  std::string part = "a";             ///< CPE part: a (application), o (operating system), h
  std::string purl;                   ///< purl without version, e.g. "pkg:generic/openssl"
  std::vector<std::string> files;     ///< file-name hints (globs on the base name)
  std::vector<std::string> packages;  ///< opkg/dpkg/Buildroot/Yocto package names
  std::vector<std::string> anchors;   ///< literals every version regex is anchored on
  /// Literals that mark a real copy of the product: when given, a version hit counts only in a
  /// file that also contains one of them, or whose name matches a hint. (Programs built against
  /// OpenSSL carry its header's version text without carrying OpenSSL.)
  std::vector<std::string> context;
  std::vector<VersionPattern> versions;
  std::vector<std::string> filenames;  ///< regexes on a file's base name that capture a version
  /// Regexes on an ELF file's own DT_SONAME (whole name, e.g. 'libz\.so\.1'): the file is this
  /// product, at a version the SONAME does not tell (ELF facts, docs/signatures.md).
  std::vector<std::string> sonames;
  /// Regexes on the GNU symbol-version nodes an ELF file defines (whole name, e.g.
  /// 'ZLIB_(\d+(?:\.\d+)+)'): the file is this product, and the captures (joined by ".")
  /// are a lower bound of its version: the newest node it defines, not its release.
  std::vector<std::string> symbol_versions;
  /// [node name, lower bound] cases of `symbol_versions` (checked like `tests`).
  std::vector<SignatureTest> symbol_version_tests;
  std::map<std::string, std::string> version_map;  ///< captured text -> version (e.g. sqlite ids)
  std::vector<SignatureTest> tests;
  std::vector<std::string> negatives;  ///< strings that must not yield this product
  std::string source;                  ///< the .toml file it was read from
  /// Every other CPE vendor:product NVD files this product under (curl: haxx:libcurl ...), from
  /// cpe-aliases.tsv next to the .toml files; the vulnerability match asks for each of them.
  std::vector<std::pair<std::string, std::string>> cpe_aliases;
  /// NVD CVEs (2002-2018) listed as vulnerable under the product's own and alias pairs.
  std::uint64_t nvd_cves = 0;
  /// Why no pair of this product is in NVD's vulnerable data, when none is (`cpe_reason`).
  std::string cpe_reason;
};

/// Reads every *.toml under `dir` (sorted), checking ids are unique and fields are present.
Result<std::vector<Signature>> load_signatures(const std::filesystem::path& dir);

/// The default signature directory (PROBITY_DATA_DIR/signatures).
std::filesystem::path default_signature_dir();

/// A version found in some bytes: which signature, which version, where.
struct Hit {
  std::size_t signature = 0;  ///< index into Identifier::signatures()
  std::string version;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;  ///< bytes the match spans from `offset`
  std::string excerpt;       ///< the matched bytes, printable
  bool hinted = false;       ///< a generic pattern that counted because of the file name
};

/// Confidence of each kind of evidence alone (docs/signatures.md, "Evidence and confidence").
inline constexpr double kConfidencePackageMetadata = 1.0;
inline constexpr double kConfidenceVersionString = 0.9;
inline constexpr double kConfidenceHintedVersionString = 0.8;
inline constexpr double kConfidenceFilename = 0.7;
/// ELF facts name the product only (a lower bound of its version at most): an ELF file whose
/// DT_SONAME or defined symbol-version nodes are the product's.
inline constexpr double kConfidenceSymbolVersion = 0.6;
inline constexpr double kConfidenceElfSoname = 0.5;

/// Every version pattern of every signature compiled into one vectorscan database (plus a small
/// one for file names). Immutable after creation; scan from many threads with one Scanner each.
class Identifier {
 public:
  static Result<Identifier> create(std::vector<Signature> signatures);
  Identifier(Identifier&&) noexcept;
  Identifier& operator=(Identifier&&) noexcept;
  ~Identifier();

  /// Per-thread scratch space.
  class Scanner {
   public:
    explicit Scanner(const Identifier& id);
    Scanner(Scanner&&) noexcept;
    ~Scanner();
    /// All versions in `bytes`, one pass. Patterns marked `hinted` count only when `base_name`
    /// matches a file-name hint of their signature, and signatures with `context` literals only
    /// when one is in `bytes` or the name matches a hint (nullopt: name unknown, all count).
    /// `truncated` is set when kMaxMatchesPerFile was hit.
    std::vector<Hit> scan(std::span<const std::uint8_t> bytes,
                          std::optional<std::string_view> base_name = std::nullopt,
                          bool* truncated = nullptr);
    /// Versions carried by a file's base name (e.g. libxml2.so.2.9.14).
    std::vector<Hit> scan_name(std::string_view base_name);

   private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
  };

  [[nodiscard]] const std::vector<Signature>& signatures() const;
  /// Index of the signature with this id, or -1.
  [[nodiscard]] long find(std::string_view id) const;

 private:
  Identifier();
  struct Impl;
  std::unique_ptr<Impl> impl_;
  friend class Scanner;
};

/// purl and CPE 2.3 of a signature's product at a version.
std::string make_purl(const Signature& s, const std::string& version);
std::string make_cpe(const Signature& s, const std::string& version);
/// The CPE 2.3 strings of the signature's alias pairs at a version (for Component::cpe_aliases).
std::vector<std::string> make_cpe_aliases(const Signature& s, const std::string& version);

/// The lower bound of a version that a GNU symbol-version node name gives under one of a
/// signature's `symbol_versions` regexes (its non-empty captures joined by "."; "OPENSSL_1_1_0"
/// under 'OPENSSL_(\d+)_(\d+)_(\d+[a-z]?)' is "1.1.0"), or nullopt when it does not match the
/// whole name.
std::optional<std::string> symbol_version_bound(const std::regex& re, std::string_view node);

struct IdentifyOptions {
  unsigned threads = 0;      ///< worker threads (0: all cores); ignored when `pool` is set
  TaskPool* pool = nullptr;  ///< the run's task pool (null: a pool of `threads` for this call)
  bool package_metadata = true;
  /// `out_dir` is the unpacked tree itself (`probity identify DIR`), records' `extracted` paths
  /// are inside it; otherwise it is unpack's output directory (it holds `extracted/`).
  bool plain_directory = false;
};

/// What identification found, and what it could not look at.
struct Identification {
  std::vector<Component> components;
  std::vector<Warning> warnings;
  std::uint64_t bytes_scanned = 0;
  std::uint64_t files_scanned = 0;
};

/// Identifies the components of an unpacked tree: package metadata first (authoritative, with
/// the database file as source), then one signature scan of every regular file's bytes. Several
/// copies or versions of a product are separate components, each with its evidence.
Identification identify(const ArtifactTree& tree, const std::filesystem::path& out_dir,
                        const Identifier& identifier, const IdentifyOptions& options = {});

/// Components declared by package metadata files of the tree (opkg/dpkg status and control
/// files, Alpine's lib/apk/db/installed, RPM's rpmdb.sqlite, npm package.json, Python
/// *.dist-info/METADATA and *.egg-info, etc/openwrt_release, etc/os-release, Buildroot and
/// Yocto manifests). npm and PyPI names map to a signature only through its purl.
std::vector<Component> package_components(const ArtifactTree& tree,
                                          const std::filesystem::path& out_dir,
                                          const Identifier& identifier,
                                          bool plain_directory = false);

/// One package an RPM database lists: its header's NAME, VERSION and RELEASE, and the header's
/// number in the database.
struct RpmPackage {
  std::string name, version, release;
  std::uint64_t hnum = 0;
};

/// The packages of an rpmdb.sqlite file's bytes (rpm >= 4.16's default database: Fedora, RHEL 9,
/// Yocto), read in memory with caps (kMaxRpmPackages, kMaxRpmHeaderEntries,
/// kMaxRpmdbInstructions); headers that are cut or point outside their blob are skipped, a
/// database SQLite refuses yields none.
std::vector<RpmPackage> rpm_database_packages(std::span<const std::uint8_t> bytes);

/// The vulnerability matcher `scan` calls: components in, known vulnerabilities out, plus the
/// database snapshot id. The vulnerability database module provides one (wired in by the CLI).
struct MatchResult {
  std::vector<Vulnerability> vulnerabilities;
  std::string db_snapshot;
  std::uint64_t db_vulnerabilities = 0;  ///< records in the database (0: empty)
  std::string db_imported_at;            ///< newest source import, UTC ISO 8601
  std::string db_snapshot_date;          ///< newest date the data carries (ISO date)
};
using VulnerabilityMatcher = std::function<Result<MatchResult>(const std::vector<Component>&)>;

}  // namespace probity
