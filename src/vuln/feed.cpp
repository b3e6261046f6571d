#include "vuln/feed.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "probity/limits.hpp"
#include "probity/vulndb.hpp"

namespace probity::vuln {
namespace {

constexpr std::size_t kChunk = 4u << 20;

struct GzFile {
  gzFile f = nullptr;
  ~GzFile() {
    if (f) gzclose(f);
  }
};

bool is_space(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

}  // namespace

Result<std::string> read_text_source(const std::filesystem::path& path, std::uint64_t cap) {
  GzFile in;
  in.f = gzopen(path.c_str(), "rb");
  if (!in.f) return fail("cannot open (check the path and permissions)", 0, path.string());
  std::string out;
  char buf[1 << 16];
  for (;;) {
    const int n = gzread(in.f, buf, sizeof buf);
    if (n < 0) {
      int errnum = 0;
      return fail(std::string("read error: ") + gzerror(in.f, &errnum), out.size(), path.string());
    }
    if (n == 0) break;
    if (out.size() + static_cast<std::size_t>(n) > cap)
      return fail("source larger than its cap", out.size(), path.string());
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

namespace {

// What the read-ahead thread inflated: the bytes, or a zlib error. Empty bytes: the end.
struct Chunk {
  std::string data;
  std::string error;
};

// Inflates a gzip file on its own thread, at most two chunks ahead of the reader (8 MiB), with
// reads that start small and double up to kChunk as the splitter's own do.
class Inflater {
 public:
  explicit Inflater(gzFile f) : f_(f), thread_([this] { run(); }) {}
  ~Inflater() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  Chunk take() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !ready_.empty(); });
    Chunk c = std::move(ready_.front());
    ready_.pop_front();
    cv_.notify_all();
    return c;
  }

 private:
  void run() {
    std::size_t chunk = 32u << 10;
    for (bool last = false; !last;) {
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stop_ || ready_.size() < 2; });
        if (stop_) return;
      }
      chunk = std::min(kChunk, chunk * 2);
      Chunk c;
      int n = 0;
      try {
        c.data.resize_and_overwrite(chunk, [&](char* p, std::size_t) {
          n = gzread(f_, p, static_cast<unsigned>(chunk));
          return static_cast<std::size_t>(std::max(n, 0));
        });
      } catch (const std::bad_alloc&) {
        c.error = "out of memory";
        n = -1;
      }
      if (n < 0 && c.error.empty()) {
        int errnum = 0;
        c.error = gzerror(f_, &errnum);
      }
      last = n <= 0;  // the end, or an error: nothing more is read
      std::lock_guard lock(mu_);
      ready_.push_back(std::move(c));
      cv_.notify_all();
    }
  }

  gzFile f_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Chunk> ready_;
  bool stop_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

// The JSON splitter: one call of next() reads one chunk and hands on the records it completes.
// A record is cut out by bracket depth outside strings, so nothing is parsed here.
class JsonFeedReader final : public FeedReader {
 public:
  explicit JsonFeedReader(std::filesystem::path path) : path_(std::move(path)) {}

  Status open() {
    // gzread reads plain files unchanged, so one reader serves .json and .json.gz.
    in_.f = gzopen(path_.c_str(), "rb");
    if (!in_.f) return fail("cannot open feed (check the path and permissions)", 0, path_.string());
    gzbuffer(in_.f, 64u << 10);
    // A gzip feed is inflated a chunk ahead on a thread of its own: inflation was a fifth of
    // the parsing thread's time on NVD 1.1 feeds. A plain file is read here (a kernel copy).
    if (gzdirect(in_.f) == 0) ahead_ = std::make_unique<Inflater>(in_.f);
    return {};
  }

  Result<bool> next(const ItemFn& on_item) override {
    if (done_) return false;
    const std::size_t old = buf_.size();
    // Spare capacity after the data lets the record parser read past a record's end without a
    // copy (simdjson's padding). The read goes straight into the string, not zero-filled
    // first; reads start small and double up to kChunk, so a small feed costs no 4 MiB buffer.
    int n = 0;
    if (ahead_) {
      Chunk c = ahead_->take();
      if (!c.error.empty()) {
        done_ = true;  // the read-ahead thread has stopped: nothing more will come
        return fail("read error: " + c.error, base_ + old, path_.string());
      }
      n = static_cast<int>(c.data.size());
      buf_.reserve(old + c.data.size() + kFeedPadding);
      buf_.append(c.data);
    } else {
      chunk_ = std::min(kChunk, chunk_ * 2);
      buf_.reserve(old + chunk_ + kFeedPadding);
      buf_.resize_and_overwrite(old + chunk_, [&](char* p, std::size_t) {
        n = gzread(in_.f, p + old, static_cast<unsigned>(chunk_));
        return old + static_cast<std::size_t>(std::max(n, 0));
      });
      if (n < 0) {
        int errnum = 0;
        const char* msg = gzerror(in_.f, &errnum);
        return fail(std::string("read error: ") + msg, base_ + old, path_.string());
      }
    }
    stats_.bytes += static_cast<std::uint64_t>(n);
    if (auto s = scan(on_item); !s) return std::unexpected(s.error());
    if (n == 0) {
      done_ = true;
      if (auto s = finish(on_item); !s) return std::unexpected(s.error());
      return false;
    }
    return true;
  }

