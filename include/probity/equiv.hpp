// `probity equiv`: is a rebuilt image the same as the shipped one? Compares what two unpacked
// images hold (ArtifactTree × ArtifactTree, plus the extracted bytes), masks only the named
// normalisations of docs/equiv.md, and explains every remaining difference at the finest level
// that applies (file; ELF section and symbol; text line; byte range).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "probity/artifact.hpp"
#include "probity/error.hpp"
#include "probity/limits.hpp"
#include "probity/unpack.hpp"

namespace probity {

enum class EquivVerdict { kIdentical, kEquivalent, kDifferent };
const char* to_string(EquivVerdict v);

/// A byte range in a file or region (offset in the shipped side's bytes).
struct ByteRange {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

/// One masked difference: which rule, where, how many bytes it masked (docs/equiv.md).
struct Normalisation {
  std::string rule;  ///< fs-timestamps, compression-layout, uimage-header-time, ...
  std::string path;  ///< file path ("!" between nesting levels) or container label
  std::uint64_t bytes = 0;
  std::string detail;            ///< what exactly was masked, human-readable
  std::optional<bool> verified;  ///< vendor-signature only: did it verify on its own
};

/// One difference no normalisation explains.
struct Difference {
  std::string path;
  std::string kind;  ///< content, elf-section, text, mode, owner, link, type, added, removed,
                     ///< header-field, unexplained-region, signature
  std::string explanation;
  std::string container;             ///< format chain of the container holding `path`
  std::string section;               ///< elf-section: the section name
  std::vector<std::string> symbols;  ///< elf-section: symbols covering the differing bytes
  std::string symbol_table;          ///< ".symtab", ".dynsym" or "" (stripped, no symbols)
  std::vector<ByteRange> ranges;     ///< differing byte ranges (shipped side's offsets)
  std::uint64_t ranges_total = 0;    ///< ranges found (ranges holds the first kMaxEquivRanges)
  std::string unified_diff;          ///< text: unified diff, shipped → rebuilt
  std::string hexdump_diff;          ///< same-size binary: unified diff of xxd-style rows
  std::string shipped, rebuilt;      ///< the two values for metadata and header fields
};

/// The outcome of one comparison.
struct Equivalence {
  ImageInfo shipped, rebuilt;
  EquivVerdict verdict = EquivVerdict::kDifferent;
  std::vector<Normalisation> normalisations;
  std::vector<Difference> differences;
  std::uint64_t differences_total = 0;  ///< found (differences holds the first max)
  std::vector<std::string> warnings;    ///< caps hit, files not readable, unpack warnings
  std::uint64_t files_compared = 0;
  std::uint64_t elapsed_ms = 0;  ///< wall time of the whole run (hashing, unpacking, comparing)
};

/// A usign (OpenWrt) Ed25519 public key, as `usign -G` writes it and OpenWrt ships it in
/// etc/opkg/keys/: "untrusted comment: ...\n" then base64 of "Ed" + 8-byte key id + 32-byte key.
struct UsignKey {
  std::array<std::uint8_t, 8> id{};
  std::array<std::uint8_t, 32> key{};
  std::string source;  ///< the file it was read from
};

/// Parses a usign public key file's text; an error says what is wrong.
Result<UsignKey> parse_usign_key(std::string_view text, const std::string& source = {});

enum class UsignResult {
  kVerified,      ///< the Ed25519 signature verifies over the message with the key of its id
  kBadSignature,  ///< a key with the signature's id is given, and the signature does not verify
  kUnknownKey,    ///< no given key has the signature's id
  kMalformed,     ///< not a usign signature file (e.g. a ucert blob, truncated, bad base64)
};

/// Checks a usign signature file's text (`usign -S -x`) over `message`. `key_id`, when given,
/// receives the signature's key id in hex ("" when malformed).
UsignResult verify_usign(std::string_view signature, std::span<const std::uint8_t> message,
                         std::span<const UsignKey> keys, std::string* key_id = nullptr);

struct EquivOptions {
  std::size_t max_differences = kMaxEquivDifferences;
  std::uint64_t max_text_bytes = kMaxTextDiffBytes;
  /// Vendor keys for signature blocks (`--vendor-key`). When given, each image's usign
  /// signature must verify with one of them; without keys signatures are recognised only.
  std::vector<UsignKey> vendor_keys;
};

/// Equivalence of two images whose bytes are the same (no unpacking needed).
Equivalence identical_images(const ImageInfo& shipped, const ImageInfo& rebuilt);

/// Compares two unpacked images. `shipped_dir`/`rebuilt_dir` are the output directories the
/// trees were extracted into (FileRecord::extracted is relative to them).
Equivalence compare_images(const ArtifactTree& shipped, const std::string& shipped_dir,
                           const ArtifactTree& rebuilt, const std::string& rebuilt_dir,
                           const EquivOptions& options = {});

// ---- ELF ------------------------------------------------------------------------------------

/// One section (or ELF header part) whose bytes differ after masking.
struct ElfSectionDiff {
  std::string section;  ///< ".text", "ELF header", "program headers", "section headers", ...
  std::vector<ByteRange> ranges;  ///< file offsets (shipped side)
  std::uint64_t ranges_total = 0;
  std::uint64_t bytes = 0;  ///< differing bytes in this section
  std::vector<std::string> symbols;
  std::string note;  ///< e.g. "size 1200 vs 1204" when the layouts differ
};

/// What compare_elf found: masked fields and the sections that still differ.
struct ElfComparison {
  std::uint64_t build_id_bytes = 0;   ///< NT_GNU_BUILD_ID descriptor bytes masked (0: none)
  std::uint64_t debuglink_bytes = 0;  ///< .gnu_debuglink CRC bytes masked (0 or 4)
  std::vector<ElfSectionDiff> sections;
  std::string symbol_table;  ///< where symbols came from: ".symtab", ".dynsym" or ""
  bool same_layout = true;   ///< same size and section table: byte-exact ranges
};

/// Compares two ELF files, masking only the build-id note descriptor and the debug-link CRC.
/// nullopt when either is not a parseable ELF file.
std::optional<ElfComparison> compare_elf(std::span<const std::uint8_t> shipped,
                                         std::span<const std::uint8_t> rebuilt);

// ---- text -----------------------------------------------------------------------------------

/// A unified diff (3 lines of context) from `a` to `b`, headed "--- name_a" / "+++ name_b";
/// "" when the texts are equal. Cut after `max_lines` lines with a "... N more lines" marker.
std::string unified_line_diff(std::string_view a, std::string_view b, const std::string& name_a,
                              const std::string& name_b,
                              std::size_t max_lines = kMaxUnifiedDiffLines);

/// A unified diff of xxd-style rows (16 bytes, offset + hex + ASCII) around the first 4 of
/// `ranges` (offsets into `a` and `b`, which have the same size), one row of context each side
/// and at most 8 rows per range; printed offsets are `base` + offset.
std::string hexdump_diff(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b,
                         const std::vector<ByteRange>& ranges, std::uint64_t base = 0);

/// Differing byte ranges between two buffers (ranges past the shorter end included as one);
/// ranges closer than 8 bytes are merged. Fills `total` with the count before the cap.
std::vector<ByteRange> differing_ranges(std::span<const std::uint8_t> a,
                                        std::span<const std::uint8_t> b, std::size_t cap,
                                        std::uint64_t* total = nullptr);

// ---- outputs --------------------------------------------------------------------------------

inline constexpr int kEquivSchemaVersion = 1;
/// equiv.json (docs/report-schema.md).
nlohmann::json equiv_json(const Equivalence& e);
/// equiv.html: one self-contained page.
std::string equiv_html(const Equivalence& e);
/// diffoscope's JSON format (diffoscope-json-version 1) so `diffoscope --load-existing-diff`
/// renders it.
nlohmann::json equiv_diffoscope_json(const Equivalence& e);
/// An in-toto Statement v1 whose predicate is an SLSA verification summary (VSA v1).
/// `time_verified` is RFC 3339 UTC ("" means now).
nlohmann::json equiv_slsa_vsa(const Equivalence& e, const std::string& time_verified = {});

// ---- the whole run as one library call (issue 14 item 1) -------------------------------------

/// `probity equiv` without the CLI: both images are hashed, unpacked at once into OUT/shipped
/// and OUT/rebuilt (with their manifest.json), compared, and the outputs written.
struct EquivRunOptions {
  std::filesystem::path shipped, rebuilt;  ///< the images
  std::filesystem::path out;  ///< created if absent; the caller makes sure it may be written
  /// Caps, --deep and worker threads for each side's unpack (each side has a pool of its own
  /// of `threads`; `pool`, `progress` and `skip_blob` are set by the run).
  UnpackOptions unpack;
  EquivOptions compare;                   ///< vendor keys, --max-differences, --max-diff-bytes
  std::filesystem::path diffoscope_json;  ///< also write diffoscope's JSON here ("" : no)
  std::filesystem::path slsa;  ///< also write an in-toto SLSA verification summary ("" : no)
};

struct EquivRun {
  Equivalence equivalence;
  /// "shipped: cap-..." / "rebuilt: cap-...": caps that left content unextracted, so that an
  /// equivalence is unproven (its warning says so); empty when both sides were fully seen.
  std::vector<std::string> unseen;
  std::vector<std::filesystem::path> written;  ///< output files, in the order written
};

/// Runs equiv. Errors are unusable input (an image that is not a readable file, an output that
/// cannot be written); everything found inside the images is in the result.
Result<EquivRun> equiv(const EquivRunOptions& options);

/// The process exit code of a run: 0 identical or equivalent, 1 different, 3 inconclusive (a
/// cap left content of either side unextracted).
int equiv_exit_code(const EquivRun& run);

}  // namespace probity
