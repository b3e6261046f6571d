// TP-Link firmware headers (OpenWrt's mktplinkfw and mktplinkfw2 layouts): a 512-byte big-endian
// header whose first byte is the header version. Version 1 (and 2 from mktplinkfw) carries the
// vendor name and firmware version strings, then at 0x4c an MD5 of the whole image; version 2/3
// from mktplinkfw2 carries a 48-byte version string and the MD5 at 0x40. Both then give the kernel
// load address and entry point, the image length, and the offsets and lengths of the kernel, the
// root filesystem and the bootloader. The MD5 is computed with its own field replaced by a fixed
// salt (one for images with a bootloader, one for those without); it is checked.
#include <fmt/format.h>

#include "unpack/format.hpp"
#include "unpack/vendor.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{std::string_view("\x01\0\0\0TP-LINK", 11), 0},
                             {std::string_view("\x02\0\0\0TP-LINK", 11), 0},
                             {std::string_view("\x01\0\0\0OpenWrt", 11), 0},
                             {std::string_view("\x02\0\0\0ver. ", 9), 0},
                             {std::string_view("\x03\0\0\0ver. ", 9), 0}};
constexpr std::string_view kDescription = "TP-Link firmware header v1/v2/v3 (MD5 checked)";
constexpr std::uint64_t kHeader = 0x200;

struct Layout {
  const char* name;
  std::uint64_t md5, kernel_la;  // fw_length and the offsets follow kernel_la
  std::uint8_t salt_normal[16], salt_boot[16];
};
// mktplinkfw (header v1, also v2) and mktplinkfw2 (v2/v3): where the fields are, and the salts.
constexpr Layout kV1{"v1",
                     0x4c,
                     0x74,
                     {0xdc, 0xd7, 0x3a, 0xa5, 0xc3, 0x95, 0x98, 0xfb, 0xdd, 0xf9, 0xe7, 0xf4, 0x0e,
                      0xae, 0x47, 0x38},
                     {0x8c, 0xef, 0x33, 0x5b, 0xd5, 0xc5, 0xce, 0xfa, 0xa7, 0x9c, 0x28, 0xda, 0xb2,
                      0xe9, 0x0f, 0x42}};
constexpr Layout kV2{"v2",
                     0x40,
                     0x68,
                     {0xdc, 0xd7, 0x3a, 0xa5, 0xc3, 0x95, 0x98, 0xfb, 0xdc, 0xf9, 0xe7, 0xf4, 0x0e,
                      0xae, 0x47, 0x37},
                     {0x8c, 0xef, 0x33, 0x5f, 0xd5, 0xc5, 0xce, 0xfa, 0xac, 0x9c, 0x28, 0xda, 0xb2,
                      0xe9, 0x0f, 0x42}};

struct Part {
  const char* name;
  std::uint64_t offset, length;
};

struct Header {
  const Layout* layout = nullptr;
  int version = 0;
  std::string fw_version;
  std::uint32_t kernel_la = 0, kernel_ep = 0;
  std::uint64_t length = 0;
  std::vector<Part> parts;  ///< kernel, rootfs, bootloader (those with a length)
};

std::optional<Header> parse_as(Bytes d, const Layout& l) {
  if (d.size() < kHeader) return std::nullopt;
  Header h;
  h.layout = &l;
  h.version = d[0];
  h.fw_version = &l == &kV1 ? cstr(d, 28, 36) : cstr(d, 4, 48);
  const std::uint64_t f = l.kernel_la;
  h.kernel_la = *read_be<std::uint32_t>(d, f);
  h.kernel_ep = *read_be<std::uint32_t>(d, f + 4);
  h.length = *read_be<std::uint32_t>(d, f + 8);
  if (h.length <= kHeader) return std::nullopt;
  const Part parts[] = {
      {"kernel", *read_be<std::uint32_t>(d, f + 12), *read_be<std::uint32_t>(d, f + 16)},
      {"rootfs", *read_be<std::uint32_t>(d, f + 20), *read_be<std::uint32_t>(d, f + 24)},
      {"bootloader", *read_be<std::uint32_t>(d, f + 28), *read_be<std::uint32_t>(d, f + 32)}};
  for (const Part& p : parts) {
    if (p.length == 0) continue;
    if (p.offset + p.length > h.length) return std::nullopt;  // a partition outside the image
    h.parts.push_back(p);
  }
  // A kernel inside the image, after the header, is what every layout has.
  if (parts[0].length == 0 || parts[0].offset < kHeader) return std::nullopt;
  return h;
}

/// The MD5 the header should carry: over the image with the MD5 field replaced by the salt.
bool md5_ok(Bytes image, const Header& h) {
  const Layout& l = *h.layout;
  bool boot = false;
  for (const Part& p : h.parts) boot |= std::string_view(p.name) == "bootloader";
  const Bytes salt(boot ? l.salt_boot : l.salt_normal, 16);
  return digest_of("md5", {sub(image, 0, l.md5), salt, sub(image, l.md5 + 16)}) ==
         raw(sub(image, l.md5, 16));
}

/// The layout that fits: with `md5_checked`, the one whose MD5 holds (which it sets), else the
/// first one whose fields are sane. (The probe does not hash: a flood of fake headers would.)
std::optional<Header> parse(Bytes d, bool* md5_checked = nullptr) {
  if (d.size() < kHeader || d[1] || d[2] || d[3] || d[0] < 1 || d[0] > 3) return std::nullopt;
  std::optional<Header> first;
  for (const Layout* l : {&kV1, &kV2}) {
    if ((l == &kV1 && d[0] == 3) || (l == &kV2 && d[0] == 1)) continue;
    auto h = parse_as(d, *l);
    if (!h) continue;
    if (md5_checked && d.size() >= h->length && md5_ok(sub(d, 0, h->length), *h)) {
      *md5_checked = true;
      return h;
    }
    if (!first) first = h;
  }
  if (md5_checked) *md5_checked = false;
  return first;
}

std::string describe(const Header& h) {
  return fmt::format(
      "TP-Link firmware header {} (layout {}), \"{}\", {} bytes, kernel load 0x{:x}"
      " entry 0x{:x}",
      h.version, h.layout->name, h.fw_version, h.length, h.kernel_la, h.kernel_ep);
}

std::optional<Probe> probe(Bytes d) {
  auto h = parse(d);
  if (!h) return std::nullopt;
  return Probe{std::min<std::uint64_t>(h->length, d.size()), describe(*h)};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  bool checked = false;
  auto h = parse(d, &checked);
  if (!h) return fail("bad TP-Link header", 0);
  sink.describe(describe(*h));
  const Bytes image = sub(d, 0, h->length);
  if (image.size() < h->length)
    sink.warn("format-error", fmt::format("TP-Link image truncated: the header says {} bytes, {} "
                                          "present",
                                          h->length, image.size()));
  else if (!checked)
    sink.warn("crc-mismatch", "TP-Link header MD5 does not match the image (modified image?)");
  for (const Part& p : h->parts) {
    const Bytes part = sub(image, p.offset, p.length);
    if (auto st = sink.file(Entry{p.name}, part, part.size() < p.length); !st)
      return fail(st.error().message, p.offset);
  }
  return image.size();
}

}  // namespace

const Format kFormat_tplink =
    make_format(kind::kFirmwareHeader, "tplink", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
