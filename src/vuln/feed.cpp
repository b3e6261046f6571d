#include "vuln/feed.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>
#include <zlib.h>

#include <cstring>
#include <string>

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

Result<FeedStats> split_feed(const std::filesystem::path& path,
                             const std::function<void(std::string_view, std::uint64_t)>& on_item) {
  GzFile in;
  // gzread reads plain files unchanged, so one reader serves .json and .json.gz.
  in.f = gzopen(path.c_str(), "rb");
  if (!in.f) return fail("cannot open feed (check the path and permissions)", 0, path.string());
  gzbuffer(in.f, 1u << 20);

  FeedStats stats;
  std::string buf;  // unconsumed bytes; buf[0] is at file offset `base`
  std::uint64_t base = 0;
  std::size_t pos = 0;  // next byte to scan
  int depth = 0;        // open brackets before buf[pos]
  bool in_str = false, started = false;
  int item_level = -1;  // depth inside the array whose elements are records
  std::size_t item_start = std::string::npos;
  bool item_oversized = false;
  std::size_t key_start = 0;
  std::string_view last_key;
  std::string last_key_store;

  for (;;) {
    const std::size_t old = buf.size();
    // Spare capacity after the data lets the record parser read past a record's end without a
    // copy (simdjson's padding).
    buf.reserve(old + kChunk + kFeedPadding);
    buf.resize(old + kChunk);
    const int n = gzread(in.f, buf.data() + old, static_cast<unsigned>(kChunk));
    if (n < 0) {
      int errnum = 0;
      const char* msg = gzerror(in.f, &errnum);
      return fail(std::string("read error: ") + msg, base + old, path.string());
    }
    buf.resize(old + static_cast<std::size_t>(n));
    stats.bytes += static_cast<std::uint64_t>(n);
    const bool eof = n == 0;

    const char* p = buf.data();
    const std::size_t size = buf.size();
    for (; pos < size; ++pos) {
      const char c = p[pos];
      if (in_str) {
        // Most bytes of a feed are inside strings: jump to the next quote with memchr and look
        // back for an odd run of backslashes (an escaped quote).
        const void* q = std::memchr(p + pos, '"', size - pos);
        if (!q) {
          pos = size - 1;
          continue;
        }
        pos = static_cast<std::size_t>(static_cast<const char*>(q) - p);
        std::size_t bs = 0;
        while (pos - bs > key_start + 1 && p[pos - bs - 1] == '\\') ++bs;
        if (bs % 2 == 1) continue;
        in_str = false;
        if (depth == 1 && item_level < 0) {
          last_key_store.assign(p + key_start + 1, pos - key_start - 1);
          last_key = last_key_store;
        }
        continue;
      }
      switch (c) {
        case '"':
          in_str = true;
          key_start = pos;
          break;
        case '{':
        case '[':
          if (!started) {
            started = true;
            if (c == '[') {
              item_level = 1;
              stats.shape = FeedShape::kTopArray;
            }
          } else if (c == '[' && depth == 1 && item_level < 0 &&
                     (last_key == "vulnerabilities" || last_key == "CVE_Items")) {
            item_level = 2;
            stats.shape = FeedShape::kItemsArray;
          }
          if (c == '{' && depth == item_level && item_level > 0) {
            item_start = pos;
            item_oversized = false;
          }
          if (++depth > static_cast<int>(kMaxJsonDepth))
            return fail("JSON nested deeper than kMaxJsonDepth", base + pos, path.string());
          break;
        case '}':
        case ']':
          if (--depth < 0) return fail("unbalanced JSON brackets", base + pos, path.string());
          if (c == '}' && depth == item_level && item_start != std::string::npos) {
            if (item_oversized)
              ++stats.oversized;
            else
              on_item(std::string_view(p + item_start, pos + 1 - item_start), base + item_start);
            item_start = std::string::npos;
          }
          break;
        default:
          if (!started && !is_space(c))
            return fail("not a JSON feed (expected '{' or '[')", base + pos, path.string());
          break;
      }
    }

    // Drop what is consumed: everything before the open record (or all, between records).
    if (item_level > 0) {
      std::size_t keep = item_start == std::string::npos ? pos : item_start;
      if (item_start != std::string::npos && pos - item_start > kMaxVulnRecordBytes) {
        item_oversized = true;  // keep scanning for its end, but stop buffering it
        keep = pos;
        item_start = pos;
      }
      if (keep > 0) {
        buf.erase(0, keep);
        base += keep;
        pos -= keep;
        if (item_start != std::string::npos) item_start -= keep;
        key_start = key_start >= keep ? key_start - keep : 0;
      }
    } else if (buf.size() > kMaxVulnDocumentBytes) {
      return fail("single JSON document over kMaxVulnDocumentBytes", base, path.string());
    }
    if (eof) break;
  }
  if (!started) return fail("empty feed", 0, path.string());
  if (depth != 0 || in_str) return fail("truncated JSON", base + pos, path.string());
  if (item_level < 0) {
    stats.shape = FeedShape::kDocument;
    buf.reserve(buf.size() + kFeedPadding);
    on_item(buf, base);
  }
  return stats;
}

Result<FeedStats> split_zip(const std::filesystem::path& path,
                            const std::function<void(std::string_view, std::uint64_t)>& on_item) {
  struct Archive {
    archive* a = archive_read_new();
    ~Archive() { archive_read_free(a); }
  } ar;
  if (!ar.a) return fail("out of memory", 0, path.string());
  archive_read_support_format_zip(ar.a);
  if (archive_read_open_filename(ar.a, path.c_str(), 1 << 16) != ARCHIVE_OK)
    return fail(std::string("cannot open as a zip archive: ") + archive_error_string(ar.a), 0,
                path.string());
  FeedStats st;
  st.shape = FeedShape::kItemsArray;
  std::string text;
  archive_entry* e = nullptr;
  for (std::uint64_t index = 0;; ++index) {
    const int rc = archive_read_next_header(ar.a, &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
      return fail(fmt::format("zip member {}: {}", index, archive_error_string(ar.a)), st.bytes,
                  path.string());
    if (index >= kMaxEntries)
      return fail("more zip members than kMaxEntries", st.bytes, path.string());
    const std::string_view name = archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
    if (archive_entry_filetype(e) != AE_IFREG || !name.ends_with(".json")) continue;
    // The size the header states is not trusted: reading stops at the cap either way.
    text.clear();
    bool oversized = false;
    char buf[1 << 16];
    for (;;) {
      const la_ssize_t n = archive_read_data(ar.a, buf, sizeof buf);
      if (n < 0)
        return fail(fmt::format("zip member {} ({}): {}", index, name, archive_error_string(ar.a)),
                    st.bytes, path.string());
      if (n == 0) break;
      st.bytes += static_cast<std::uint64_t>(n);
      if (st.bytes > kMaxTotalBytes)
        return fail("zip members larger than kMaxTotalBytes in all", st.bytes, path.string());
      if (text.size() + static_cast<std::size_t>(n) > kMaxVulnRecordBytes) {
        oversized = true;
        (void)archive_read_data_skip(ar.a);
        break;
      }
      text.append(buf, static_cast<std::size_t>(n));
    }
    if (oversized) {
      ++st.oversized;
      continue;
    }
    const std::size_t size = text.size();
    text.append(kFeedPadding, '\0');
    on_item(std::string_view(text.data(), size), index);
  }
  return st;
}

}  // namespace probity::vuln
