// Xiaomi HDR1/HDR2 router firmware (OpenWrt's xiaomifw layout): a little-endian header "HDR1"
// (48 bytes) or "HDR2" (80 bytes) holding the offset of a 272-byte RSA signature block that ends
// the image, a CRC-32 of everything from byte 12 to that end (stored inverted), and up to eight
// blob offsets. Each blob is a 48-byte header (magic 0x0000babe, flash offset, size, type, a
// 32-byte name) followed by its data, which lies before the signature.
#include <fmt/format.h>

#include "probity/limits.hpp"
#include "unpack/format.hpp"
#include "unpack/vendor.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"HDR1", 0}, {"HDR2", 0}};
constexpr std::string_view kDescription = "Xiaomi HDR1/HDR2 firmware (CRC-32 checked, blobs)";
constexpr std::uint64_t kSignature = 272;
constexpr std::uint64_t kBlobHeader = 48;
constexpr std::uint32_t kBlobMagic = 0xbabe;

struct Header {
  int version = 1;
  std::uint64_t header_size = 48;
  std::uint64_t signature_offset = 0;
  std::uint32_t crc = 0;
  std::vector<std::uint64_t> blobs;
  [[nodiscard]] std::uint64_t length() const { return signature_offset + kSignature; }
};

std::optional<Header> parse(Bytes d) {
  Header h;
  if (starts_with(d, "HDR1")) {
    h.version = 1;
    h.header_size = 48;
  } else if (starts_with(d, "HDR2")) {
    h.version = 2;
    h.header_size = 80;
  } else {
    return std::nullopt;
  }
  if (d.size() < h.header_size) return std::nullopt;
  h.signature_offset = *read_le<std::uint32_t>(d, 4);
  h.crc = *read_le<std::uint32_t>(d, 8);
  if (h.signature_offset < h.header_size) return std::nullopt;
  for (int i = 0; i < kMaxXiaomiBlobs; ++i) {
    const std::uint64_t o = *read_le<std::uint32_t>(d, h.header_size - 32 + 4 * std::uint64_t(i));
    if (o == 0) break;
    if (o < h.header_size || o + kBlobHeader > h.signature_offset) return std::nullopt;
    h.blobs.push_back(o);
  }
  if (h.blobs.empty()) return std::nullopt;
  return h;
}

std::optional<Probe> probe(Bytes d) {
  auto h = parse(d);
  if (!h) return std::nullopt;
  // The first blob header's magic must be there (the CRC is checked by extract).
  if (read_le<std::uint32_t>(d, h->blobs[0]) != kBlobMagic) return std::nullopt;
  return Probe{std::min<std::uint64_t>(h->length(), d.size()),
               fmt::format("Xiaomi HDR{}, {} blobs", h->version, h->blobs.size())};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto h = parse(d);
  if (!h) return fail("bad Xiaomi HDR header", 0);
  sink.describe(fmt::format("Xiaomi HDR{}, {} blobs, signature at 0x{:x}", h->version,
                            h->blobs.size(), h->signature_offset));
  const Bytes image = sub(d, 0, h->length());
  if (image.size() < h->length()) {
    sink.warn("format-error",
              fmt::format("Xiaomi HDR truncated: {} bytes of {}", image.size(), h->length()));
  } else if (const std::uint32_t crc = ~crc32_of(sub(image, 12)); crc != h->crc) {
    sink.warn("crc-mismatch",
              fmt::format("Xiaomi HDR CRC-32 is 0x{:08x}, the header says 0x{:08x}", crc, h->crc));
  }
  for (std::size_t i = 0; i < h->blobs.size(); ++i) {
    const std::uint64_t at = h->blobs[i];
    if (read_le<std::uint32_t>(d, at) != kBlobMagic)
      return fail(fmt::format("Xiaomi HDR blob {} at 0x{:x}: no blob header", i, at), at);
    const std::uint64_t size = *read_le<std::uint32_t>(d, at + 8);
    if (size == 0 || at + kBlobHeader + size > h->signature_offset)
      return fail(
          fmt::format("Xiaomi HDR blob {} at 0x{:x}: size {} runs past the signature", i, at, size),
          at);
    const std::string name = cstr(d, at + 16, 32);
    const Bytes data = sub(d, at + kBlobHeader, size);
    // Blob names are paths ("generic folder/file.txt"); the Sink sanitises them.
    Entry e{name.empty() ? fmt::format("blob{}", i) : name};
    if (auto st = sink.file(e, data, data.size() < size); !st) return fail(st.error().message, at);
    if (data.size() < size) return fail("Xiaomi HDR blob truncated", d.size());
  }
  return image.size();
}

}  // namespace

const Format kFormat_xiaomi_hdr =
    make_format(kind::kFirmwareHeader, "xiaomi_hdr", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
