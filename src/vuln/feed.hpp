// Internal: splits a JSON feed (plain or gzip) into its records without parsing the whole file,
// so a 300 MB NVD 1.1 yearly feed needs memory for one record, not for the feed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "probity/error.hpp"

namespace probity::vuln {

/// What the file is, judged from its outer shape.
enum class FeedShape {
  kItemsArray,  ///< {"vulnerabilities":[...]} or {"CVE_Items":[...]}: one record per element
  kTopArray,    ///< [ {...}, {...} ]: OSV arrays, arrays of cve objects
  kDocument,    ///< one record: {"cve":{...}}, a bare cve object, one OSV record
};

struct FeedStats {
  FeedShape shape = FeedShape::kDocument;
  std::uint64_t bytes = 0;      ///< uncompressed bytes read
  std::uint64_t oversized = 0;  ///< records over kMaxVulnRecordBytes, skipped
};

/// Bytes after every record handed to `on_item` that are allocated and readable (not part of the
/// record): enough for simdjson to parse in place.
inline constexpr std::size_t kFeedPadding = 64;

/// Receives one record: its JSON text (valid only during the call, followed by kFeedPadding
/// readable bytes) and its offset in the feed (its index in a zip).
using ItemFn = std::function<void(std::string_view, std::uint64_t)>;

/// A feed read a piece at a time, so that one thread can read and split it while another
/// consumes the records (the import pipeline), or one loop does both (split_feed).
class FeedReader {
 public:
  virtual ~FeedReader() = default;
  /// Reads on (one 4 MiB chunk of a JSON feed, one member of a zip) and calls `on_item` for every
  /// record that read completes. false: the feed has ended (and was whole).
  virtual Result<bool> next(const ItemFn& on_item) = 0;
  /// What was read so far; final once next() returned false.
  const FeedStats& stats() const { return stats_; }

 protected:
  FeedStats stats_;
};

/// A JSON feed, plain or gzip (recognised by its magic).
Result<std::unique_ptr<FeedReader>> open_feed(const std::filesystem::path& path);

/// The `*.json` members of a zip archive (OSV's per-ecosystem all.zip: one record per member), in
/// archive order. Members over kMaxVulnRecordBytes are skipped and counted; at most kMaxEntries
/// members and kMaxTotalBytes of member data are read.
Result<std::unique_ptr<FeedReader>> open_zip_feed(const std::filesystem::path& path);

/// Calls `on_item(json_text, offset)` for every record of the feed at `path`.
Result<FeedStats> split_feed(const std::filesystem::path& path, const ItemFn& on_item);

/// Calls `on_item(json_text, index)` for every record of the zip at `path` (open_zip_feed).
Result<FeedStats> split_zip(const std::filesystem::path& path, const ItemFn& on_item);

/// The whole text of a small source (plain or gzip), at most `cap` bytes after decompression.
Result<std::string> read_text_source(const std::filesystem::path& path, std::uint64_t cap);

}  // namespace probity::vuln
