// The artifact tree: what `unpack` found in an image. Every later stage reads these types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "probity/limits.hpp"

namespace probity {

/// The image given on the command line.
struct ImageInfo {
  std::string path;    ///< as given
  std::string name;    ///< file name only
  std::string sha256;  ///< hex
  std::uint64_t size = 0;
};

/// One step of a file's origin chain: "in `source`, at `offset`, a `format`".
struct OriginStep {
  std::string source;  ///< the image name, or the path of the file inside the parent container
  std::uint64_t offset = 0;
  std::string format;
};

/// A format instance that was extracted: a filesystem, an archive, a compressed stream...
struct Container {
  std::uint32_t id = 0;      ///< 1-based; 0 means "the image itself"
  std::uint32_t parent = 0;  ///< container holding the blob this was found in (0: the image)
  std::string source;        ///< path of that blob inside `parent` ("" for the image)
  std::uint64_t offset = 0;  ///< where in that blob it starts
  std::uint64_t length = 0;  ///< how many bytes of the blob it spans
  std::string format;        ///< plugin id ("squashfs", "gzip", ...)
  std::string description;   ///< human detail from the header (compressor, name, ...)
  std::string dir;           ///< extraction directory, relative to the output directory
  std::uint32_t depth = 0;   ///< 1 for formats found in the image itself
  bool complete = true;      ///< false when extraction stopped early (see warnings)
};

/// A span of a carved blob: understood by a format, padding, or not understood.
struct Region {
  std::uint32_t container = 0;  ///< the container whose blob this is (0: the image)
  std::string source;           ///< path of the blob inside that container ("" for the image)
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
  std::string format;  ///< format id, "padding", or "" when not understood
  bool understood = false;
  double entropy = 0.0;  ///< Shannon entropy in bits per byte (0..8)
  /// Not looked into at all (past the depth cap): never counts as understood, even where a blob
  /// in which no format was found would count as a plain file.
  bool not_looked_into = false;
  /// Encrypted, as the header of `format` says (a D-Link `encrpted_img`): never understood, and
  /// reported as encrypted whatever its size or entropy.
  bool encrypted = false;
};

enum class EntryType { kFile, kDir, kSymlink, kHardlink, kCharDev, kBlockDev, kFifo, kSocket };

/// ELF header facts for files of kind "elf".
struct ElfFacts {
  std::string arch;        ///< "arm", "mips", "x86_64", "aarch64", ...
  std::uint32_t bits = 0;  ///< 32 or 64
  std::string endian;      ///< "little" or "big"
  std::string type;        ///< "exec", "dyn", "rel", "core"
};

/// One file, directory, link or node found in a container.
struct FileRecord {
  std::string path;             ///< relative to the root of its container, e.g. usr/sbin/dropbear
  std::uint32_t container = 0;  ///< Container::id
  std::vector<OriginStep> origin;  ///< image -> offset -> format -> ... (outermost first)
  EntryType type = EntryType::kFile;
  std::uint64_t size = 0;
  std::string sha256;      ///< regular files only
  std::uint32_t mode = 0;  ///< permission bits incl. setuid/setgid/sticky (07777)
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::int64_t mtime = 0;
  std::string link;  ///< symlink target or hard-link source, as recorded
  std::string kind;  ///< elf, script, text, certificate, private-key, archive, filesystem, data
  std::optional<ElfFacts> elf;
  std::string extracted;   ///< path under the output directory ("" when not written)
  bool truncated = false;  ///< content cut short by a cap or corruption (see warnings)
  /// Position of the entry in its container as the format stores it (0-based; files are
  /// listed sorted by path, this keeps the inode/directory order for `equiv`). Not in the JSON.
  std::uint32_t entry = 0;
};

/// A refusal, a cap hit, or corruption: the run went on, but something was not done.
struct Warning {
  std::string code;  ///< stable code: path-escape, symlink-escape, device-node, cap-total, ...
  std::string message;
  std::uint32_t container = 0;
  std::string entry;  ///< entry or blob path the warning is about
  std::uint64_t offset = 0;
};

/// How much of the image was understood.
struct Coverage {
  std::uint64_t bytes = 0;
  std::uint64_t understood = 0;
  [[nodiscard]] double share() const { return bytes ? double(understood) / double(bytes) : 1.0; }
};

/// Counters for the run.
struct Stats {
  std::uint64_t files = 0;    ///< regular files
  std::uint64_t entries = 0;  ///< all entries
  std::uint64_t bytes_written = 0;
  std::uint64_t elapsed_ms = 0;
};

/// Everything `unpack` produces. Serialised as manifest.json (docs/report-schema.md).
struct ArtifactTree {
  ImageInfo image;
  std::vector<Container> containers;
  std::vector<Region> regions;
  std::vector<FileRecord> files;
  std::vector<Warning> warnings;
  Coverage coverage;
  Stats stats;
  Limits limits;
};

/// "file", "dir", "symlink", ...
const char* to_string(EntryType t);

/// A tree that looks like an operating system's root: `etc/` with `bin/`, `sbin/`, `usr/` or
/// `lib/` beside it, or an `init` at its top (an initramfs).
struct RootFilesystem {
  std::uint32_t container = 0;
  std::string format;                ///< the container's format (squashfs, cpio, ...)
  std::vector<std::string> markers;  ///< what made it one: "etc", "bin", "init", ...
};
std::vector<RootFilesystem> find_root_filesystems(const ArtifactTree& tree);

/// Not-understood regions at or above this entropy (bits per byte) look encrypted (or compressed
/// by something no format decoded): nothing probity can read, and never understood. Compressed
/// and encrypted data measure 7.9-8.0 in 64 KiB windows; ARM kernel code and tables 7.1-7.3
/// (the demo image's kernel), so 7.5 keeps code out and ciphertext in.
inline constexpr double kEncryptedEntropy = 7.5;
/// Smaller regions are not called encrypted: their entropy says little (at most log2(size)).
/// A heuristic, not a cap.
inline constexpr std::uint64_t kMinEncryptedBytes = 4096;

/// A not-understood region that looks encrypted (or whose format's header says it is), and the
/// format that claimed it.
struct EncryptedRegion {
  const Region* region = nullptr;
  /// The format whose header says the bytes are encrypted (Region::encrypted), else the format
  /// of the region's container ("" for the image itself).
  std::string claimed_by;
};
std::vector<EncryptedRegion> find_encrypted_regions(const ArtifactTree& tree);

}  // namespace probity