 private:
  Status scan(const ItemFn& on_item) {
    const char* p = buf_.data();
    const std::size_t size = buf_.size();
    for (; pos_ < size; ++pos_) {
      const char c = p[pos_];
      if (in_str_) {
        // Most bytes of a feed are inside strings: jump to the next quote with memchr and look
        // back for an odd run of backslashes (an escaped quote).
        const void* q = std::memchr(p + pos_, '"', size - pos_);
        if (!q) {
          pos_ = size - 1;
          continue;
        }
        pos_ = static_cast<std::size_t>(static_cast<const char*>(q) - p);
        std::size_t bs = 0;
        while (pos_ - bs > key_start_ + 1 && p[pos_ - bs - 1] == '\\') ++bs;
        if (bs % 2 == 1) continue;
        in_str_ = false;
        if (depth_ == 1 && item_level_ < 0)
          last_key_.assign(p + key_start_ + 1, pos_ - key_start_ - 1);
        continue;
      }
      switch (c) {
        case '"':
          in_str_ = true;
          key_start_ = pos_;
          break;
        case '{':
        case '[':
          if (!started_) {
            started_ = true;
            if (c == '[') {
              item_level_ = 1;
              stats_.shape = FeedShape::kTopArray;
            }
          } else if (c == '[' && depth_ == 1 && item_level_ < 0 &&
                     (last_key_ == "vulnerabilities" || last_key_ == "CVE_Items")) {
            item_level_ = 2;
            stats_.shape = FeedShape::kItemsArray;
          }
          if (c == '{' && depth_ == item_level_ && item_level_ > 0) {
            item_start_ = pos_;
            item_oversized_ = false;
          }
          if (++depth_ > static_cast<int>(kMaxJsonDepth))
            return fail("JSON nested deeper than kMaxJsonDepth", base_ + pos_, path_.string());
          break;
        case '}':
        case ']':
          if (--depth_ < 0) return fail("unbalanced JSON brackets", base_ + pos_, path_.string());
          if (c == '}' && depth_ == item_level_ && item_start_ != std::string::npos) {
            if (item_oversized_)
              ++stats_.oversized;
            else
              on_item(std::string_view(p + item_start_, pos_ + 1 - item_start_),
                      base_ + item_start_);
            item_start_ = std::string::npos;
          }
          break;
        default:
          if (!started_ && !is_space(c))
            return fail("not a JSON feed (expected '{' or '[')", base_ + pos_, path_.string());
          break;
      }
    }

    // Drop what is consumed: everything before the open record (or all, between records).
    if (item_level_ > 0) {
      std::size_t keep = item_start_ == std::string::npos ? pos_ : item_start_;
      if (item_start_ != std::string::npos && pos_ - item_start_ > kMaxVulnRecordBytes) {
        item_oversized_ = true;  // keep scanning for its end, but stop buffering it
        keep = pos_;
        item_start_ = pos_;
      }
      if (keep > 0) {
        buf_.erase(0, keep);
        base_ += keep;
        pos_ -= keep;
        if (item_start_ != std::string::npos) item_start_ -= keep;
        key_start_ = key_start_ >= keep ? key_start_ - keep : 0;
      }
    } else if (buf_.size() > kMaxVulnDocumentBytes) {
      return fail("single JSON document over kMaxVulnDocumentBytes", base_, path_.string());
    }
    return {};
  }

  Status finish(const ItemFn& on_item) {
    if (!started_) return fail("empty feed", 0, path_.string());
    if (depth_ != 0 || in_str_) return fail("truncated JSON", base_ + pos_, path_.string());
    if (item_level_ < 0) {
      stats_.shape = FeedShape::kDocument;
      buf_.reserve(buf_.size() + kFeedPadding);
      on_item(buf_, base_);
    }
    return {};
  }

