// The shared per-file pass of a scan (issue 14 item 2): every regular file of an extracted tree
// is read once, through TreeFiles (never outside its container), and its bytes handed to each
// stage's visitor in turn on the same thread: inventory (kind, ELF facts), identify (version
// signatures, ELF facts) and the checks' per-file hooks. Each stage also runs alone (inventory,
// identify and run_checks call it with their own visitor).
#pragma once

#include <cstdint>
#include <span>

#include "core/bytes.hpp"
#include "probity/artifact.hpp"
#include "probity/task_pool.hpp"
#include "probity/tree_files.hpp"

namespace probity {

/// One stage's per-file work.
class FileVisitor {
 public:
  virtual ~FileVisitor() = default;
  /// Before the pass, on the calling thread: the number of worker slots (for per-slot scratch).
  virtual void start(unsigned slots) { (void)slots; }
  /// File `index` of the tree with all its bytes (a visitor applies its own caps), on worker
  /// `slot`. For one file, the visitors run in the order given, on one thread; different files
  /// run concurrently. Files that cannot be opened are not visited.
  virtual void visit(std::size_t index, Bytes bytes, unsigned slot) = 0;
};

struct FilePassStats {
  std::uint64_t files = 0;  ///< files read
  std::uint64_t bytes = 0;  ///< bytes read
};

/// Reads each regular file of `tree` that has extracted content once, largest first (so that one
/// big binary does not leave the other workers idle at the end), and hands it to `visitors`.
/// Small files are read into a buffer reused per worker, large ones mapped (mapping every file
/// spent ~40 % of a scan in page faults and unmapping on the Debian release trees).
FilePassStats run_file_pass(const ArtifactTree& tree, const TreeFiles& files, TaskPool& pool,
                            std::span<FileVisitor* const> visitors);

}  // namespace probity
