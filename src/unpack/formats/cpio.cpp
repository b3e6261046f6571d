// cpio: newc ("070701"), crc ("070702"), odc ("070707") and old binary (0x71c7 either
// endianness), read by libarchive. Binary cpio has a two-byte magic, so it is only tried at the
// start of a blob; the ASCII variants are carved.
#include <archive.h>

#include "unpack/archive_reader.hpp"

namespace probity::unpacker {
namespace {

using namespace std::string_view_literals;
constexpr Magic kMagics[] = {{"070701"sv, 0},
                             {"070702"sv, 0},
                             {"070707"sv, 0},
                             {"\xc7\x71"sv, 0, true},
                             {"\x71\xc7"sv, 0, true}};

bool hex_field(Bytes d, std::size_t off, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = d[off + i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

std::optional<Probe> probe(Bytes d) {
  if (d.size() < 26) return std::nullopt;
  if (starts_with(d, "070701") || starts_with(d, "070702")) {
    if (d.size() < 110 || !hex_field(d, 6, 104)) return std::nullopt;
    return Probe{0, starts_with(d, "070701") ? "cpio (newc)" : "cpio (crc)"};
  }
  if (starts_with(d, "070707")) {
    for (std::size_t i = 6; i < 76 && i < d.size(); ++i)
      if (d[i] < '0' || d[i] > '7') return std::nullopt;
    return Probe{0, "cpio (odc)"};
  }
  if ((d[0] == 0xc7 && d[1] == 0x71) || (d[0] == 0x71 && d[1] == 0xc7)) {
    // Binary: the name size (offset 20) must be small and non-zero.
    const bool le = d[0] == 0xc7;
    const auto namesize = le ? *read_le<std::uint16_t>(d, 20) : *read_be<std::uint16_t>(d, 20);
    if (namesize == 0 || namesize > 4096) return std::nullopt;
    return Probe{0, le ? "cpio (binary, little-endian)" : "cpio (binary, big-endian)"};
  }
  return std::nullopt;
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  return extract_with_libarchive(d, sink, archive_read_support_format_cpio);
}

}  // namespace

const Format kFormat_cpio{.id = "cpio",
                          .description = "cpio archive: newc, crc, odc, binary (libarchive)",
                          .magics = kMagics,
                          .carve = Carve::kAnyOffset,
                          .output = Output::kTree,
                          .probe = probe,
                          .extract = extract};

}  // namespace probity::unpacker