  std::filesystem::path path_;
  GzFile in_;
  std::unique_ptr<Inflater> ahead_;  // gzip feeds; declared after in_: stopped before it closes
  std::string buf_;                  // unconsumed bytes; buf_[0] is at file offset `base_`
  std::uint64_t base_ = 0;
  std::size_t chunk_ = 32u << 10;  // the next read's size (doubled before each read)
  std::size_t pos_ = 0;            // next byte to scan
  int depth_ = 0;                  // open brackets before buf_[pos_]
  bool in_str_ = false, started_ = false, done_ = false;
  int item_level_ = -1;  // depth inside the array whose elements are records
  std::size_t item_start_ = std::string::npos;
  bool item_oversized_ = false;
  std::size_t key_start_ = 0;
  std::string last_key_;
};

// OSV's all.zip: one call of next() reads one member.
class ZipFeedReader final : public FeedReader {
 public:
  explicit ZipFeedReader(std::filesystem::path path) : path_(std::move(path)) {
    stats_.shape = FeedShape::kItemsArray;
  }
  ~ZipFeedReader() override {
    if (a_) archive_read_free(a_);
  }
  ZipFeedReader(const ZipFeedReader&) = delete;
  ZipFeedReader& operator=(const ZipFeedReader&) = delete;

  Status open() {
    a_ = archive_read_new();
    if (!a_) return fail("out of memory", 0, path_.string());
    archive_read_support_format_zip(a_);
    if (archive_read_open_filename(a_, path_.c_str(), 1 << 16) != ARCHIVE_OK)
      return fail(std::string("cannot open as a zip archive: ") + archive_error_string(a_), 0,
                  path_.string());
    return {};
  }

  Result<bool> next(const ItemFn& on_item) override {
    if (done_) return false;
    const std::uint64_t index = index_++;
    archive_entry* e = nullptr;
    const int rc = archive_read_next_header(a_, &e);
    if (rc == ARCHIVE_EOF) {
      done_ = true;
      return false;
    }
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
      return fail(fmt::format("zip member {}: {}", index, archive_error_string(a_)), stats_.bytes,
                  path_.string());
    if (index >= kMaxEntries)
      return fail("more zip members than kMaxEntries", stats_.bytes, path_.string());
    const std::string_view name = archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
    if (archive_entry_filetype(e) != AE_IFREG || !name.ends_with(".json")) return true;
    // The size the header states is not trusted: reading stops at the cap either way.
    text_.clear();
    char buf[1 << 16];
    for (;;) {
      const la_ssize_t n = archive_read_data(a_, buf, sizeof buf);
      if (n < 0)
        return fail(fmt::format("zip member {} ({}): {}", index, name, archive_error_string(a_)),
                    stats_.bytes, path_.string());
      if (n == 0) break;
      stats_.bytes += static_cast<std::uint64_t>(n);
      if (stats_.bytes > kMaxTotalBytes)
        return fail("zip members larger than kMaxTotalBytes in all", stats_.bytes, path_.string());
      if (text_.size() + static_cast<std::size_t>(n) > kMaxVulnRecordBytes) {
        (void)archive_read_data_skip(a_);
        ++stats_.oversized;
        return true;
      }
      text_.append(buf, static_cast<std::size_t>(n));
    }
    const std::size_t size = text_.size();
    text_.append(kFeedPadding, '\0');
    on_item(std::string_view(text_.data(), size), index);
    return true;
  }

 private:
  std::filesystem::path path_;
  archive* a_ = nullptr;
  std::string text_;
  std::uint64_t index_ = 0;
  bool done_ = false;
};

template <class Reader>
Result<std::unique_ptr<FeedReader>> open_reader(const std::filesystem::path& path) {
  auto r = std::make_unique<Reader>(path);
  if (auto s = r->open(); !s) return std::unexpected(s.error());
  return std::unique_ptr<FeedReader>(std::move(r));
}

Result<FeedStats> read_all(Result<std::unique_ptr<FeedReader>> r, const ItemFn& on_item) {
  if (!r) return std::unexpected(r.error());
  for (;;) {
    auto more = (*r)->next(on_item);
    if (!more) return std::unexpected(more.error());
    if (!*more) return (*r)->stats();
  }
}

}  // namespace

Result<std::unique_ptr<FeedReader>> open_feed(const std::filesystem::path& path) {
  return open_reader<JsonFeedReader>(path);
}

Result<std::unique_ptr<FeedReader>> open_zip_feed(const std::filesystem::path& path) {
  return open_reader<ZipFeedReader>(path);
}

Result<FeedStats> split_feed(const std::filesystem::path& path, const ItemFn& on_item) {
  return read_all(open_feed(path), on_item);
}

Result<FeedStats> split_zip(const std::filesystem::path& path, const ItemFn& on_item) {
  return read_all(open_zip_feed(path), on_item);
}

}  // namespace probity::vuln
