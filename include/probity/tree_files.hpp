// Read-only access to an extracted tree (the output directory of `unpack`). Every read of
// extracted content (inventory, identify, package metadata, checks, diff, equiv) goes through
// here, so that no read can leave the tree:
// - a path is resolved inside its container's root the way the device would resolve it:
//   absolute symlink targets start at the container root, `..` never climbs above it, chains are
//   followed up to kMaxLinkHops (openat2 with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS |
//   RESOLVE_NO_XDEV, or an equivalent per-component walk where the kernel lacks openat2);
// - the file of a FileRecord of type `file` is opened without following a final symlink (the
//   record says it is a regular file; a link in its place is refused).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "probity/artifact.hpp"
#include "probity/error.hpp"
#include "probity/mapped_file.hpp"

namespace probity {

/// How a path inside a root is resolved.
struct ResolveOptions {
  /// Follow a symlink in the last component (as the device does for `open("/etc/os-release")`).
  bool follow_last = true;
  /// Use the per-component walk even where openat2 exists (tests exercise both).
  bool force_walk = false;
};

/// Opens `path` read-only (O_RDONLY | O_CLOEXEC) inside the directory `root_fd`, resolving every
/// symlink as if `root_fd` were `/`. Never returns a descriptor outside the root. Error codes:
/// "not-found", "link-loop" (more than kMaxLinkHops links), "not-regular" is left to callers.
Result<int> open_in_root(int root_fd, std::string_view path, const ResolveOptions& opt = {});

/// Opens the directory of an unpack output for reading its extracted files.
class TreeFiles {
 public:
  /// `out_dir` is unpack's output directory (it holds `extracted/`).
  static Result<TreeFiles> open(const std::filesystem::path& out_dir);
  /// A directory someone else unpacked (`probity identify DIR`): it is the one container root,
  /// and a record's `extracted` is a path inside it.
  static Result<TreeFiles> open_directory(const std::filesystem::path& root);
  TreeFiles() = default;
  TreeFiles(TreeFiles&& o) noexcept;
  TreeFiles& operator=(TreeFiles&& o) noexcept;
  TreeFiles(const TreeFiles&) = delete;
  TreeFiles& operator=(const TreeFiles&) = delete;
  ~TreeFiles();

  /// The regular file of record `f` (type file, `extracted` set), resolved inside its container
  /// root; a symlink in the last component is refused. The caller closes the descriptor.
  [[nodiscard]] Result<int> open(const FileRecord& f) const;
  /// `path` (e.g. "/etc/os-release" or "etc/os-release") as the device would open it inside the
  /// root of the container whose extraction directory is `container_dir` ("extracted/3-squashfs").
  [[nodiscard]] Result<int> open_path(std::string_view container_dir, std::string_view path) const;
  /// Maps the record's file (see open()).
  [[nodiscard]] Result<MappedFile> map(const FileRecord& f) const;
  /// Reads at most `cap` bytes of the record's file.
  [[nodiscard]] Result<std::string> read(const FileRecord& f, std::uint64_t cap) const;
  /// Reads at most `cap` bytes of the regular file open_path() resolves (symlinks inside the
  /// root followed; "not-regular" for anything else).
  [[nodiscard]] Result<std::string> read_path(std::string_view container_dir, std::string_view path,
                                              std::uint64_t cap) const;
  [[nodiscard]] bool valid() const { return fd_ >= 0; }

 private:
  explicit TreeFiles(int fd, bool plain = false) : fd_(fd), plain_(plain) {}
  /// A descriptor (O_PATH) for the root of the container extracted at `container_dir`.
  [[nodiscard]] Result<int> open_root(std::string_view container_dir) const;
  int fd_ = -1;
  bool plain_ = false;  ///< opened by open_directory()
};

}  // namespace probity
