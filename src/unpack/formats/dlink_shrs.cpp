// D-Link SHRS firmware (DIR-3060 and relatives): a 1756-byte big-endian header "SHRS", the
// padded and unpadded payload sizes, an AES-CBC IV, SHA-512 digests of the decrypted image (with
// and without the key) and of the encrypted payload, and two 512-byte signatures; the encrypted
// payload follows. The digest of the encrypted payload is checked. probity does not decrypt: the
// payload is reported as an `encrypted` region claimed by this format, never as understood.
#include <fmt/format.h>

#include "unpack/format.hpp"
#include "unpack/vendor.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"SHRS", 0}};
constexpr std::uint64_t kHeader = 0x6dc;
constexpr std::uint64_t kEncryptedDigest = 0x9c;

struct Header {
  std::uint64_t size = 0, unpadded = 0;
};

std::optional<Header> parse(Bytes d) {
  if (!starts_with(d, "SHRS") || d.size() < kHeader) return std::nullopt;
  Header h{*read_be<std::uint32_t>(d, 4), *read_be<std::uint32_t>(d, 8)};
  // AES-CBC: whole 16-byte blocks, the padding under one block.
  if (h.size == 0 || h.size % 16 != 0 || h.unpadded > h.size || h.size - h.unpadded > 16)
    return std::nullopt;
  return h;
}

std::optional<Probe> probe(Bytes d) {
  auto h = parse(d);
  if (!h) return std::nullopt;
  return Probe{std::min<std::uint64_t>(kHeader + h->size, d.size()),
               fmt::format("D-Link SHRS, {} encrypted bytes", h->size)};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto h = parse(d);
  if (!h) return fail("bad SHRS header", 0);
  const Bytes payload = sub(d, kHeader, h->size);
  sink.describe(fmt::format("D-Link SHRS, {} encrypted bytes (not decrypted)", h->size));
  sink.encrypted(kHeader, payload.size());
  if (payload.size() < h->size)
    return fail(fmt::format("SHRS truncated: {} of {} payload bytes", payload.size(), h->size),
                d.size());
  if (digest_of("sha512", {sub(payload, 0, h->unpadded)}) != raw(sub(d, kEncryptedDigest, 64)))
    sink.warn("crc-mismatch", "SHRS: the SHA-512 of the encrypted payload does not match");
  return kHeader + h->size;
}

}  // namespace

const Format kFormat_dlink_shrs{.id = "dlink_shrs",
                                .description = "D-Link SHRS (SHA-512 checked, reported encrypted)",
                                .magics = kMagics,
                                .carve = Carve::kAnyOffset,
                                .output = Output::kLeaf,
                                .family = Family::kFirmware,
                                .probe = probe,
                                .extract = extract};

}  // namespace probity::unpacker
