// Android Verified Boot 2.0 vbmeta blobs ("AVB0", AOSP external/avb's avb_vbmeta_image.h): a
// 256-byte big-endian header, then an authentication data block (hash and signature) and an
// auxiliary data block (public key, its metadata and the descriptors), each a multiple of 64
// bytes. Found on its own (vbmeta.img) or where an AVB footer points (see avb.cpp). The header's
// offsets must lie inside their blocks, and the hash of the header and auxiliary block (SHA-256 or
// SHA-512 by the algorithm type) is checked; the signature is not verified (no trusted key).
#include <fmt/format.h>

#include <array>

#include "probity/limits.hpp"
#include "unpack/format.hpp"
#include "unpack/vendor.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"AVB0", 0}};
constexpr std::string_view kDescription = "Android Verified Boot vbmeta blob (hash checked)";
constexpr std::uint64_t kHeader = 256;
constexpr std::array<std::string_view, 7> kAlgorithms = {
    "NONE",           "SHA256_RSA2048", "SHA256_RSA4096", "SHA256_RSA8192",
    "SHA512_RSA2048", "SHA512_RSA4096", "SHA512_RSA8192"};

struct Header {
  std::uint32_t major = 0, minor = 0, algorithm = 0, flags = 0;
  std::uint64_t auth = 0, aux = 0, hash_off = 0, hash_size = 0, desc_off = 0, desc_size = 0,
                rollback = 0;
  std::string release;
  [[nodiscard]] std::uint64_t span() const { return kHeader + auth + aux; }
};

/// [off, off+size) inside a block of `block` bytes, without overflow.
bool inside(std::uint64_t off, std::uint64_t size, std::uint64_t block) {
  return off <= block && size <= block - off;
}

std::optional<Header> parse(Bytes d) {
  if (d.size() < kHeader || !starts_with(d, "AVB0")) return std::nullopt;
  const auto u64 = [&](std::uint64_t off) { return *read_be<std::uint64_t>(d, off); };
  Header h;
  h.major = *read_be<std::uint32_t>(d, 4);
  h.minor = *read_be<std::uint32_t>(d, 8);
  h.auth = u64(12);
  h.aux = u64(20);
  h.algorithm = *read_be<std::uint32_t>(d, 28);
  h.hash_off = u64(32);
  h.hash_size = u64(40);
  h.desc_off = u64(96);
  h.desc_size = u64(104);
  h.rollback = u64(112);
  h.flags = *read_be<std::uint32_t>(d, 120);
  h.release = cstr(d, 128, 48);
  // libavb refuses a major version other than 1 and a blob over 64 KiB (its VBMETA_MAX_SIZE).
  if (h.major != 1 || h.auth % 64 != 0 || h.aux % 64 != 0) return std::nullopt;
  if (h.auth > kMaxAvbVbmetaBytes || h.aux > kMaxAvbVbmetaBytes || h.span() > kMaxAvbVbmetaBytes)
    return std::nullopt;
  if (h.algorithm >= kAlgorithms.size()) return std::nullopt;
  // Hash and signature in the authentication block; key, key metadata and descriptors in the
  // auxiliary block.
  if (!inside(h.hash_off, h.hash_size, h.auth) || !inside(u64(48), u64(56), h.auth) ||
      !inside(u64(64), u64(72), h.aux) || !inside(u64(80), u64(88), h.aux) ||
      !inside(h.desc_off, h.desc_size, h.aux))
    return std::nullopt;
  return h;
}

std::string describe(const Header& h) {
  return fmt::format("AVB vbmeta {}.{}, {}, rollback index {}, flags 0x{:x}{}{}", h.major, h.minor,
                     kAlgorithms[h.algorithm], h.rollback, h.flags, h.release.empty() ? "" : ", ",
                     h.release);
}

std::optional<Probe> probe(Bytes d) {
  auto h = parse(d);
  if (!h) return std::nullopt;
  return Probe{std::min<std::uint64_t>(h->span(), d.size()), describe(*h)};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto h = parse(d);
  if (!h) return fail("bad AVB vbmeta header", 0);
  if (d.size() < h->span())
    return fail(fmt::format("AVB vbmeta truncated: {} of {} bytes", d.size(), h->span()), d.size());
  const Bytes auth = sub(d, kHeader, h->auth), aux = sub(d, kHeader + h->auth, h->aux);
  // Descriptors: a 16-byte tag and length, the body padded to 8 bytes.
  std::array<std::uint64_t, 5> tags{};
  std::uint64_t unknown = 0, count = 0;
  const Bytes desc = sub(aux, h->desc_off, h->desc_size);
  for (std::uint64_t off = 0; off < desc.size();) {
    auto tag = read_be<std::uint64_t>(desc, off), len = read_be<std::uint64_t>(desc, off + 8);
    if (!tag || !len || *len % 8 != 0 || *len > desc.size() - off - 16) {
      sink.warn("format-error", "AVB vbmeta: a descriptor runs past the descriptor area", {},
                kHeader + h->auth + h->desc_off + off);
      break;
    }
    ++count;
    if (*tag < tags.size())
      ++tags[*tag];
    else
      ++unknown;
    off += 16 + *len;
  }
  sink.describe(fmt::format(
      "{}; {} descriptors ({} property, {} hashtree, {} hash, {} kernel cmdline, {} chain "
      "partition, {} unknown)",
      describe(*h), count, tags[0], tags[1], tags[2], tags[3], tags[4], unknown));
  // The hash covers the header and the auxiliary block.
  if (h->algorithm != 0) {
    const char* name = h->algorithm <= 3 ? "sha256" : "sha512";
    const std::uint64_t want = h->algorithm <= 3 ? 32 : 64;
    if (h->hash_size != want)
      sink.warn(
          "format-error",
          fmt::format("AVB vbmeta: a {}-byte hash for {}", h->hash_size, kAlgorithms[h->algorithm]),
          {}, kHeader + h->hash_off);
    else if (digest_of(name, {sub(d, 0, kHeader), aux}) != raw(sub(auth, h->hash_off, want)))
      sink.warn("crc-mismatch",
                "AVB vbmeta: the hash of the header and auxiliary block does not match", {},
                kHeader + h->hash_off);
  }
  return h->span();
}

}  // namespace

const Format kFormat_avb_vbmeta =
    make_format(kind::kFirmwareLeaf, "avb_vbmeta", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
