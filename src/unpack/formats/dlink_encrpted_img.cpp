// D-Link "encrpted_img" (sic) firmware: a 16-byte header, the magic "encrpted_img" and the
// big-endian payload size, then the payload, AES-CBC encrypted with a per-family key. probity
// does not decrypt: the payload is reported as an `encrypted` region claimed by this format,
// never as understood.
#include <fmt/format.h>

#include "unpack/format.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"encrpted_img", 0}};
constexpr std::string_view kDescription = "D-Link encrpted_img (reported encrypted)";
constexpr std::uint64_t kHeader = 16;

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
  sink.describe(p->description + " (not decrypted)");
  sink.encrypted(kHeader, p->length - kHeader);
  if (p->length < kHeader + size)
    return fail(
        fmt::format("encrpted_img truncated: {} of {} payload bytes", p->length - kHeader, size),
        p->length);
  return p->length;
}

}  // namespace

const Format kFormat_dlink_encrpted_img =
    make_format(kind::kFirmwareLeaf, "dlink_encrpted_img", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
