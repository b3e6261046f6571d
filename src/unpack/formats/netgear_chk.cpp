// Netgear CHK firmware (OpenWrt's mkchkimg layout): a big-endian header "*#$^", its length
// (40 bytes plus the board id string that follows), region and reserved bytes, checksums of the
// kernel, the root filesystem, the whole image and the header, then the kernel and root
// filesystem lengths; the kernel (often a TRX) and the root filesystem follow the header. The
// checksums are Netgear's (a Fletcher-style pair of 16-bit sums); all four are checked.
#include <fmt/format.h>

#include "probity/limits.hpp"
#include "unpack/format.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"*#$^", 0}};
constexpr std::string_view kDescription = "Netgear CHK firmware (all four checksums checked)";
constexpr std::uint64_t kFixed = 40;

struct Sum {
  // 32-bit sums that wrap, as mkchkimg's do.
  std::uint32_t c0 = 0, c1 = 0;
  void add(Bytes b) {
    for (auto c : b) {
      c0 += c;
      c1 += c0;
    }
  }
  [[nodiscard]] std::uint32_t value() const {
    // Each sum folded to 16 bits twice.
    auto fold = [](std::uint32_t x) {
      const std::uint32_t b = (x & 0xffff) + (x >> 16);
      return ((b >> 16) + b) & 0xffff;
    };
    return (fold(c1) << 16) | fold(c0);
  }
};

struct Header {
  std::uint64_t header_len = 0, kernel_len = 0, rootfs_len = 0;
  std::uint32_t kernel_sum = 0, rootfs_sum = 0, image_sum = 0, header_sum = 0;
  std::string board;
  [[nodiscard]] std::uint64_t length() const { return header_len + kernel_len + rootfs_len; }
};

std::optional<Header> parse(Bytes d) {
  if (!starts_with(d, "*#$^") || d.size() < kFixed) return std::nullopt;
  Header h;
  h.header_len = *read_be<std::uint32_t>(d, 4);
  h.kernel_sum = *read_be<std::uint32_t>(d, 16);
  h.rootfs_sum = *read_be<std::uint32_t>(d, 20);
  h.kernel_len = *read_be<std::uint32_t>(d, 24);
  h.rootfs_len = *read_be<std::uint32_t>(d, 28);
  h.image_sum = *read_be<std::uint32_t>(d, 32);
  h.header_sum = *read_be<std::uint32_t>(d, 36);
  if (h.header_len < kFixed || h.header_len > kFixed + kMaxChkBoardIdBytes ||
      h.header_len > d.size() || h.kernel_len == 0)
    return std::nullopt;
  for (std::uint64_t i = kFixed; i < h.header_len; ++i) {
    const auto c = d[i];
    if (c < 0x20 || c > 0x7e) return std::nullopt;  // the board id is printable text
    h.board.push_back(char(c));
  }
  return h;
}

/// The header checksum: over the header with its own field zeroed, then the board id.
std::uint32_t header_sum(Bytes d, const Header& h) {
  std::uint8_t fixed[kFixed];
  std::copy_n(d.begin(), kFixed, fixed);
  std::fill_n(fixed + 36, 4, 0);
  Sum s;
  s.add(Bytes(fixed, kFixed));
  s.add(sub(d, kFixed, h.header_len - kFixed));
  return s.value();
}

std::optional<Probe> probe(Bytes d) {
  auto h = parse(d);
  if (!h || header_sum(d, *h) != h->header_sum) return std::nullopt;
  return Probe{std::min<std::uint64_t>(h->length(), d.size()),
               fmt::format("Netgear CHK, board \"{}\"", h->board)};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto h = parse(d);
  if (!h) return fail("bad CHK header", 0);
  sink.describe(fmt::format("Netgear CHK, board \"{}\", kernel {} bytes, rootfs {} bytes", h->board,
                            h->kernel_len, h->rootfs_len));
  if (header_sum(d, *h) != h->header_sum)
    sink.warn("crc-mismatch", "CHK header checksum does not match");
  const Bytes kernel = sub(d, h->header_len, h->kernel_len);
  const Bytes rootfs = sub(d, h->header_len + h->kernel_len, h->rootfs_len);
  const bool cut = kernel.size() + rootfs.size() < h->kernel_len + h->rootfs_len;
  if (cut) {
    sink.warn("format-error",
              fmt::format("CHK image truncated: {} bytes of {}", d.size(), h->length()));
  } else {
    Sum k, r, all;
    k.add(kernel);
    r.add(rootfs);
    all.add(kernel);
    all.add(rootfs);
    const std::pair<const char*, bool> checks[] = {
        {"kernel", k.value() == h->kernel_sum},
        {"rootfs", h->rootfs_len == 0 || r.value() == h->rootfs_sum},
        {"image", all.value() == h->image_sum}};
    for (const auto& [what, ok] : checks)
      if (!ok) sink.warn("crc-mismatch", fmt::format("CHK {} checksum does not match", what));
  }
  if (auto st = sink.file(Entry{"kernel"}, kernel, kernel.size() < h->kernel_len); !st)
    return fail(st.error().message, h->header_len);
  if (h->rootfs_len > 0)
    if (auto st = sink.file(Entry{"rootfs"}, rootfs, rootfs.size() < h->rootfs_len); !st)
      return fail(st.error().message, h->header_len + h->kernel_len);
  return std::min<std::uint64_t>(h->length(), d.size());
}

}  // namespace

const Format kFormat_netgear_chk =
    make_format(kind::kFirmwareHeader, "netgear_chk", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
