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
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "probity/diff.hpp"
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
  /// What the source does not explain (docs/source-audit.md): an image to unpack (into
  /// OUT/image) or the directory of an earlier `probity scan --out` (its report.json and
  /// extracted files); each ELF in it is mapped to the source. Empty: not done.
  std::filesystem::path image;
  std::filesystem::path scan_dir;
  /// The toolchain's include directory, where the headers the tree includes are read to learn
  /// compiler/libc strings (not reported). Empty: /usr/include when it exists.
  std::filesystem::path toolchain;
  bool learn_toolchain = true;
  /// Where upstream m4 macros are (aclocal's directory, gnulib's m4/): a tree's *.m4 with the
  /// same name and serial but other content is reported (the xz-utils back door shipped a
  /// modified build-to-host.m4 under upstream's serial).
  std::vector<std::filesystem::path> m4_dirs = {"/usr/share/aclocal", "/usr/share/gnulib/m4"};
  /// Regenerate configure and Makefile.in with this machine's Autoconf/Automake (when they are
  /// the releases the files name) in a sandbox, and compare (docs/source-audit.md).
  bool regenerate = true;
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
  std::uint64_t toolchain_headers = 0;  ///< headers read from the toolchain (--image/--scan)
  std::uint64_t explain_ms = 0;
  std::vector<std::string> regenerated;  ///< generated files compared with their generator
};

/// One string, symbol or compile unit of a binary the source does not explain.
struct Unexplained {
  std::string kind;  ///< string, symbol, unit
  std::string text;
  std::uint64_t offset = 0;  ///< file offset of a string in the ELF (0 for symbols and units)
  Severity severity = Severity::kMedium;
};

/// How much of one ELF of the image the source explains.
struct BinaryExplained {
  std::string path;  ///< as findings name it (FileRecord::path)
  std::uint32_t container = 0;
  std::string sha256;
  /// Strings of its read-only data (NUL-terminated text runs of at least 6 bytes), defined
  /// symbols, DWARF compile units: how many, how many the source explains, how many the
  /// toolchain (its headers; names reserved to the implementation).
  std::uint64_t strings = 0, strings_source = 0, strings_toolchain = 0;
  std::uint64_t symbols = 0, symbols_source = 0, symbols_toolchain = 0;
  std::uint64_t units = 0, units_source = 0, units_toolchain = 0;
  std::uint64_t unexplained_total = 0;
  std::vector<Unexplained> unexplained;  ///< at most kMaxUnexplainedFindings
  bool truncated = false;                ///< kMaxExplainStrings reached
  /// Share of strings explained (by the source or the toolchain); 1 with no strings.
  [[nodiscard]] double string_share() const {
    return strings ? double(strings_source + strings_toolchain) / double(strings) : 1.0;
  }
};

