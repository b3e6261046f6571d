// Broadcom TRX (routers from Asus, Linksys, Netgear...): a little-endian header "HDR0", total
// length, a CRC32 over everything from the flags field to the end, flags and version (1: three
// partition offsets, 2: four), then the partitions (typically loader, kernel, root filesystem).
// The CRC is Broadcom's: standard CRC-32 polynomial and initial value, no final inversion.
#include <zlib.h>

#include <fmt/format.h>

#include "probity/limits.hpp"
#include "unpack/format.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"HDR0", 0}};
constexpr std::string_view kDescription = "Broadcom TRX firmware (CRC32 checked, partitions)";
constexpr std::uint32_t kFlagsOffset = 12;

struct Header {
  std::uint32_t len = 0, crc = 0;
  std::uint16_t flags = 0, version = 0;
  std::uint32_t header_size = 0;
  std::vector<std::uint32_t> offsets;  ///< as in the header (0 = unused slot)
};

std::optional<Header> parse(Bytes d) {
  if (!starts_with(d, "HDR0")) return std::nullopt;
  auto len = read_le<std::uint32_t>(d, 4);
  auto crc = read_le<std::uint32_t>(d, 8);
  auto fv = read_le<std::uint32_t>(d, 12);
  if (!len || !crc || !fv) return std::nullopt;
  Header h;
  h.len = *len;
  h.crc = *crc;
  h.flags = std::uint16_t(*fv & 0xffff);
  h.version = std::uint16_t(*fv >> 16);
  if (h.version != 1 && h.version != 2) return std::nullopt;
  const std::uint32_t parts = h.version == 1 ? 3 : kMaxTrxParts;
  h.header_size = 16 + 4 * parts;
  if (h.len < h.header_size) return std::nullopt;
  std::uint32_t prev = 0;
  for (std::uint32_t i = 0; i < parts; ++i) {
    auto o = read_le<std::uint32_t>(d, 16 + 4 * i);
    if (!o) return std::nullopt;
    if (*o != 0) {
      // Partitions lie inside the image, after the header, in increasing order.
      if (*o < h.header_size || *o >= h.len || *o <= prev) return std::nullopt;
      prev = *o;
    }
    h.offsets.push_back(*o);
  }
  if (h.offsets[0] == 0) return std::nullopt;
  return h;
}

std::optional<Probe> probe(Bytes d) {
  auto h = parse(d);
  if (!h) return std::nullopt;
  return Probe{std::min<std::uint64_t>(h->len, d.size()),
               fmt::format("TRX v{}, {} bytes, flags 0x{:x}", h->version, h->len, h->flags)};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto h = parse(d);
  if (!h) return fail("bad TRX header", 0);
  const Bytes image = sub(d, 0, h->len);
  std::size_t used = 0;
  for (auto o : h->offsets) used += o != 0;
  sink.describe(fmt::format("TRX v{}, {} bytes, flags 0x{:x}, {} partitions", h->version, h->len,
                            h->flags, used));
  if (image.size() < h->len) {
    sink.warn("format-error",
              fmt::format("TRX truncated: header says {} bytes, {} present", h->len, image.size()));
  } else {
    const Bytes covered = sub(image, kFlagsOffset);
    const auto crc = std::uint32_t(~crc32(0, covered.data(), uInt(covered.size())));
    if (crc != h->crc)
      sink.warn("crc-mismatch",
                fmt::format("TRX CRC32 is 0x{:08x}, the header says 0x{:08x} (modified image?)",
                            crc, h->crc));
  }
  for (std::size_t i = 0; i < h->offsets.size(); ++i) {
    const std::uint32_t start = h->offsets[i];
    if (start == 0) continue;
    std::uint32_t end = h->len;
    for (std::size_t j = i + 1; j < h->offsets.size(); ++j)
      if (h->offsets[j] != 0) {
        end = h->offsets[j];
        break;
      }
    const Bytes part = sub(image, start, end - start);
    if (auto st = sink.file(Entry{fmt::format("part{}", i)}, part); !st)
      return fail(st.error().message, start);
  }
  return image.size();
}

}  // namespace

const Format kFormat_trx =
    make_format(kind::kFirmwareHeader, "trx", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
