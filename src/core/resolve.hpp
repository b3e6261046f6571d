// The per-component path walk behind open_in_root() (where the kernel has no openat2) and behind
// the unpacker's check that a symlink it is about to create resolves inside its container.
#pragma once

#include <string_view>

namespace probity::detail {

/// How a walk ended.
enum class WalkEnd {
  kOpened,   ///< every component resolved (and, when asked, the last one was opened)
  kEscapes,  ///< a `..` would climb above the root (only when `clamp_at_root` is false)
  kLoop,     ///< more than kMaxLinkHops symlinks
  kMissing,  ///< a component does not exist (or is not a directory where one is needed)
  kError,    ///< another system error (errno in `err`)
};

struct WalkOptions {
  /// `..` at the root stays at the root (the device's view, RESOLVE_IN_ROOT). When false, it
  /// ends the walk with kEscapes (what the host's kernel would do with a link on disk).
  bool clamp_at_root = true;
  /// Follow a symlink in the last component.
  bool follow_last = true;
  /// Open the last component read-only and return its descriptor.
  bool open_final = true;
  /// A missing component does not end the walk: the rest is resolved lexically (so that `..`
  /// after it can still be seen to climb above the root).
  bool lexical_when_missing = false;
};

struct WalkResult {
  WalkEnd end = WalkEnd::kError;
  int fd = -1;  ///< with open_final and kOpened: the caller closes it
  int err = 0;  ///< errno for kError / kMissing
};

/// Resolves `dir` then `path` (`dir` ignored when `path` is absolute) below `root_fd`, one
/// component at a time, never following a symlink except by reading it (readlinkat) and splicing
/// its target into the walk: an absolute target restarts at the root.
WalkResult walk_in_root(int root_fd, std::string_view dir, std::string_view path,
                        const WalkOptions& opt);

}  // namespace probity::detail
