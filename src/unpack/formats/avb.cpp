// Android Verified Boot 2.0 footers (AOSP external/avb's avb_footer.h): the last 64 bytes of a
// partition image that avbtool add_hash_footer / add_hashtree_footer signed: "AVBf", version
// 1.x, the size of the original image (which starts the partition), and the offset and size of
// the vbmeta blob ("AVB0", avb_vbmeta.cpp) that follows it, all big-endian. The footer sits at
// the end, so the format is looked for at the start of a blob or file and checks the blob's last
// 64 bytes (an empty magic: every blob's start is a candidate, the probe reads 64 bytes). The
// original image and the vbmeta blob are written as their own files and carved again; a hash
// tree and FEC data between them (add_hashtree_footer) are counted, not checked.
#include <fmt/format.h>

#include "probity/limits.hpp"
#include "unpack/format.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"", 0}};
constexpr std::string_view kDescription = "Android Verified Boot footer (partition image + vbmeta)";
constexpr std::uint64_t kFooter = 64, kVbmetaHeader = 256;

struct Footer {
  std::uint32_t major = 0, minor = 0;
  std::uint64_t image = 0, vbmeta_off = 0, vbmeta_size = 0;
};

std::optional<Footer> parse_footer(Bytes f) {
  if (f.size() != kFooter || !starts_with(f, "AVBf")) return std::nullopt;
  Footer h{*read_be<std::uint32_t>(f, 4), *read_be<std::uint32_t>(f, 8),
           *read_be<std::uint64_t>(f, 12), *read_be<std::uint64_t>(f, 20),
           *read_be<std::uint64_t>(f, 28)};
  // avbtool writes 1.0; libavb refuses another major version and a vbmeta over 64 KiB. The vbmeta
  // follows the original image (and its hash tree).
  if (h.major != 1 || h.vbmeta_size < kVbmetaHeader || h.vbmeta_size > kMaxAvbVbmetaBytes ||
      h.vbmeta_off < h.image)
    return std::nullopt;
  return h;
}

/// The footer of `d`, when `d` is a whole partition (image, vbmeta, footer inside it) or the
/// 64-byte footer alone (`alone`).
std::optional<Footer> parse(Bytes d, bool& alone) {
  if (d.size() < kFooter) return std::nullopt;
  auto h = parse_footer(sub(d, d.size() - kFooter));
  if (!h) return std::nullopt;
  alone = d.size() == kFooter;
  if (alone) return h;
  const std::uint64_t body = d.size() - kFooter;
  if (h->vbmeta_off > body || h->vbmeta_size > body - h->vbmeta_off) return std::nullopt;
  if (!starts_with(d, "AVB0", h->vbmeta_off)) return std::nullopt;
  return h;
}

std::string describe(const Footer& h) {
  return fmt::format("AVB footer {}.{}, original image {} bytes, vbmeta {} bytes at 0x{:x}",
                     h.major, h.minor, h.image, h.vbmeta_size, h.vbmeta_off);
}

std::optional<Probe> probe(Bytes d) {
  bool alone = false;
  auto h = parse(d, alone);
  if (!h) return std::nullopt;
  return Probe{d.size(), describe(*h)};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  bool alone = false;
  auto h = parse(d, alone);
  if (!h) return fail("bad AVB footer", d.size() < kFooter ? 0 : d.size() - kFooter);
  if (alone) {
    sink.describe(describe(*h) + "; the footer alone, the partition it ends is not here");
    sink.warn("format-warning",
              fmt::format("AVB footer without its partition: the {}-byte image and the vbmeta "
                          "it describes are not in this file",
                          h->image),
              {}, 0);
    return d.size();
  }
  const std::uint64_t verity = h->vbmeta_off - h->image;
  sink.describe(
      describe(*h) +
      (verity ? fmt::format("; {} bytes of hash tree/FEC (not checked)", verity) : std::string()));
  if (h->image > 0)
    if (auto st = sink.file(Entry{"image", EntryType::kFile, 0644}, sub(d, 0, h->image));
        !st && sink.exhausted())
      return fail_at(st.error(), 0);
  if (auto st =
          sink.file(Entry{"vbmeta", EntryType::kFile, 0644}, sub(d, h->vbmeta_off, h->vbmeta_size));
      !st && sink.exhausted())
    return fail_at(st.error(), h->vbmeta_off);
  return d.size();
}

}  // namespace

const Format kFormat_avb =
    make_format(kind::kFirmwareAtStart, "avb", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
