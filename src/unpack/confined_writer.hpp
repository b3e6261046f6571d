// The one confined writer through which everything extracted reaches the disk.
//
// Rules (DESIGN.md, "Hostile input"): no `..`, no absolute paths, never write through a symlink
// (every component is opened O_NOFOLLOW relative to the root descriptor), no hard links to
// anything but regular files this writer made inside the same root, no device nodes, and
// setuid/setgid never applied (files are written 0644/0755).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "probity/error.hpp"

namespace probity::unpacker {

/// Why a raw archive path was changed or refused.
struct SanitizedPath {
  std::string path;           ///< normalised relative path ("" for the root itself)
  bool was_absolute = false;  ///< a leading '/' was removed
};

/// Normalises an archive entry path: strips leading '/' and "./", collapses "//" and "/./".
/// Refuses (Error) a ".." component, a NUL byte, or a path longer than kMaxPathBytes.
Result<SanitizedPath> sanitize_path(std::string_view raw);

/// Resolves a symlink target the way a tool browsing the extracted tree would, relative to the
/// link's own directory (absolute targets are taken relative to the container root). Returns the
/// relative target to create, or an Error when the target leaves the root.
Result<std::string> confine_symlink(std::string_view link_path, std::string_view target);

/// A directory that confines all writes beneath it.
class ConfinedDir {
 public:
  /// Creates `name` (a single component) inside the directory `parent_fd`, then confines to it.
  static Result<ConfinedDir> create(int parent_fd, const std::string& name);
  /// Confines to an existing directory.
  static Result<ConfinedDir> open(const std::string& path);
  ConfinedDir(ConfinedDir&& o) noexcept;
  ConfinedDir& operator=(ConfinedDir&& o) noexcept;
  ConfinedDir(const ConfinedDir&) = delete;
  ConfinedDir& operator=(const ConfinedDir&) = delete;
  ~ConfinedDir();

  [[nodiscard]] int fd() const { return fd_; }

  /// Creates (or replaces, if a regular file or symlink is there) a regular file; returns a
  /// write descriptor the caller closes. Parent directories are created. `replaced` (when given)
  /// is set when an earlier entry of the same path was replaced.
  Result<int> create_file(const std::string& rel, bool executable, bool* replaced = nullptr);
  Status make_dir(const std::string& rel);
  /// `target` must already be confined (see confine_symlink) and resolve inside
  /// (see check_symlink).
  Status make_symlink(const std::string& rel, const std::string& target, bool* replaced = nullptr);
  /// Hard link `rel` to the existing regular file `existing` (both relative to this root).
  Status make_hardlink(const std::string& rel, const std::string& existing,
                       bool* replaced = nullptr);
  /// Whether a symlink at `rel` with `target` resolves inside this root when the host follows it
  /// physically through the entries already on disk (links in its path included, chains up to
  /// kMaxLinkHops): the lexical check of confine_symlink cannot see a `..` that climbs out of a
  /// directory reached through another link. Error: it would escape (or loops).
  Status check_symlink(const std::string& rel, const std::string& target) const;
  /// Removes the non-directory entry `rel` (never following a link).
  Status remove(const std::string& rel);
  /// Opens a regular file below the root for reading, never following a symlink.
  Result<int> open_read(const std::string& rel) const;

 private:
  explicit ConfinedDir(int fd) : fd_(fd) {}
  /// Opens the parent directory of `rel` (creating directories when `create`), without following
  /// symlinks; sets `leaf` to the last component. The caller closes the returned descriptor.
  Result<int> open_parent(const std::string& rel, std::string& leaf, bool create) const;
  int fd_ = -1;
};

}  // namespace probity::unpacker
