// Safe, recursive unpacking of a firmware image into an output directory.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "probity/artifact.hpp"
#include "probity/error.hpp"
#include "probity/limits.hpp"

namespace probity {

class TaskPool;

/// Live counters for progress reporting (read from another thread).
struct Progress {
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<std::uint64_t> files{0};
};

struct UnpackOptions {
  Limits limits;
  /// Carve every extracted file at every offset, not only the outputs of streams (slow, noisy).
  bool deep = false;
  /// Worker threads for parallel formats and inventory (0: all cores); ignored when `pool` is set.
  unsigned threads = 0;
  /// The run's task pool (probity::scan passes its own so that one --threads bounds every
  /// stage); null: unpack makes a pool of `threads` for itself.
  TaskPool* pool = nullptr;
  Progress* progress = nullptr;
  /// When set and true for an extracted file, the file is recorded but not looked into.
  /// `probity equiv` uses it so that a blob both images hold byte for byte (a kernel) is not
  /// carved: equal files are never compared inside, so nothing is lost; the manifests then have
  /// no containers there. Called from worker threads; it may block.
  std::function<bool(const FileRecord& file)> skip_blob;
};

/// Unpacks `image` into `out_dir` (created; must be empty or absent) and returns the tree.
/// Fails only when the image cannot be read or the output directory cannot be used; everything
/// wrong inside the image is a warning in the returned tree.
Result<ArtifactTree> unpack(const std::filesystem::path& image,
                            const std::filesystem::path& out_dir, const UnpackOptions& options);

/// Ids of the registered formats, in registry order.
std::vector<std::string> format_ids();

}  // namespace probity
