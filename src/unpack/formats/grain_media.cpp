// Grain Media GM812x (IP camera SoC) kernel images, as FACT's gm8126 unpacker describes them: a
// 256-byte header - the magic 0x80 "ZGM", four zero bytes, the payload size (big-endian 32-bit),
// four more bytes, an image name (NUL-padded text) - then the payload. The header carries no
// checksum: the magic, the zero bytes, a printable name and a size that is not zero must agree;
// a size past the end truncates the payload (a warning, the container incomplete).
#include <fmt/format.h>

#include "unpack/format.hpp"

namespace probity::unpacker {
namespace {

using namespace std::string_view_literals;
constexpr Magic kMagics[] = {{"\x80ZGM\0\0\0\0"sv, 0}};
constexpr std::string_view kDescription = "Grain Media GM812x camera kernel image";
constexpr std::uint64_t kHeader = 0x100;

struct Header {
  std::uint32_t size = 0;
  std::string name;
  [[nodiscard]] std::string summary() const {
    return fmt::format("Grain Media GM812x image \"{}\", {} bytes", name, size);
  }
};

std::optional<Header> parse(Bytes d) {
  if (d.size() < kHeader || !starts_with(d, "\x80ZGM\0\0\0\0"sv)) return std::nullopt;
  Header h;
  h.size = *read_be<std::uint32_t>(d, 8);
  h.name = cstr(d, 0x10, 0x40);
  if (h.size == 0) return std::nullopt;
  for (char c : h.name)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f)
      return std::nullopt;
  return h;
}

std::optional<Probe> probe(Bytes d) {
  auto h = parse(d);
  if (!h) return std::nullopt;
  return Probe{std::min<std::uint64_t>(kHeader + h->size, d.size()), h->summary()};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto h = parse(d);
  if (!h) return fail("bad Grain Media header", 0);
  const Bytes payload = sub(d, kHeader, h->size);
  const bool cut = payload.size() < h->size;
  sink.describe(h->summary());
  if (auto st = sink.file(Entry{"kernel.img"}, payload, cut); !st)
    return fail(st.error().message, kHeader);
  if (cut)
    return fail(
        fmt::format("Grain Media payload truncated: {} of {} bytes", payload.size(), h->size),
        d.size());
  return kHeader + h->size;
}

}  // namespace

const Format kFormat_grain_media =
    make_format(kind::kFirmwareHeader, "grain_media", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
