// 7z, read by libarchive. The signature header gives the archive's exact span.
#include <archive.h>

#include <fmt/format.h>

#include "probity/limits.hpp"
#include "unpack/archive_reader.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"7z\xbc\xaf\x27\x1c", 0}};

std::uint64_t span(Bytes d) {
  const auto next_off = read_le<std::uint64_t>(d, 12);
  const auto next_size = read_le<std::uint64_t>(d, 20);
  if (!next_off || !next_size || *next_off > d.size() || *next_size > d.size()) return 0;
  const std::uint64_t end = 32 + *next_off + *next_size;
  return end <= d.size() ? end : 0;
}

std::optional<Probe> probe(Bytes d) {
  if (d.size() < 32 || !starts_with(d, "7z\xbc\xaf\x27\x1c")) return std::nullopt;
  if (d[6] != 0) return std::nullopt;  // major version 0
  return Probe{span(d), fmt::format("7z, version 0.{}", d[7])};
}

/// Reads a 7z variable-length number (the leading one bits of the first byte count the extra
/// little-endian bytes), advancing `pos`; nullopt past the end.
std::optional<std::uint64_t> number(Bytes h, std::uint64_t& pos) {
  if (pos >= h.size()) return std::nullopt;
  const std::uint8_t first = h[pos++];
  int extra = 0;
  while (extra < 8 && (first & (0x80 >> extra))) ++extra;
  std::uint64_t value = 0;
  for (int i = 0; i < extra; ++i) {
    if (pos >= h.size()) return std::nullopt;
    value |= std::uint64_t(h[pos++]) << (8 * i);
  }
  if (extra < 8) value |= std::uint64_t(first & (0xff >> (extra + 1))) << (8 * extra);
  return value;
}

/// libarchive allocates arrays sized by the counts in the next header before checking them
/// against anything (a 164-byte file asking for 83 million folders made it allocate 8.7 GB).
/// Each counted item takes at least one byte of the header, so a count larger than the header is
/// a lie: check the pack-stream and folder counts of the (uncompressed) streams info first.
Status check_header_counts(Bytes d) {
  const std::uint64_t off = 32 + *read_le<std::uint64_t>(d, 12);
  const std::uint64_t size = *read_le<std::uint64_t>(d, 20);
  if (size > kMax7zNextHeaderBytes)
    return fail(fmt::format("7z next header of {} bytes exceeds the cap ({} MiB)", size,
                            kMax7zNextHeaderBytes / kMiB),
                20);
  Bytes h = sub(d, off, size);
  std::uint64_t pos = 0;
  if (h.empty() || (h[0] != 0x17 && h[0] != 0x01)) return {};  // libarchive reports the rest
  ++pos;
  if (pos < h.size() && h[pos] == 0x02) return {};  // archive properties: leave to libarchive
  if (pos < h.size() && h[pos] == 0x04) ++pos;      // kMainStreamsInfo
  if (pos < h.size() && h[pos] == 0x06) {           // kPackInfo: packPos, numPackStreams
    ++pos;
    auto pack_pos = number(h, pos);
    auto streams = number(h, pos);
    if (!pack_pos || !streams || *streams > size)
      return fail("7z header claims more pack streams than it has bytes", off + pos);
    // Skip the optional sizes and digests up to kEnd without trusting them further.
    while (pos < h.size() && h[pos] != 0x00) {
      const std::uint8_t id = h[pos++];
      if (id == 0x09) {
        for (std::uint64_t i = 0; i < *streams; ++i)
          if (!number(h, pos)) return fail("7z pack sizes truncated", off + pos);
      } else {
        return {};  // digests and the rest: libarchive checks them
      }
    }
    ++pos;
  }
  if (pos + 1 < h.size() && h[pos] == 0x07 && h[pos + 1] == 0x0b) {  // kUnPackInfo, kFolder
    pos += 2;
    auto folders = number(h, pos);
    if (!folders || *folders > size)
      return fail(fmt::format("7z header claims {} folders in {} bytes", folders.value_or(0), size),
                  off + pos);
  }
  return {};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  const std::uint64_t n = span(d);
  if (n == 0) return fail("7z archive truncated (next header beyond the data)", 0);
  if (auto st = check_header_counts(d); !st) return std::unexpected(st.error());
  return extract_with_libarchive(sub(d, 0, n), sink, archive_read_support_format_7zip, n);
}

}  // namespace

const Format kFormat_sevenzip = make_format(kind::kArchive, "sevenzip", "7z archive (libarchive)",
                                            kMagics, probe, extract, {.timestamp_bytes = 8});

}  // namespace probity::unpacker
