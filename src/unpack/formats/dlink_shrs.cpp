// D-Link SHRS firmware (DIR-3060 and relatives): a 1756-byte big-endian header "SHRS", the
// padded and unpadded payload sizes, an AES-CBC IV, SHA-512 digests of the decrypted image (with
// and without the key) and of the encrypted payload, and two 512-byte signatures; the encrypted
// payload follows. The digest of the encrypted payload is checked. The AES-128 key D-Link ships in
// these devices is public (unblob's SHRS handler): the payload is decrypted with it and kept only
// when the SHA-512 of the result matches the header's digest of the decrypted image — then it is
// written as `firmware.bin` and carved again. Otherwise (another key) the payload is reported as
// an `encrypted` region claimed by this format, never as understood.
#include <fmt/format.h>

#include "unpack/format.hpp"
#include "unpack/vendor.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"SHRS", 0}};
constexpr std::string_view kDescription =
    "D-Link SHRS (decrypted with the public key, SHA-512 checked)";
constexpr std::uint64_t kHeader = 0x6dc;
constexpr std::uint64_t kIv = 0x0c, kDecryptedDigest = 0x5c, kEncryptedDigest = 0x9c;
// The key of D-Link's SHRS images, as published (unblob's handler).
constexpr std::uint8_t kKey[16] = {0xc0, 0x5f, 0xbf, 0x19, 0x36, 0xc9, 0x94, 0x29,
                                   0xce, 0x2a, 0x07, 0x81, 0xf0, 0x8d, 0x6a, 0xd8};

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
  if (payload.size() < h->size) {
    sink.describe(fmt::format("D-Link SHRS, {} encrypted bytes (truncated)", h->size));
    sink.encrypted(kHeader, payload.size());
    return fail(fmt::format("SHRS truncated: {} of {} payload bytes", payload.size(), h->size),
                d.size());
  }
  if (digest_of("sha512", {sub(payload, 0, h->unpadded)}) != raw(sub(d, kEncryptedDigest, 64)))
    sink.warn("crc-mismatch", "SHRS: the SHA-512 of the encrypted payload does not match");
  // Decrypted in memory: no more than one output file may hold.
  if (h->size > sink.limits().max_file_bytes) {
    sink.describe(
        fmt::format("D-Link SHRS, {} encrypted bytes (not decrypted: over the file cap)", h->size));
    sink.warn("cap-file", "SHRS payload larger than max_file_bytes: not decrypted");
    sink.encrypted(kHeader, payload.size());
    return kHeader + h->size;
  }
  const auto plain = aes_cbc_decrypt(payload, Bytes(kKey, sizeof kKey), sub(d, kIv, 16));
  const Bytes image(plain.data(), std::min<std::size_t>(plain.size(), h->unpadded));
  if (plain.empty() || digest_of("sha512", {image}) != raw(sub(d, kDecryptedDigest, 64))) {
    sink.describe(fmt::format(
        "D-Link SHRS, {} encrypted bytes (not decrypted: the public key does not give the "
        "decrypted image's digest)",
        h->size));
    sink.encrypted(kHeader, payload.size());
    return kHeader + h->size;
  }
  sink.describe(fmt::format(
      "D-Link SHRS, {} encrypted bytes (AES-128-CBC, D-Link's public key: decrypted, SHA-512 "
      "of the image checked)",
      h->size));
  if (auto st = sink.file(Entry{"firmware.bin"}, image); !st && sink.exhausted())
    return fail_at(st.error(), kHeader);
  return kHeader + h->size;
}

}  // namespace

const Format kFormat_dlink_shrs =
    make_format(kind::kFirmwareHeader, "dlink_shrs", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
