// Sink: where a format writes what it extracts. It sanitises every path, enforces the caps,
// hashes content as it is written, and records each entry and each refusal for the manifest.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/bytes.hpp"
#include "probity/artifact.hpp"
#include "probity/error.hpp"
#include "probity/hash.hpp"
#include "probity/limits.hpp"
#include "probity/unpack.hpp"

namespace probity {
class TaskPool;
}

namespace probity::unpacker {

class ConfinedDir;

/// State shared by every container of one unpack run.
struct RunState {
  explicit RunState(const Limits& l, Progress* p = nullptr) : limits(l), progress(p) {}
  Limits limits;
  Progress* progress = nullptr;
  /// The run's pool: formats that extract in parallel (squashfs) take their threads from it.
  TaskPool* pool = nullptr;
  std::atomic<std::uint64_t> total_bytes{0};
  std::atomic<std::uint64_t> entries{0};
  std::atomic<std::uint64_t> record_bytes{0};  ///< estimated memory of the records (admit)
  std::atomic<bool> total_exhausted{false};
  std::mutex mu;  ///< guards `tree` and `warning_counts`
  ArtifactTree tree;
  std::map<std::pair<std::uint32_t, std::string>, std::uint64_t> warning_counts;

  void warn(Warning w);
  /// Adds one warning per (container, code) that was cut at kMaxWarningsPerCode, with the count.
  void summarise_warnings();
};

/// An entry as a format reports it (paths raw, straight from the untrusted bytes).
struct Entry {
  std::string path;
  EntryType type = EntryType::kFile;
  std::uint32_t mode = 0644;  ///< permission bits incl. setuid/setgid (07777)
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::int64_t mtime = 0;
  std::string link;  ///< symlink target or hard-link source
  /// Position in the format's own entry order (FileRecord::entry), for formats that record
  /// entries out of that order (parallel extraction): from Sink::reserve_order(). Unset: the
  /// order of recording.
  std::optional<std::uint32_t> order;
};

class Sink;

/// A regular file being streamed out. Closing (or destroying) it finalises the record.
class FileOut {
 public:
  FileOut(FileOut&&) noexcept;
  FileOut& operator=(FileOut&&) = delete;
  ~FileOut();
  /// Fails when a cap is hit; the bytes before the cap are kept and the record marked truncated.
  Status write(Bytes b);
  /// Finalises size and hash. Idempotent.
  void close();
  /// Marks the content incomplete (corruption) before closing.
  void mark_truncated() { truncated_ = true; }

 private:
  friend class Sink;
  FileOut(Sink& sink, std::size_t record, int fd);
  Sink* sink_;
  std::size_t record_;
  int fd_;
  std::uint64_t size_ = 0;
  bool truncated_ = false;
  bool closed_ = false;
  Sha256 hash_;
};

/// One container's output. Thread-safe: parallel formats may call it from several threads.
class Sink {
 public:
  /// `dir` may be null: content is then hashed and recorded but not written (fuzzing, dry runs).
  Sink(RunState& run, std::uint32_t container, ConfinedDir* dir, std::string dir_rel,
       std::vector<OriginStep> origin);

  /// Writes a whole regular file; `truncated` marks content the format knows is incomplete.
  Status file(const Entry& e, Bytes content, bool truncated = false);
  /// Starts streaming a regular file.
  Result<FileOut> open_file(const Entry& e);
  /// A directory, symlink, hard link, device node, fifo or socket (nodes are recorded, never made).
  Status node(const Entry& e);

  /// Records a warning about this container.
  void warn(std::string code, std::string message, std::string entry = {},
            std::uint64_t offset = 0);
  /// Sets the container's description (compressor, name from the header, ...).
  void describe(std::string description);
  /// Marks `size` bytes at `offset` of the format's input as encrypted because its header says
  /// so (a D-Link `encrpted_img`): the driver records them as a not-understood region claimed by
  /// this format, whatever their size or entropy. One span per container (the last one wins).
  void encrypted(std::uint64_t offset, std::uint64_t size);
  /// The span set by encrypted(), if any: {offset, size}.
  [[nodiscard]] std::optional<std::pair<std::uint64_t, std::uint64_t>> encrypted_span() const;

  [[nodiscard]] const Limits& limits() const { return run_.limits; }
  /// True once the total-bytes cap is hit: nothing more will be written in this run.
  [[nodiscard]] bool exhausted() const { return run_.total_exhausted; }
  /// The run's task pool (null only for a Sink outside an unpack run, as in the fuzz targets).
  [[nodiscard]] TaskPool* pool() const { return run_.pool; }
  /// Time cap for this format instance.
  [[nodiscard]] Status check_time() const;
  /// Ratio cap for a decompressor that read `in` bytes and produced `out`.
  [[nodiscard]] Status check_ratio(std::uint64_t in, std::uint64_t out) const;

  /// Indices in RunState::tree.files of the records this sink made.
  [[nodiscard]] std::vector<std::size_t> records() const;
  [[nodiscard]] std::string description() const;
  [[nodiscard]] std::uint32_t container() const { return container_; }
  /// The next position in this container's entry order, for an entry recorded later.
  std::uint32_t reserve_order();
  /// After extraction: every symlink made is resolved again through the final tree (a link made
  /// later can change where an earlier one leads); one that now leaves the root is removed.
  void verify_links();

 private:
  friend class FileOut;
  /// Sanitises the path and creates the record; nullopt + warning when refused.
  std::optional<std::size_t> admit(const Entry& e, std::string& rel);
  Status account(std::size_t record, std::uint64_t add, std::uint64_t file_size);
  void finish(std::size_t record, std::uint64_t size, std::string sha, bool truncated);
  /// Notes that `record` is on disk at `rel`; when it `replaced` an earlier entry, that entry's
  /// record loses its `extracted` path (with a duplicate-entry warning).
  void on_disk(std::size_t record, const std::string& rel, bool replaced);

  RunState& run_;
  std::uint32_t container_;
  ConfinedDir* dir_;
  std::string dir_rel_;
  std::vector<OriginStep> origin_;
  std::uint64_t origin_bytes_ = 0;  ///< what one copy of origin_ takes in a record
  std::chrono::steady_clock::time_point deadline_;
  mutable std::mutex mu_;
  std::vector<std::size_t> records_;
  std::uint32_t next_order_ = 0;  ///< guarded by mu_
  /// Records on disk, by hash of their path (guarded by mu_).
  std::unordered_multimap<std::uint64_t, std::size_t> on_disk_;
  std::string description_;
  std::optional<std::pair<std::uint64_t, std::uint64_t>> encrypted_;  ///< guarded by mu_
};

}  // namespace probity::unpacker
