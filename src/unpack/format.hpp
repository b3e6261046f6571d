// The format plugin interface. A format is one .cpp file in formats/ defining
// `const Format kFormat_<id> = make_format(kind::..., ...)` plus one PROBITY_FORMAT(<id>) line in
// formats/formats.def.
#pragma once

#include <cctype>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "core/bytes.hpp"
#include "probity/error.hpp"
#include "probity/limits.hpp"
#include "unpack/sink.hpp"

namespace probity::unpacker {

/// A magic byte string and where it sits relative to the start of the format.
struct Magic {
  std::string_view bytes;
  std::uint32_t at = 0;
  /// Too weak to carve on its own (binary cpio's two bytes): a hit away from offset 0 is a
  /// candidate only where the format's probe accepts the bytes, so random data (a hit every
  /// 64 KiB) neither floods the candidate cap nor reaches extraction.
  bool weak = false;
};

/// Where a format may be found.
enum class Carve {
  kAnyOffset,  ///< carved: looked for at every offset of a raw blob (strong magics)
  kStartOnly,  ///< only at offset 0 of a blob or file (weak magics, e.g. "!<arch>")
};

/// How much a positive probe says. A checked format's header carries a CRC, a checksum or a
/// superblock whose fields must agree; a magic-only format (a raw compressed stream: gzip's three
/// bytes, LZMA's properties byte) is found in random data and decodes garbage for a while. A
/// magic-only stream that fails never hides a checked candidate: what it understood ends where
/// the next checked candidate that probes positive begins (issue 17: a strong candidate is never
/// dropped for weak ones).
enum class Strength {
  kChecked,
  kMagicOnly,
};

/// What the format's output is, which decides how the driver recurses into it.
enum class Output {
  kStream,  ///< one or a few blobs (decompressed data, kernel payloads): carved again in full
  kTree,    ///< a file tree (filesystem, archive): each file is probed at offset 0
  kLeaf,    ///< nothing to extract beyond the bytes themselves (ELF, device tree)
};

/// What a cheap header check learned.
struct Probe {
  std::uint64_t length = 0;  ///< bytes the format spans, 0 when only extraction can tell
  std::string description;   ///< e.g. "xz, 128 KiB blocks, 1234 inodes"
};

/// What kind of thing a format is, for the stages after unpack (issue 14 item 5): inventory's
/// file kinds, equiv's pairing of interchangeable containers. Every format states one (the
/// registry test fails on kUnset).
enum class Family {
  kUnset,
  kStream,      ///< a compressor (gzip, xz...): interchangeable with another in a rebuild
  kFilesystem,  ///< a filesystem image (squashfs, ext...): interchangeable likewise
  kArchive,     ///< an archive of files (tar, cpio, zip...)
  kFirmware,    ///< a firmware container, header or memory image (uImage, TRX, vendor headers)
  kLeaf,        ///< understood but not a container (ELF)
};

/// One field of a container's own header, as `probity equiv` compares two builds of it (issue 14
/// item 5: the format file knows its header; equiv applies the rule the field's role names,
/// docs/equiv.md).
struct HeaderField {
  enum class Role {
    kIdentity,   ///< must be equal: a difference is a `header-field` difference
    kTimestamp,  ///< a build time: masked under `rule` whenever it differs
    kEncoding,   ///< follows from the payload and how it was encoded (a size, a data CRC, a
                 ///< compressor setting): masked under `rule` when the payloads compared
                 ///< equivalent, else a consequence of the payload's reported difference
    kHeaderCrc,  ///< a checksum of the header: masked under `rule` when only masked fields differ
  };
  std::string name;  ///< as the format's documentation calls it ("ih_time", "MTIME")
  std::uint64_t offset = 0;
  std::uint64_t length = 0;  ///< may be 0 (an optional part that is absent)
  Role role = Role::kIdentity;
  std::string_view rule;  ///< equiv's rule for a masked field (kTimestamp, kEncoding, kHeaderCrc)
  std::string value;      ///< printable value ("0x80008000", "1700000000", "12 bytes")
};

/// A format plugin.
struct Format {
  std::string_view id;           ///< plugin id = file name, e.g. "squashfs"
  std::string_view description;  ///< one line for docs and --help
  std::span<const Magic> magics;
  Carve carve = Carve::kAnyOffset;
  Output output = Output::kTree;
  Strength strength = Strength::kChecked;
  Family family = Family::kUnset;
  /// Bytes of one per-file timestamp field as the format stores it (equiv's fs-timestamps
  /// rule); 0: no per-file time of its own (it comes from a header another rule masks).
  std::uint8_t timestamp_bytes = 0;
  /// Header validation on `data` (which starts at the format's first byte and runs to the end of
  /// the blob). nullopt: not this format. Must be cheap and must not trust any length.
  std::optional<Probe> (*probe)(Bytes data) = nullptr;
  /// Extracts through `sink` and returns the number of bytes of `data` the format spans. On
  /// failure after a positive probe, returns an Error whose `offset` is how far it understood
  /// (relative to `data`); what was extracted before the failure is kept.
  Result<std::uint64_t> (*extract)(Bytes data, Sink& sink) = nullptr;
  /// The fields of the format's own header in `data` (which starts at the format's first byte),
  /// every one inside `data`; empty when the header cannot be read. nullptr: the format has no
  /// header fields equiv compares apart from its contents. `header_label` names the header in
  /// a difference ("uImage header").
  std::vector<HeaderField> (*header_fields)(Bytes data) = nullptr;
  std::string_view header_label;
};

/// The combinations of carve, output, strength and family that formats share, named by what
/// they describe; `make_format` builds a Format of one.
struct FormatKind {
  Carve carve;
  Output output;
  Strength strength;
  Family family;
};

namespace kind {
/// A firmware header or container found anywhere, its payloads carved again (TRX, vendor headers).
inline constexpr FormatKind kFirmwareHeader{Carve::kAnyOffset, Output::kStream, Strength::kChecked,
                                            Family::kFirmware};
/// The same, looked for only at the start of a file (weak magics, scripts, memory images).
inline constexpr FormatKind kFirmwareAtStart{Carve::kStartOnly, Output::kStream, Strength::kChecked,
                                             Family::kFirmware};
/// A firmware container of named parts written out as files (FIT, UBI volumes, HWNP items).
inline constexpr FormatKind kFirmwarePackage{Carve::kAnyOffset, Output::kTree, Strength::kChecked,
                                             Family::kFirmware};
/// A firmware structure understood but not unpacked (device tree, AVB footer).
inline constexpr FormatKind kFirmwareLeaf{Carve::kAnyOffset, Output::kLeaf, Strength::kChecked,
                                          Family::kFirmware};
/// A filesystem image found anywhere, extracted as a tree.
inline constexpr FormatKind kFilesystem{Carve::kAnyOffset, Output::kTree, Strength::kChecked,
                                        Family::kFilesystem};
/// A filesystem image looked for only at the start of a file.
inline constexpr FormatKind kFilesystemAtStart{Carve::kStartOnly, Output::kTree, Strength::kChecked,
                                               Family::kFilesystem};
/// A filesystem recognised but not read (reported, never passed).
inline constexpr FormatKind kFilesystemLeaf{Carve::kAnyOffset, Output::kLeaf, Strength::kChecked,
                                            Family::kFilesystem};
/// An archive of files found anywhere.
inline constexpr FormatKind kArchive{Carve::kAnyOffset, Output::kTree, Strength::kChecked,
                                     Family::kArchive};
/// An archive looked for only at the start of a file (weak magics such as "!<arch>").
inline constexpr FormatKind kArchiveAtStart{Carve::kStartOnly, Output::kTree, Strength::kChecked,
                                            Family::kArchive};
/// A compressed stream whose header carries a check (xz, zstd frames with sizes, lzip).
inline constexpr FormatKind kCheckedStream{Carve::kAnyOffset, Output::kStream, Strength::kChecked,
                                           Family::kStream};
/// A compressed stream known by a few magic bytes only (gzip, raw LZMA, bzip2).
inline constexpr FormatKind kRawStream{Carve::kAnyOffset, Output::kStream, Strength::kMagicOnly,
                                       Family::kStream};
/// Understood and not a container (ELF).
inline constexpr FormatKind kLeaf{Carve::kAnyOffset, Output::kLeaf, Strength::kChecked,
                                  Family::kLeaf};
}  // namespace kind

/// What only some formats state: per-file timestamps and the header equiv compares.
struct FormatExtras {
  std::uint8_t timestamp_bytes = 0;
  std::vector<HeaderField> (*header_fields)(Bytes data) = nullptr;
  std::string_view header_label;
};

/// A Format of `kind`: what a format file defines as its kFormat_<id>.
constexpr Format make_format(const FormatKind& kind, std::string_view id,
                             std::string_view description, std::span<const Magic> magics,
                             std::optional<Probe> (*probe)(Bytes data),
                             Result<std::uint64_t> (*extract)(Bytes data, Sink& sink),
                             const FormatExtras& extras = {}) {
  return Format{.id = id,
                .description = description,
                .magics = magics,
                .carve = kind.carve,
                .output = kind.output,
                .strength = kind.strength,
                .family = kind.family,
                .timestamp_bytes = extras.timestamp_bytes,
                .probe = probe,
                .extract = extract,
                .header_fields = extras.header_fields,
                .header_label = extras.header_label};
}

// Each format file defines one of these (declared here so the definitions get external linkage).
#define PROBITY_FORMAT(id) extern const Format kFormat_##id;
#include "unpack/formats/formats.def"
#undef PROBITY_FORMAT

/// The entry type of a POSIX inode mode (S_IFMT bits) for the node kinds every filesystem
/// stores the same way: character and block devices, FIFOs, sockets. nullopt for the others
/// (regular files, directories and symlinks need each format's own reading of their data).
inline std::optional<EntryType> node_type(std::uint32_t mode) {
  switch (mode & 0xf000) {
    case 0x2000:
      return EntryType::kCharDev;
    case 0x6000:
      return EntryType::kBlockDev;
    case 0x1000:
      return EntryType::kFifo;
    case 0xc000:
      return EntryType::kSocket;
    default:
      return std::nullopt;
  }
}

/// A single path component made from a name in a header (uImage name, FIT node, UBI volume):
/// letters, digits and . - _ @ are kept, anything else becomes '_'; an empty, "." or ".." name
/// becomes `fallback`.
inline std::string safe_file_name(std::string_view raw, std::string_view fallback) {
  std::string out;
  for (char c : raw) {
    const bool keep =
        std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || c == '@';
    out.push_back(keep ? c : '_');
  }
  if (out.empty() || out == "." || out == "..") return std::string(fallback);
  return out;
}

/// The path of a directory entry `name` inside the directory at `prefix`. A name no POSIX
/// filesystem allows ('/' or NUL inside it, "", ".", "..") would create a path other than the one
/// the image stores (a jffs2 dirent "a/b" is not a subdirectory): it is refused with a
/// path-escape warning and nullopt, and the caller skips the entry.
inline std::optional<std::string> child_path(Sink& sink, std::string_view prefix,
                                             std::string_view name, std::uint64_t offset = 0) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string_view::npos ||
      name.find('\0') != std::string_view::npos) {
    std::string shown(name);
    for (char& c : shown)
      if (c == '\0') c = '?';
    sink.warn("path-escape", "directory entry with '/', NUL or a dot name refused",
              std::string(prefix) + (prefix.empty() ? "" : "/") + shown, offset);
    return std::nullopt;
  }
  return prefix.empty() ? std::string(name) : std::string(prefix) + "/" + std::string(name);
}

