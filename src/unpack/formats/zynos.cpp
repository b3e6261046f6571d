// ZyXEL ZyNOS firmware objects (ZyXEL and ZyNOS-licensed routers and switches: P-334/P-335,
// P-660/P-2602, NBG, GS1920...), as OpenWrt's firmware-utils (zynos.h, mkzynfw.c, after Kolja
// Waschk's notes) describe them: each object starts with a 48-byte big-endian "ROM-IO" header —
// load address, 2 unused bytes, "SIG", the object type (1 ROMIMG, 2 ROMBOOT, 3 BOOTEXT, 4 ROMBIN,
// 5 ROMDIR, 6, 7 ROMMAP, 0x80-0x82 RAM objects), the original and the compressed size, flags
// (0x80 compressed, 0x40 original checksum valid, 0x20 compressed checksum valid), the two
// checksums, a 15-byte version, the memory-map address — then the object's data: `csize` bytes
// when compressed, else `osize`. A firmware update is a BOOTEXT object whose data (the rest of the
// image) holds the boot extension code, the memory map and ROMBIN objects (the default
// configuration "RomDefa", the system "RasCode", LZMA-compressed).
//
// The checksum is mkzynfw's: the 16-bit big-endian words summed with end-around carry (a last
// odd byte as a high byte), not complemented. Checked: the compressed checksum over the stored
// data, the original checksum over uncompressed data; a mismatch is a `crc-mismatch` warning.
// The data is written as one file named after the type and the version and carved again (the
// objects inside a BOOTEXT, their LZMA streams). Written by hand: no Debian tool reads ZyNOS.
#include <fmt/format.h>

#include "unpack/format.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"SIG", 6}};
constexpr std::string_view kDescription = "ZyXEL ZyNOS firmware object (ROM-IO \"SIG\" header)";
constexpr std::uint64_t kHeader = 48;
constexpr std::uint8_t kCompressed = 0x80, kOriginalSum = 0x40, kCompressedSum = 0x20;

struct Object {
  std::uint32_t load = 0, osize = 0, csize = 0, mmap = 0;
  std::uint8_t type = 0, flags = 0;
  std::uint16_t ocsum = 0, ccsum = 0;
  std::string version;
  [[nodiscard]] std::uint64_t data() const { return flags & kCompressed ? csize : osize; }
};

std::string_view type_name(std::uint8_t t) {
  switch (t) {
    case 0x01:
      return "romimg";
    case 0x02:
      return "romboot";
    case 0x03:
      return "bootext";
    case 0x04:
      return "rombin";
    case 0x05:
      return "romdir";
    case 0x06:
      return "object6";
    case 0x07:
      return "rommap";
    case 0x80:
      return "ram";
    case 0x81:
      return "ramcode";
    case 0x82:
      return "ramboot";
    default:
      return {};
  }
}

std::optional<Object> parse(Bytes d) {
  if (d.size() < kHeader || !starts_with(d, "SIG", 6)) return std::nullopt;
  Object o;
  o.load = *read_be<std::uint32_t>(d, 0);
  o.type = d[9];
  o.osize = *read_be<std::uint32_t>(d, 10);
  o.csize = *read_be<std::uint32_t>(d, 14);
  o.flags = d[18];
  o.ocsum = *read_be<std::uint16_t>(d, 20);
  o.ccsum = *read_be<std::uint16_t>(d, 22);
  o.mmap = *read_be<std::uint32_t>(d, 39);
  if (type_name(o.type).empty() || o.data() == 0) return std::nullopt;
  // A compressed checksum without compression, or compressed data larger than the original by
  // more than a header's worth, is no header mkzynfw writes.
  if ((o.flags & kCompressedSum) && !(o.flags & kCompressed)) return std::nullopt;
  if ((o.flags & kCompressed) && o.csize > std::uint64_t(o.osize) + 4096) return std::nullopt;
  // The version: printable text, then NULs (or nothing at all).
  bool ended = false;
  for (std::uint8_t c : sub(d, 24, 15)) {
    if (c == 0) {
      ended = true;
      continue;
    }
    if (ended || c < 0x20 || c > 0x7e) return std::nullopt;
    o.version.push_back(char(c));
  }
  return o;
}

/// mkzynfw's checksum of `b`.
std::uint16_t zynos_sum(Bytes b) {
  std::uint32_t sum = 0;
  auto add = [&sum](std::uint32_t word) {
    sum += word;
    if (sum > 0xffff) sum = (sum + 1) & 0xffff;
  };
  std::uint64_t i = 0;
  for (; i + 1 < b.size(); i += 2) add(std::uint32_t(b[i]) << 8 | b[i + 1]);
  if (i < b.size()) add(std::uint32_t(b[i]) << 8);
  return std::uint16_t(sum);
}

std::string describe(const Object& o) {
  return fmt::format("ZyNOS {} object \"{}\", load 0x{:08x}, {} {} bytes{}", type_name(o.type),
                     o.version, o.load, o.flags & kCompressed ? "compressed" : "plain", o.data(),
                     o.flags & kCompressed ? fmt::format(" ({} uncompressed)", o.osize) : "");
}

std::optional<Probe> probe(Bytes d) {
  auto o = parse(d);
  if (!o) return std::nullopt;
  return Probe{std::min<std::uint64_t>(kHeader + o->data(), d.size()), describe(*o)};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto o = parse(d);
  if (!o) return fail("bad ZyNOS object header", 0);
  const Bytes data = sub(d, kHeader, o->data());
  const bool whole = data.size() == o->data();
  std::string checked;
  if (whole) {
    // Which checksum covers the stored bytes: the compressed one, or the original one of
    // uncompressed data (that of compressed data needs the decompressed bytes: not checked).
    const bool has =
        o->flags & kCompressed ? (o->flags & kCompressedSum) != 0 : (o->flags & kOriginalSum) != 0;
    const std::uint16_t want = o->flags & kCompressed ? o->ccsum : o->ocsum;
    if (has) {
      const std::uint16_t got = zynos_sum(data);
      checked = got == want ? ", checksum ok" : "";
      if (got != want)
        sink.warn("crc-mismatch",
                  fmt::format("ZyNOS {} checksum 0x{:04x}, computed 0x{:04x} (modified image?)",
                              type_name(o->type), want, got));
    }
  }
  sink.describe(describe(*o) + checked);
  std::string name = std::string(type_name(o->type));
  if (!o->version.empty()) name += "-" + o->version;
  name = safe_file_name(name, "object") + ".bin";
  if (auto st = sink.file(Entry{name}, data, !whole); !st && sink.exhausted())
    return fail_at(st.error(), kHeader);
  if (!whole)
    return fail(fmt::format("ZyNOS object truncated: {} of {} data bytes", data.size(), o->data()),
                d.size());
  return kHeader + o->data();
}

}  // namespace

const Format kFormat_zynos =
    make_format(kind::kFirmwareHeader, "zynos", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
