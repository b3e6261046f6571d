// DrayTek Vigor firmware containers (Vigor 167 and the other Linux-based Vigor modems; layout as
// fkie-cad/fact_extractor's DrayTek plugin describes it, and as the public test image has it): a
// 256-byte big-endian header — the magic "2RDH", the header size (256), the size of the whole
// file including its footer, a 32-bit checksum, 64 reserved bytes, the kernel's and the
// squashfs root filesystem's sizes, reserved bytes and two unknown flag bytes — then the kernel,
// the root filesystem, and a footer: "DrayTekImageMD5\n" and 33 bytes of hex text.
//
// The header's checksum and the footer's MD5 are not plain CRC-32 or MD5 of any byte range of
// the public test image (every range was tried), so neither is checked; what is checked is the
// layout itself: the header size, the parts inside the stated file size, the footer magic right
// after the parts. The two parts are written as files ("kernel", "rootfs") and carved again.
#include <fmt/format.h>

#include "unpack/format.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"2RDH", 0}};
constexpr std::string_view kDescription = "DrayTek Vigor firmware (2RDH header, sizes checked)";
constexpr std::uint64_t kHeader = 256, kFooter = 49;
constexpr std::string_view kFooterMagic = "DrayTekImageMD5\n";

struct Header {
  std::uint64_t total = 0, kernel = 0, rootfs = 0;
  std::uint32_t checksum = 0;
  bool footer = false;        // the footer magic follows the parts
  std::string footer_digest;  // its hex text, as stated
};

std::optional<Header> parse(Bytes d) {
  if (d.size() < kHeader || !starts_with(d, "2RDH")) return std::nullopt;
  if (*read_be<std::uint32_t>(d, 4) != kHeader) return std::nullopt;
  Header h;
  h.total = *read_be<std::uint32_t>(d, 8);
  h.checksum = *read_be<std::uint32_t>(d, 12);
  h.kernel = *read_be<std::uint32_t>(d, 80);
  h.rootfs = *read_be<std::uint32_t>(d, 84);
  // The parts and the footer lie inside the stated size (32-bit fields: no overflow in 64 bits).
  if (h.kernel + h.rootfs == 0 || kHeader + h.kernel + h.rootfs + kFooter > h.total)
    return std::nullopt;
  const std::uint64_t foot = kHeader + h.kernel + h.rootfs;
  h.footer = starts_with(d, kFooterMagic, foot);
  if (h.footer) h.footer_digest = cstr(d, foot + kFooterMagic.size(), 32);
  // Without the footer in view (a truncated image), the header alone must be plausible: the
  // reserved bytes it has are zero.
  if (!h.footer && d.size() >= foot + kFooter) return std::nullopt;
  for (std::uint64_t off = 16; off < 80; ++off)
    if (d[off] != 0) return std::nullopt;
  return h;
}

std::optional<Probe> probe(Bytes d) {
  auto h = parse(d);
  if (!h) return std::nullopt;
  return Probe{std::min<std::uint64_t>(h->total, d.size()),
               fmt::format("DrayTek Vigor firmware, kernel {} bytes, root filesystem {} bytes",
                           h->kernel, h->rootfs)};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto h = parse(d);
  if (!h) return fail("bad DrayTek header", 0);
  sink.describe(fmt::format(
      "DrayTek Vigor firmware, {} bytes, kernel {} bytes, root filesystem {} bytes, checksum "
      "{:#010x} and footer MD5 {} (not checked: their coverage is not public)",
      h->total, h->kernel, h->rootfs, h->checksum,
      h->footer ? "\"" + h->footer_digest + "\"" : std::string("absent")));
  const Bytes kernel = sub(d, kHeader, h->kernel);
  const Bytes rootfs = sub(d, kHeader + h->kernel, h->rootfs);
  const bool kernel_cut = kernel.size() < h->kernel, rootfs_cut = rootfs.size() < h->rootfs;
  if (kernel_cut || rootfs_cut || !h->footer)
    sink.warn("format-error",
              fmt::format("DrayTek image truncated: {} bytes of {}", d.size(), h->total));
  if (h->kernel)
    if (auto st = sink.file(Entry{"kernel"}, kernel, kernel_cut); !st)
      return fail(st.error().message, 0);
  if (h->rootfs)
    if (auto st = sink.file(Entry{"rootfs"}, rootfs, rootfs_cut); !st)
      return fail(st.error().message, kHeader + h->kernel);
  return std::min<std::uint64_t>(h->total, d.size());
}

}  // namespace

const Format kFormat_draytek =
    make_format(kind::kFirmwareHeader, "draytek", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
