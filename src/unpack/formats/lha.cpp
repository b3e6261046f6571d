// LHA/LZH archives, read by libarchive (methods lh0–lh7, lhd, lzs, lz4, lz5; header levels
// 0–3). The method id sits at offset 2 of the first header; levels 0 and 1 carry a header
// checksum, which the probe verifies.
#include <archive.h>

#include <fmt/format.h>

#include "unpack/archive_reader.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"-lh0-", 2}, {"-lh1-", 2}, {"-lh2-", 2}, {"-lh3-", 2},
                             {"-lh4-", 2}, {"-lh5-", 2}, {"-lh6-", 2}, {"-lh7-", 2},
                             {"-lhd-", 2}, {"-lzs-", 2}, {"-lz4-", 2}, {"-lz5-", 2}};

std::optional<Probe> probe(Bytes d) {
  if (d.size() < 24) return std::nullopt;
  bool known = false;
  for (const Magic& m : kMagics) known = known || starts_with(d, m.bytes, 2);
  if (!known) return std::nullopt;
  const std::uint8_t level = d[20];
  if (level > 3) return std::nullopt;
  if (level <= 1) {
    // Levels 0 and 1: byte 0 is the header size after the first two bytes, byte 1 the sum of
    // those bytes modulo 256.
    const std::uint32_t size = d[0];
    if (size < 22 || 2u + size > d.size()) return std::nullopt;
    std::uint8_t sum = 0;
    for (std::uint32_t i = 2; i < 2 + size; ++i) sum = std::uint8_t(sum + d[i]);
    if (sum != d[1]) return std::nullopt;
  } else if (level == 2) {
    const auto size = *read_le<std::uint16_t>(d, 0);
    if (size < 26) return std::nullopt;
  } else if (*read_le<std::uint16_t>(d, 0) != 4) {  // level 3: the word size, always 4
    return std::nullopt;
  }
  return Probe{0, fmt::format("lha, method {}, header level {}", cstr(d, 2, 5), level)};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  return extract_with_libarchive(d, sink, archive_read_support_format_lha);
}

}  // namespace

const Format kFormat_lha =
    make_format(kind::kArchive, "lha", "LHA/LZH archive (libarchive)", kMagics, probe, extract);

}  // namespace probity::unpacker
