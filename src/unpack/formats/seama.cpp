// D-Link SEAMA images and DLOB (OpenWrt's seama.h; the same header): a sequence of entities, each
// a 12-byte big-endian header (magic 0x5EA3A417, reserved, metadata size, image size), a 16-byte
// MD5 of the image when the image size is not 0, the metadata ("dev=/dev/mtdblock/1\0type=
// firmware\0") and the image. A "seal" header with an image size of 0 (metadata only) may come
// first. Each image's MD5 is checked. The byte-swapped magic is read as little-endian.
#include <fmt/format.h>

#include "probity/limits.hpp"
#include "unpack/format.hpp"
#include "unpack/vendor.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"\x5e\xa3\xa4\x17", 0}, {"\x17\xa4\xa3\x5e", 0}};
constexpr std::string_view kDescription = "D-Link SEAMA / DLOB firmware (MD5 checked)";
constexpr std::uint64_t kHeader = 12;
/// Longest metadata accepted (the field is 16 bits).
/// The 16-bit field's range, a format fact, not a cap.
constexpr std::uint64_t kMaxMeta = 0xffff;

struct Entity {
  std::uint64_t at = 0, meta_size = 0, size = 0;
  [[nodiscard]] std::uint64_t data_at() const { return at + kHeader + (size ? 16 : 0) + meta_size; }
  [[nodiscard]] std::uint64_t end() const { return data_at() + size; }
};

std::optional<Entity> entity_at(Bytes d, std::uint64_t at, bool le) {
  const auto magic = le ? read_le<std::uint32_t>(d, at) : read_be<std::uint32_t>(d, at);
  if (magic != 0x5EA3A417u || d.size() - at < kHeader) return std::nullopt;
  Entity e;
  e.at = at;
  e.meta_size = le ? *read_le<std::uint16_t>(d, at + 6) : *read_be<std::uint16_t>(d, at + 6);
  e.size = le ? *read_le<std::uint32_t>(d, at + 8) : *read_be<std::uint32_t>(d, at + 8);
  if (e.meta_size > kMaxMeta) return std::nullopt;
  return e;
}

/// The metadata as text: NUL-separated "key=value" strings joined with spaces.
std::string meta_text(Bytes d, const Entity& e) {
  std::string s;
  const Bytes m = sub(d, e.at + kHeader + (e.size ? 16 : 0), e.meta_size);
  for (auto c : m) {
    if (c == 0) {
      if (!s.empty() && s.back() != ' ') s.push_back(' ');
    } else {
      s.push_back(c >= 0x20 && c < 0x7f ? char(c) : '?');
    }
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

std::optional<Probe> probe(Bytes d) {
  const bool le = starts_with(d, "\x17\xa4\xa3\x5e");
  auto e = entity_at(d, 0, le);
  // A seal (metadata only) or an entity: either holds something, and its metadata fits.
  if (!e || (e->size == 0 && e->meta_size == 0) || e->data_at() > d.size()) return std::nullopt;
  // A seal must be followed by an entity.
  if (e->size == 0 && !entity_at(d, e->end(), le)) return std::nullopt;
  // The metadata is NUL-separated text.
  for (auto c : sub(d, e->data_at() - e->meta_size, e->meta_size))
    if (c != 0 && (c < 0x20 || c > 0x7e) && c != '\n' && c != '\t') return std::nullopt;
  return Probe{0, fmt::format("SEAMA{}", le ? " (little-endian)" : "")};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  const bool le = starts_with(d, "\x17\xa4\xa3\x5e");
  std::uint64_t at = 0;
  std::uint32_t images = 0, n = 0;
  std::string first_meta;
  for (; n < kMaxSeamaEntities; ++n) {
    auto e = entity_at(d, at, le);
    if (!e) break;
    if (e->data_at() > d.size())
      return fail(fmt::format("SEAMA entity {} truncated in its header", n), at);
    const std::string meta = meta_text(d, *e);
    if (first_meta.empty()) first_meta = meta;
    if (e->size > 0) {
      const Bytes data = sub(d, e->data_at(), e->size);
      const bool cut = data.size() < e->size;
      if (!cut && digest_of("md5", {data}) != raw(sub(d, at + kHeader, 16)))
        sink.warn("crc-mismatch", fmt::format("SEAMA entity {} ({}): MD5 does not match", n, meta),
                  {}, at);
      if (auto st = sink.file(Entry{fmt::format("image{}.bin", images)}, data, cut); !st)
        return fail(st.error().message, at);
      ++images;
      if (cut)
        return fail(
            fmt::format("SEAMA entity {} truncated: {} bytes of {}", n, data.size(), e->size),
            d.size());
    }
    at = e->end();
  }
  sink.describe(fmt::format("SEAMA, {} entities, {} images{}{}", n, images,
                            first_meta.empty() ? "" : ": ", first_meta));
  if (n == kMaxSeamaEntities && entity_at(d, at, le))
    return fail(fmt::format("more than {} SEAMA entities: the rest not read", n), at);
  return at;
}

}  // namespace

const Format kFormat_seama =
    make_format(kind::kFirmwareHeader, "seama", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
