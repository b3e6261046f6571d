// The memory image that a hex record format (Intel HEX, Motorola S-record, Tektronix hex)
// describes: records of (address, bytes) laid into one binary from the lowest address to the
// highest, gaps filled with zeros (as `objcopy -O binary` writes it). Shared by ihex, srec and
// tekhex; the span between lowest and highest address is capped (kMaxHexImageBytes).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "probity/hash.hpp"
#include "probity/limits.hpp"
#include "unpack/format.hpp"

namespace probity::unpacker {

/// One text line of a record file: [begin, end) without the line break, `next` the offset of
/// the following line.
struct TextLine {
  std::uint64_t begin = 0;
  std::string_view text;
  std::uint64_t next = 0;
};

/// The line starting at `off` (a trailing CR is dropped), bounded by kMaxHexLineBytes: a longer
/// "line" is returned cut at the cap, which no record parser accepts.
inline TextLine text_line(Bytes d, std::uint64_t off) {
  TextLine l{off, {}, off};
  std::uint64_t end = off;
  const std::uint64_t limit = std::min<std::uint64_t>(d.size(), off + kMaxHexLineBytes);
  while (end < limit && d[end] != '\n') ++end;
  l.next = end < d.size() && d[end] == '\n' ? end + 1 : end;
  std::uint64_t stop = end;
  if (stop > off && d[stop - 1] == '\r') --stop;
  l.text = std::string_view(reinterpret_cast<const char*>(d.data() + off), stop - off);
  return l;
}

/// True when `s` is all ASCII white space (blank lines between records are allowed).
inline bool blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

/// Bytes from the hex digits `s` (even length); nullopt when they are not hex.
inline std::optional<std::string> hex_bytes(std::string_view s) {
  return from_hex(s);
}

class HexImage {
 public:
  /// Adds `data` at `address`; fails when the image would span more than kMaxHexImageBytes.
  Status add(std::uint64_t address, std::string_view data, std::uint64_t text_offset) {
    if (data.empty()) return {};
    const std::uint64_t lo = std::min(lo_, address), hi = std::max(hi_, address + data.size());
    if (hi - lo > kMaxHexImageBytes)
      return fail(fmt::format("records span {:#x}..{:#x}, more than the cap ({} MiB)", lo, hi,
                              kMaxHexImageBytes / kMiB),
                  text_offset);
    lo_ = lo, hi_ = hi;
    records_.push_back({address, std::string(data)});
    return {};
  }
  [[nodiscard]] bool empty() const { return records_.empty(); }
  [[nodiscard]] std::uint64_t low() const { return lo_; }
  [[nodiscard]] std::uint64_t size() const { return empty() ? 0 : hi_ - lo_; }

  /// Writes the image as one file `name` (later records overwrite earlier ones at the same
  /// address); `truncated` when the records ended early.
  Status write(Sink& sink, const std::string& name, bool truncated) const {
    std::string image(size(), '\0');
    for (const auto& r : records_) image.replace(r.address - lo_, r.data.size(), r.data);
    return sink.file(Entry{name, EntryType::kFile, 0644},
                     Bytes(reinterpret_cast<const std::uint8_t*>(image.data()), image.size()),
                     truncated);
  }

 private:
  struct Record {
    std::uint64_t address;
    std::string data;
  };
  std::vector<Record> records_;
  std::uint64_t lo_ = UINT64_MAX, hi_ = 0;
};

/// What one record line holds.
struct HexRecord {
  enum Kind { kData, kEnd, kOther } kind = kOther;
  std::uint64_t address = 0;
  std::string data;
};

/// Decodes the record lines at the start of `d` with `parse` (a line -> Result<HexRecord>) into
/// one file named `name`, up to and including the end record. Blank lines are skipped. A bad
/// line after good ones ends the records: what was decoded is written, marked truncated, and the
/// error names the line's offset. Returns the bytes the records span.
template <class ParseFn>
Result<std::uint64_t> decode_hex_records(Bytes d, Sink& sink, std::string_view what,
                                         const std::string& name, ParseFn&& parse) {
  HexImage image;
  std::uint64_t off = 0, records = 0;
  bool ended = false;
  std::optional<Error> error;
  while (off < d.size()) {
    const TextLine line = text_line(d, off);
    if (blank(line.text)) {
      if (line.next == off) break;
      off = line.next;
      continue;
    }
    if (records % 4096 == 0)
      if (auto st = sink.check_time(); !st) {
        error = st.error();
        error->offset = off;
        break;
      }
    Result<HexRecord> r = parse(line.text);
    if (!r) {
      error = r.error();
      error->message = fmt::format("{} line at offset {}: {}", what, off, error->message);
      error->offset = off;
      break;
    }
    ++records;
    if (r->kind == HexRecord::kData)
      if (auto st = image.add(r->address, r->data, off); !st) {
        error = st.error();
        break;
      }
    off = line.next;
    if (r->kind == HexRecord::kEnd) {
      ended = true;
      break;
    }
  }
  if (image.empty()) {
    if (error) return std::unexpected(*error);
    return fail(fmt::format("{} without data records", what), off);
  }
  if (!ended && !error)
    sink.warn("truncated", fmt::format("{} records end without an end record", what), name, off);
  sink.describe(fmt::format("{}, {} records, {} bytes from address {:#x}", what, records,
                            image.size(), image.low()));
  if (auto st = image.write(sink, name, error.has_value()); !st) return fail_at(st.error(), off);
  if (error) return std::unexpected(*error);
  return off;
}

}  // namespace probity::unpacker
