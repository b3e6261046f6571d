#include "unpack/sink.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "unpack/confined_writer.hpp"

namespace probity::unpacker {

void RunState::warn(Warning w) {
  std::lock_guard lock(mu);
  // Repeated warnings are summarised: a million refused entries are one count, not a million
  // records (kMaxWarningsPerCode; see summarise_warnings).
  auto& n = warning_counts[{w.container, w.code}];
  if (++n > kMaxWarningsPerCode) return;
  tree.warnings.push_back(std::move(w));
}

void RunState::summarise_warnings() {
  std::lock_guard lock(mu);
  for (const auto& [key, n] : warning_counts)
    if (n > kMaxWarningsPerCode)
      tree.warnings.push_back(
          {key.second,
           fmt::format("{} more '{}' warnings in this container are not listed (only the first {} "
                       "are; kMaxWarningsPerCode)",
                       n - kMaxWarningsPerCode, key.second, kMaxWarningsPerCode),
           key.first, "", 0});
}

Sink::Sink(RunState& run, std::uint32_t container, ConfinedDir* dir, std::string dir_rel,
           std::vector<OriginStep> origin)
    : run_(run),
      container_(container),
      dir_(dir),
      dir_rel_(std::move(dir_rel)),
      origin_(std::move(origin)),
      deadline_(std::chrono::steady_clock::now() +
                std::chrono::seconds(run.limits.format_seconds)) {
  for (const auto& s : origin_)
    origin_bytes_ += sizeof(OriginStep) + s.source.capacity() + s.format.capacity();
}

void Sink::warn(std::string code, std::string message, std::string entry, std::uint64_t offset) {
  run_.warn(Warning{std::move(code), std::move(message), container_, std::move(entry), offset});
}

void Sink::describe(std::string description) {
  std::lock_guard lock(mu_);
  description_ = std::move(description);
}

void Sink::encrypted(std::uint64_t offset, std::uint64_t size) {
  std::lock_guard lock(mu_);
  encrypted_ = std::pair{offset, size};
}

std::optional<std::pair<std::uint64_t, std::uint64_t>> Sink::encrypted_span() const {
  std::lock_guard lock(mu_);
  return encrypted_;
}

std::string Sink::description() const {
  std::lock_guard lock(mu_);
  return description_;
}

std::uint32_t Sink::reserve_order() {
  std::lock_guard lock(mu_);
  return next_order_++;
}

std::vector<std::size_t> Sink::records() const {
  std::lock_guard lock(mu_);
  return records_;
}

Status Sink::check_time() const {
  if (std::chrono::steady_clock::now() > deadline_)
    return fail_code("cap-time",
                     fmt::format("time cap hit: format ran longer than {} s (--format-timeout)",
                                 run_.limits.format_seconds));
  return {};
}

Status Sink::check_ratio(std::uint64_t in, std::uint64_t out) const {
  if (out > run_.limits.ratio_floor_bytes &&
      out / std::max<std::uint64_t>(in, 1) > run_.limits.max_ratio)
    return fail_code("cap-ratio",
                     fmt::format("ratio cap hit: {} bytes from {} compressed exceeds {}:1 "
                                 "(decompression bomb? raise with --max-ratio)",
                                 out, in, run_.limits.max_ratio),
                     in);
  return {};
}

std::optional<std::size_t> Sink::admit(const Entry& e, std::string& rel) {
  auto clean = sanitize_path(e.path);
  if (!clean) {
    warn("path-escape", "entry refused: " + clean.error().message, e.path);
    return std::nullopt;
  }
  if (clean->was_absolute)
    warn("absolute-path", "leading '/' removed; written inside the container root", e.path);
  rel = clean->path;
  if (rel.empty() && e.type == EntryType::kDir) return std::nullopt;  // the root itself
  if (rel.empty()) {
    warn("path-escape", "entry refused: empty path", e.path);
    return std::nullopt;
  }
  if (run_.entries.fetch_add(1) >= run_.limits.max_entries) {
    warn("cap-entries",
         fmt::format("entry refused: more than {} entries (--max-files)", run_.limits.max_entries),
         e.path);
    return std::nullopt;
  }
  // What the record will take: itself (twice: the vector grows by doubling), its strings past
  // the small-string buffer, the origin chain, the hash the writer adds, the on-disk index entry
  // and the allocator's overhead. Bounded by max_record_bytes in all (docs/architecture.md,
  // "Memory", has the measured peak RSS).
  const std::uint64_t cost = 2 * sizeof(FileRecord) + 2 * rel.size() + dir_rel_.size() +
                             e.link.size() + origin_bytes_ + 64 + 64 + 64;
  if (run_.record_bytes.fetch_add(cost) + cost > run_.limits.max_record_bytes) {
    warn("cap-memory",
         fmt::format("entry refused: the records of this run would take more than {} bytes "
                     "(--max-memory)",
                     run_.limits.max_record_bytes),
         e.path);
    return std::nullopt;
  }
  FileRecord r;
  r.path = rel;
  r.container = container_;
  r.origin = origin_;
  r.type = e.type;
  r.mode = e.mode & 07777;
  r.uid = e.uid;
  r.gid = e.gid;
  r.mtime = e.mtime;
  r.link = e.link;
  if (dir_ && (e.type == EntryType::kFile || e.type == EntryType::kDir ||
               e.type == EntryType::kSymlink || e.type == EntryType::kHardlink))
    r.extracted = dir_rel_ + "/" + rel;
  std::size_t idx;
  std::lock_guard order(mu_);  // entry numbers follow the order the format yields entries
  r.entry = e.order ? *e.order : next_order_++;
  {
    std::lock_guard lock(run_.mu);
    idx = run_.tree.files.size();
    run_.tree.files.push_back(std::move(r));
  }
  records_.push_back(idx);
  if (run_.progress && e.type == EntryType::kFile) run_.progress->files.fetch_add(1);
  return idx;
}

Status Sink::account(std::size_t record, std::uint64_t add, std::uint64_t file_size) {
  if (file_size > run_.limits.max_file_bytes) {
    std::string path;
    {
      std::lock_guard lock(run_.mu);
      path = run_.tree.files[record].path;
    }
    return fail_code("cap-file", fmt::format("file cap hit: '{}' larger than {} bytes (--max-file)",
                                             path, run_.limits.max_file_bytes));
  }
  std::uint64_t total = run_.total_bytes.fetch_add(add) + add;
  if (total > run_.limits.max_total_bytes) {
    run_.total_exhausted = true;
    return fail_code("cap-total",
                     fmt::format("total cap hit: more than {} bytes extracted (--max-total)",
                                 run_.limits.max_total_bytes));
  }
  if (run_.progress) run_.progress->bytes.fetch_add(add);
  return {};
}

void Sink::finish(std::size_t record, std::uint64_t size, std::string sha, bool truncated) {
  std::lock_guard lock(run_.mu);
  auto& r = run_.tree.files[record];
  r.size = size;
  r.sha256 = std::move(sha);
  r.truncated = truncated;
  if (!dir_) r.extracted.clear();
}

Status Sink::file(const Entry& e, Bytes content, bool truncated) {
  auto out = open_file(e);
  if (!out) return std::unexpected(out.error());
  auto st = out->write(content);
  if (truncated) out->mark_truncated();
  out->close();
  return st;
}

Result<FileOut> Sink::open_file(const Entry& e) {
  if (run_.total_exhausted) return fail_code("cap-total", "total cap already hit (--max-total)");
  std::string rel;
  auto idx = admit(e, rel);
  if (!idx) return fail("entry refused: " + e.path);
  int fd = -1;
  if (dir_) {
    bool replaced = false;
    auto f = dir_->create_file(rel, (e.mode & 0100) != 0, &replaced);
    if (!f) {
      warn("write-refused", "entry not written: " + f.error().message, e.path);
      std::lock_guard lock(run_.mu);
      run_.tree.files[*idx].extracted.clear();
    } else {
      fd = *f;
      on_disk(*idx, rel, replaced);
    }
  }
  return FileOut(*this, *idx, fd);
}

Status Sink::node(const Entry& e) {
  std::string rel;
  auto idx = admit(e, rel);
  if (!idx) return {};
  auto drop_extracted = [&] {
    std::lock_guard lock(run_.mu);
    run_.tree.files[*idx].extracted.clear();
  };
  switch (e.type) {
    case EntryType::kDir:
      if (dir_) {
        if (auto st = dir_->make_dir(rel); !st) {
          warn("write-refused", "directory not made: " + st.error().message, e.path);
          drop_extracted();
        }
      }
      break;
    case EntryType::kSymlink: {
      auto target = confine_symlink(rel, e.link);
      if (!target) {
        warn("symlink-escape",
             "symlink recorded, not created: " + target.error().message + " (-> " + e.link + ")",
             e.path);
        drop_extracted();
      } else if (dir_) {
        bool replaced = false;
        if (auto inside = dir_->check_symlink(rel, *target); !inside) {
          warn("symlink-escape",
               "symlink recorded, not created: " + inside.error().message + " (-> " + e.link + ")",
               e.path);
          drop_extracted();
        } else if (auto st = dir_->make_symlink(rel, *target, &replaced); !st) {
          warn("write-refused", "symlink not made: " + st.error().message, e.path);
          drop_extracted();
        } else {
          on_disk(*idx, rel, replaced);
        }
      }
      break;
    }
    case EntryType::kHardlink: {
      auto src = sanitize_path(e.link);
      if (!src || src->path.empty()) {
        warn("hardlink-escape",
             "hard link recorded, not created: source '" + e.link + "' leaves the root", e.path);
        drop_extracted();
      } else if (dir_) {
        bool replaced = false;
        if (auto st = dir_->make_hardlink(rel, src->path, &replaced); !st) {
          warn("hardlink-escape", "hard link recorded, not created: " + st.error().message, e.path);
          drop_extracted();
        } else {
          on_disk(*idx, rel, replaced);
        }
      }
      break;
    }
    case EntryType::kCharDev:
    case EntryType::kBlockDev:
    case EntryType::kFifo:
    case EntryType::kSocket:
      warn("device-node",
           std::string(to_string(e.type)) + " recorded in the manifest, never created on disk",
           e.path);
      break;
    case EntryType::kFile:
      return fail("Sink::node called for a regular file");
  }
  return {};
}

void Sink::on_disk(std::size_t record, const std::string& rel, bool replaced) {
  const std::uint64_t key = std::hash<std::string>{}(rel);
  std::lock_guard lock(mu_);
  if (replaced) {
    // The earlier entry of this path is gone from the disk: its record must not point at what
    // replaced it (a later link would otherwise be read as the earlier file's content).
    auto [from, to] = on_disk_.equal_range(key);
    for (auto it = from; it != to;) {
      std::string earlier_path;
      {
        std::lock_guard tree_lock(run_.mu);
        auto& earlier = run_.tree.files[it->second];
        if (earlier.path != rel) {
          ++it;
          continue;
        }
        earlier.extracted.clear();
        earlier_path = earlier.path;
      }
      it = on_disk_.erase(it);
      warn("duplicate-entry",
           "an earlier entry of this path was replaced on disk by a later one; the manifest keeps "
           "both records, only the last is extracted",
           earlier_path);
    }
  }
  on_disk_.emplace(key, record);
}

void Sink::verify_links() {
  if (!dir_) return;
  std::vector<std::size_t> links;
  {
    std::lock_guard lock(mu_);
    std::lock_guard tree_lock(run_.mu);
    for (std::size_t idx : records_) {
      const auto& r = run_.tree.files[idx];
      if (r.type == EntryType::kSymlink && !r.extracted.empty()) links.push_back(idx);
    }
  }
  // Links made later can change how an earlier one resolves: check each again on the final tree.
  for (std::size_t idx : links) {
    std::string rel, link, path;
    {
      std::lock_guard lock(run_.mu);
      const auto& r = run_.tree.files[idx];
      rel = r.extracted.substr(dir_rel_.size() + 1);
      path = r.path;
      link = r.link;
    }
    auto confined = confine_symlink(rel, link);
    if (!confined) continue;  // never created
    auto inside = dir_->check_symlink(rel, *confined);
    if (inside) continue;
    (void)dir_->remove(rel);
    warn("symlink-escape",
         "symlink removed after extraction: " + inside.error().message + " (-> " + link + ")",
         path);
    std::lock_guard lock(run_.mu);
    run_.tree.files[idx].extracted.clear();
  }
}

FileOut::FileOut(Sink& sink, std::size_t record, int fd) : sink_(&sink), record_(record), fd_(fd) {}

FileOut::FileOut(FileOut&& o) noexcept
    : sink_(o.sink_),
      record_(o.record_),
      fd_(std::exchange(o.fd_, -1)),
      size_(o.size_),
      truncated_(o.truncated_),
      closed_(std::exchange(o.closed_, true)),
      hash_(std::move(o.hash_)) {}

FileOut::~FileOut() {
  close();
}

Status FileOut::write(Bytes b) {
  if (closed_) return fail("write after close");
  if (b.empty()) return {};
  if (auto st = sink_->account(record_, b.size(), size_ + b.size()); !st) {
    truncated_ = true;
    return st;
  }
  hash_.update(b);
  size_ += b.size();
  if (fd_ >= 0) {
    const std::uint8_t* p = b.data();
    std::size_t left = b.size();
    while (left) {
      ssize_t n = ::write(fd_, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        truncated_ = true;
        return fail(std::string("write failed: ") + std::strerror(errno) +
                    " (is the output disk full?)");
      }
      p += n;
      left -= std::size_t(n);
    }
  }
  return {};
}

void FileOut::close() {
  if (closed_) return;
  closed_ = true;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  sink_->finish(record_, size_, hash_.hex(), truncated_);
}

}  // namespace probity::unpacker
