// cpio: newc ("070701"), crc ("070702"), odc ("070707") and old binary (0x71c7 either
// endianness), read by libarchive. Binary cpio has a two-byte magic: away from the start of a
// blob it is carved only where two consecutive headers check out (Magic::weak). libarchive does
// not verify the crc variant's checksums, so they are checked here.
#include <archive.h>

#include <fmt/format.h>

#include "probity/limits.hpp"
#include "unpack/archive_reader.hpp"

namespace probity::unpacker {
namespace {

using namespace std::string_view_literals;
constexpr Magic kMagics[] = {{"070701"sv, 0},
                             {"070702"sv, 0},
                             {"070707"sv, 0},
                             {"\xc7\x71"sv, 0, true},
                             {"\x71\xc7"sv, 0, true}};
constexpr std::string_view kDescription = "cpio archive: newc, crc, odc, binary (libarchive)";

bool hex_field(Bytes d, std::size_t off, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = d[off + i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

/// The 8-hex-digit field `i` of the newc header at `at` (fields follow the 6-byte magic).
std::optional<std::uint32_t> newc_field(Bytes d, std::uint64_t at, int i) {
  const std::uint64_t off = at + 6 + 8 * std::uint64_t(i);
  if (off + 8 > d.size() || !hex_field(d, off, 8)) return std::nullopt;
  std::uint32_t v = 0;
  for (std::uint64_t k = off; k < off + 8; ++k) {
    const auto c = d[k];
    v = v * 16 + std::uint32_t(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
  }
  return v;
}

constexpr std::uint64_t align(std::uint64_t v, std::uint64_t a) {
  return (v + a - 1) / a * a;
}

/// The crc variant's check field is the sum of the file's data bytes (mod 2^32). Walks the
/// headers and warns (`crc-mismatch`, naming the entry) for every regular file whose data does
/// not add up; libarchive still extracts it.
void verify_crc(Bytes d, Sink& sink) {
  std::uint64_t bad = 0;
  for (std::uint64_t at = 0; at + 110 <= d.size() && starts_with(d, "070702", at);) {
    const auto mode = newc_field(d, at, 1), size = newc_field(d, at, 6),
               namesize = newc_field(d, at, 11), check = newc_field(d, at, 12);
    if (!mode || !size || !namesize || !check || *namesize == 0 || *namesize > kMaxCpioNameBytes)
      return;
    const std::uint64_t data_at = align(at + 110 + *namesize, 4);
    if (data_at + *size > d.size()) return;  // truncated: libarchive reports it
    const auto name_bytes = sub(d, at + 110, *namesize - 1);
    const std::string name(name_bytes.begin(), name_bytes.end());
    if (name == "TRAILER!!!") return;
    if ((*mode & 0170000) == 0100000) {
      std::uint32_t sum = 0;
      for (const std::uint8_t c : sub(d, data_at, *size)) sum += c;
      if (sum != *check && ++bad <= 100)
        sink.warn("crc-mismatch",
                  fmt::format("cpio (crc) data checksum {:08x} does not match the header's {:08x} "
                              "(modified or damaged file)",
                              sum, *check),
                  name, data_at);
    }
    at = align(data_at + *size, 4);
  }
}

/// The bytes one old-binary entry spans (header, name and data, each padded to even), or
/// nullopt when the header at `at` is not a plausible one: known file type, a NUL-terminated
/// printable name, data inside the blob.
std::optional<std::uint64_t> binary_entry(Bytes d, std::uint64_t at, bool le) {
  auto r16 = [&](std::uint64_t off) {
    return le ? read_le<std::uint16_t>(d, at + off) : read_be<std::uint16_t>(d, at + off);
  };
  const auto magic = r16(0), mode = r16(6), namesize = r16(20), size_hi = r16(22),
             size_lo = r16(24);
  if (!magic || *magic != 070707 || !mode || !namesize || !size_hi || !size_lo) return std::nullopt;
  if (*namesize == 0 || *namesize > kMaxCpioNameBytes || at + 26 + *namesize > d.size())
    return std::nullopt;
  const auto name = sub(d, at + 26, *namesize);
  if (name.back() != 0) return std::nullopt;
  for (std::size_t i = 0; i + 1 < name.size(); ++i)
    if (name[i] < 0x20 || name[i] == 0x7f) return std::nullopt;
  switch (*mode & 0170000) {
    case 0100000:
    case 0040000:
    case 0120000:
    case 0020000:
    case 0060000:
    case 0010000:
    case 0140000:
      break;
    case 0:  // the trailer
      if (!starts_with(name, "TRAILER!!!"sv)) return std::nullopt;
      break;
    default:
      return std::nullopt;
  }
  const std::uint64_t size = (std::uint64_t(*size_hi) << 16) | *size_lo;
  const std::uint64_t len = 26 + align(*namesize, 2) + align(size, 2);
  if (at + len > d.size()) return std::nullopt;
  return len;
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
    // Binary: this header and the next one (the trailer at least) must check out.
    const bool le = d[0] == 0xc7;
    const auto first = binary_entry(d, 0, le);
    if (!first || !binary_entry(d, *first, le)) return std::nullopt;
    return Probe{0, le ? "cpio (binary, little-endian)" : "cpio (binary, big-endian)"};
  }
  return std::nullopt;
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  if (starts_with(d, "070702")) verify_crc(d, sink);
  return extract_with_libarchive(d, sink, archive_read_support_format_cpio);
}

}  // namespace

const Format kFormat_cpio = make_format(kind::kArchive, "cpio", kDescription, kMagics, probe,
                                        extract, {.timestamp_bytes = 8});

}  // namespace probity::unpacker