struct SourceResult {
  Report report;  ///< tree.image names DIR; tree.files the regular files read
  /// 1-based line of each finding in its file, by finding id (report.json's `line`, SARIF's
  /// region startLine); findings without a line are not in it.
  std::map<std::string, std::uint32_t> lines;
  SourceStats stats;
  std::vector<SourceSkip> skipped;
  std::vector<std::filesystem::path> written;
  /// With SourceOptions::image or scan_dir: every ELF of it, by path.
  std::vector<BinaryExplained> binaries;
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

// ---- `probity source diff OLD NEW`: review only what changed (docs/source-audit.md) ----------

struct SourceDiffOptions {
  std::filesystem::path old_dir, new_dir;
  std::filesystem::path out;  ///< created; must be empty or absent
  std::filesystem::path db, signatures, policy;
  unsigned threads = 0;
  std::uint32_t parse_seconds = kSourceParseSeconds;
  bool write_outputs = true;  ///< diff.json, diff.html
};

/// One security-relevant change between two source releases, with its place on both sides.
struct SourceChange {
  /// finding-new, finding-fixed, finding-changed (a rule's finding in one file whose code
  /// changed), component (a vendored version changed, added or removed), or a hunk of a changed
  /// file: authentication, listener, credentials, crypto, exec, build-step.
  std::string kind;
  Severity severity = Severity::kMedium;
  std::string path;                          ///< on the new side (the old one for what was removed)
  std::string old_path;                      ///< when it differs (a removed file: the same)
  std::uint32_t old_line = 0, new_line = 0;  ///< 1-based; 0: not on that side
  std::uint32_t old_lines = 0, new_lines = 0;  ///< a hunk's extent on each side
  std::string rule;                            ///< the finding's rule, the component's name
  std::string message;                         ///< what changed
  std::string old_text, new_text;              ///< excerpts, or a hunk's removed and added lines
};

struct SourceDiffResult {
  Delta delta;  ///< diff_reports() of the two source reports (components, findings, CVEs...)
  std::vector<SourceChange> changes;  ///< worst first, then by path and line
  std::uint64_t files_changed = 0, files_added = 0, files_removed = 0;
  std::uint64_t hunks_total = 0;       ///< security-relevant hunks before kMaxSourceDiffHunks
  std::string old_result, new_result;  ///< the two sides' verdicts
  std::vector<std::filesystem::path> written;
};

/// Runs the source pipeline on both trees and compares them. Errors: unusable input.
Result<SourceDiffResult> source_diff(const SourceDiffOptions& options);

/// The security topics one changed line touches ("authentication", "listener", "credentials",
/// "crypto", "exec"); empty when none.
std::vector<std::string> change_topics(std::string_view line);

// ---- What the source does not explain (exposed for the tests and fuzz/source_explain_fuzz) ----

/// The strings and names a set of C/C++ files holds: string literals (escapes decoded,
/// adjacent literals joined, `"a" MACRO "b"` kept as a pattern with a gap where the macro's
/// value is not a literal of the tree), identifiers, string macros and the names of included
/// headers. A binary's string is explained when it is a literal, a suffix of one (the linker
/// merges string tails), a substring, a pattern's expansion, or two literals laid end to end.
class SourceIndex {
 public:
  /// How a string was explained (kNone: it was not).
  enum class Match {
    kNone,
    kLiteral,
    kSuffix,
    kPattern,
    kSubstring,
    kPieces,
    kIdentifier,
    kStringified
  };
  /// Lexes one C/C++ file (bounded: linear in the text, never past kMaxSourceLiteralBytes in
  /// all). Returns false when the index is full.
  bool add_c(std::string_view text);
  /// Adds everything `other` holds (per-thread indexes are merged).
  void merge(SourceIndex&& other);
  /// Sorts the lookup tables; call once after the last add, before explain.
  void finish();
  [[nodiscard]] Match explain(std::string_view s) const;
  [[nodiscard]] bool has_identifier(std::string_view name) const;
  [[nodiscard]] const std::set<std::string>& includes() const { return includes_; }
  [[nodiscard]] std::uint64_t literal_bytes() const { return bytes_ + code_.size(); }
  [[nodiscard]] bool full() const { return full_; }
  [[nodiscard]] std::size_t literal_count() const { return literals_.size(); }

 private:
  struct Pattern {
    std::vector<std::string> pieces;  ///< literal text between gaps (encoded until finish())
    bool open_start = false, open_end = false;
    std::size_t literal_bytes = 0;
  };
  bool lex(std::string_view text, bool comment);
  void add_code(std::string_view text);
  void add_literal(std::string s);
  void add_pattern(Pattern p);
  [[nodiscard]] bool is_suffix(std::string_view s) const;
  [[nodiscard]] bool is_prefix(std::string_view s) const;
  [[nodiscard]] bool pattern_match(const Pattern& p, std::string_view s) const;
  std::set<std::string> literals_, identifiers_, includes_;
  /// Every value a name is defined to: pieces "T<text>", "M<macro name>" or "G" (a gap).
  std::map<std::string, std::set<std::vector<std::string>>> macros_;
  std::vector<Pattern> patterns_;
  std::vector<std::string> reversed_;  ///< literals reversed, sorted (suffix lookups)
  std::vector<std::string> sorted_;    ///< literals sorted (prefix lookups)
  std::string corpus_;                 ///< literals joined by \x01 (substring lookups)
  std::string code_;  ///< code text, whitespace collapsed, files joined by \x01 (#X strings)
  std::multimap<std::string, std::size_t> by_first_, by_last_;  ///< pattern index
  std::uint64_t bytes_ = 0;
  bool full_ = false;
};

/// The text of one ELF that a source should explain.
struct BinaryText {
  struct String {
    std::string text;
    std::uint64_t offset = 0;
  };
  std::vector<String> strings;  ///< NUL-terminated text runs in read-only/initialised data
  struct Symbol {
    std::string name;
    bool function = false;
  };
  std::vector<Symbol> symbols;     ///< defined functions and objects (.symtab and .dynsym)
  std::vector<std::string> units;  ///< source file names in DWARF string tables
  bool truncated = false;          ///< kMaxExplainStrings reached
};

/// Reads an ELF's strings, defined symbols and DWARF file names (libelf; bounded). nullopt
/// when libelf does not accept the bytes as an ELF object.
std::optional<BinaryText> binary_text(std::span<const std::uint8_t> elf);

/// Severity of an unexplained string: high for what looks like a credential or magic token
/// (no spaces or format directives, letters with digits or punctuation), medium otherwise.
Severity unexplained_string_severity(std::string_view s);

}  // namespace probity