/// Whether a directory `depth` levels down may be walked: one deeper than kMaxDirDepth is warned
/// about (cap-depth) and not walked.
inline bool within_dir_depth(Sink& sink, std::uint32_t depth, const std::string& prefix) {
  if (depth <= kMaxDirDepth) return true;
  sink.warn("cap-depth", fmt::format("directories nested deeper than {}", kMaxDirDepth), prefix);
  return false;
}

/// Whether the directory `key` (its inode, cluster or offset) may be walked: within
/// kMaxDirDepth and not reached before (a loop, or a directory two entries share), each refusal
/// warned about. `seen` holds the keys of the directories walked so far.
template <class Seen>
bool enter_directory(Sink& sink, Seen& seen, const typename Seen::key_type& key,
                     const std::string& prefix, std::uint32_t depth) {
  if (!within_dir_depth(sink, depth, prefix)) return false;
  if (seen.insert(key).second) return true;
  sink.warn("format-error",
            "directory reached twice (a loop or a shared directory): not walked again", prefix);
  return false;
}

/// Emits the directory entry `e` (path, permission bits, owner and time filled in) of inode `ino`
/// whose POSIX mode is `mode`, for a filesystem that stores modes the POSIX way (jffs2, ubifs):
/// a directory, then `walk()` for its children; a regular file, a hard link to the first path
/// `first_path` holds for `ino`, else the bytes `read(data)` fills (it returns whether all were
/// read, nullopt when the walk must stop); a symlink to `target()`; a device, FIFO or socket;
/// any other mode is warned about.
template <class FirstPaths, class Walk, class Read, class Target>
void emit_posix_entry(Sink& sink, Entry e, std::uint32_t mode, std::uint64_t ino,
                      FirstPaths& first_path, Walk walk, Read read, Target target) {
  switch (mode & 0xf000) {
    case 0x4000:
      e.type = EntryType::kDir;
      (void)sink.node(e);
      walk();
      return;
    case 0x8000: {
      auto [first, fresh] = first_path.emplace(ino, e.path);
      if (!fresh) {
        e.type = EntryType::kHardlink;
        e.link = first->second;
        (void)sink.node(e);
        return;
      }
      std::vector<std::uint8_t> data;
      if (const std::optional<bool> whole = read(data)) (void)sink.file(e, data, !*whole);
      return;
    }
    case 0xa000:
      e.type = EntryType::kSymlink;
      e.link = target();
      (void)sink.node(e);
      return;
    default:
      if (auto t = node_type(mode)) {
        e.type = *t;
        (void)sink.node(e);
        return;
      }
      sink.warn("format-error", fmt::format("unknown inode mode 0{:o}", mode), e.path);
  }
}

/// Every registered format, in formats.def order (earlier wins at the same offset).
const std::vector<const Format*>& all_formats();
/// The format with this id, or nullptr.
const Format* find_format(std::string_view id);

}  // namespace probity::unpacker
