// D-Link "encrpted_img" (sic) firmware (DIR-X series): a 16-byte header, the magic "encrpted_img"
// and the big-endian payload size, then the payload, AES-256-CBC encrypted. unblob's and
// fact_extractor's readers publish the key and IV D-Link's firmware uses; the plaintext of a
// real image is a UBI image whose every 128 KiB erase block starts with the UBI erase-counter
// header, of which the first 16 bytes (`UBI#`, version 1, erase count 0) are restored after
// decryption as those readers do. Decrypted with that key, the payload counts as decrypted only
// when it starts with a UBI header or reads as data (entropy below kEncryptedEntropy; text, when
// too short for entropy to tell); otherwise another key was used and the payload is an
// `encrypted` region, never understood.
#include <fmt/format.h>

#include <algorithm>

#include "probity/artifact.hpp"
#include "unpack/format.hpp"
#include "unpack/vendor.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"encrpted_img", 0}};
constexpr std::string_view kDescription = "D-Link encrpted_img (decrypted with D-Link's key)";
constexpr std::uint64_t kHeader = 16;

/// Whether a plaintext that is no UBI image still reads as data and not as noise: entropy below
/// kEncryptedEntropy over its first MiB, or, under 4 KiB (too short for entropy to tell), text.
bool plausible(Bytes plain) {
  if (plain.size() >= 4096)
    return entropy(sub(plain, 0, std::uint64_t(1) << 20)) < kEncryptedEntropy;
  const auto text = std::count_if(plain.begin(), plain.end(), [](std::uint8_t c) {
    return (c >= 0x20 && c < 0x7f) || c == '\n' || c == '\r' || c == '\t';
  });
  return !plain.empty() && std::uint64_t(text) * 10 >= plain.size() * 9;
}

/// The payload decrypted with D-Link's published key and IV (empty when the cipher fails); when
/// it is a UBI image, the first 16 bytes of every erase block after the first are restored.
std::vector<std::uint8_t> decrypt(Bytes payload) {
  static constexpr std::uint8_t kKey[] = "he9-4+M!)d6=m~we1,q2a3d1n&2*Z^%8";
  static constexpr std::uint8_t kIv[] = "J%1iQl8$=lm-;8AE";
  static constexpr std::uint8_t kUbiHead[16] = {'U', 'B', 'I', '#', 1};
  constexpr std::uint64_t kEraseBlock = 0x20000;
  auto plain =
      aes_cbc_decrypt(sub(payload, 0, payload.size() / 16 * 16), Bytes(kKey, 32), Bytes(kIv, 16));
  if (starts_with(Bytes(plain.data(), plain.size()), "UBI#"))
    for (std::uint64_t at = kEraseBlock; at + sizeof kUbiHead <= plain.size(); at += kEraseBlock)
      std::copy(std::begin(kUbiHead), std::end(kUbiHead), plain.begin() + at);
  return plain;
}

std::optional<Probe> probe(Bytes d) {
  if (!starts_with(d, "encrpted_img") || d.size() < kHeader) return std::nullopt;
  const std::uint64_t size = *read_be<std::uint32_t>(d, 12);
  // AES-CBC: whole 16-byte blocks.
  if (size == 0 || size % 16 != 0) return std::nullopt;
  return Probe{std::min<std::uint64_t>(kHeader + size, d.size()),
               fmt::format("D-Link encrpted_img, {} encrypted bytes", size)};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto p = probe(d);
  if (!p) return fail("bad encrpted_img header", 0);
  const std::uint64_t size = *read_be<std::uint32_t>(d, 12);
  const Bytes payload = sub(d, kHeader, p->length - kHeader);
  auto encrypted = [&](const char* why) {
    sink.describe(fmt::format("{} (not decrypted: {})", p->description, why));
    sink.encrypted(kHeader, payload.size());
  };
  if (payload.size() > sink.limits().max_file_bytes) {
    sink.warn("cap-file", "encrpted_img payload larger than max_file_bytes: not decrypted");
    encrypted("over the file cap");
  } else if (auto plain = decrypt(payload); plain.empty()) {
    encrypted("the cipher failed");
  } else {
    const bool ubi = starts_with(Bytes(plain.data(), plain.size()), "UBI#");
    if (!ubi && !plausible(Bytes(plain.data(), plain.size()))) {
      encrypted("D-Link's published key does not give a UBI image or low-entropy data");
    } else {
      sink.describe(fmt::format("{} (AES-256-CBC, D-Link's published key: decrypted{})",
                                p->description, ubi ? ", a UBI image" : ""));
      if (auto st = sink.file(Entry{"firmware.bin"}, Bytes(plain.data(), plain.size()),
                              p->length < kHeader + size);
          !st && sink.exhausted())
        return fail_at(st.error(), kHeader);
    }
  }
  if (p->length < kHeader + size)
    return fail(
        fmt::format("encrpted_img truncated: {} of {} payload bytes", p->length - kHeader, size),
        p->length);
  return p->length;
}

}  // namespace

const Format kFormat_dlink_encrpted_img =
    make_format(kind::kFirmwareHeader, "dlink_encrpted_img", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
