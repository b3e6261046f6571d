// Linksys/Cisco (Cybertan) code-pattern headers (OpenWrt's addpattern): 32 bytes in front of a
// TRX image: an 8-byte board pattern ("W54G", "W54S", "NL16", optionally followed by "PBOT"),
// the build date (year % 100, month, day), the firmware version (three bytes), the id "U2ND", a
// hardware version, serial number, support flags and dual-image boot bytes. The header carries no
// checksum; the TRX behind it (whose CRC the trx format checks) must start right after it.
#include <fmt/format.h>

#include "unpack/format.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kIdMagics[] = {{"U2ND", 14}};
constexpr std::string_view kDescription = "Linksys/Cisco (Cybertan) code pattern header + TRX";
constexpr std::uint64_t kHeader = 32;

std::optional<Probe> probe(Bytes d) {
  if (d.size() < kHeader + 4 || !starts_with(d, "U2ND", 14) || !starts_with(d, "HDR0", kHeader))
    return std::nullopt;
  // The pattern is printable (or NUL-padded) text.
  for (std::uint64_t i = 0; i < 8; ++i)
    if (d[i] != 0 && (d[i] < 0x20 || d[i] > 0x7e)) return std::nullopt;
  if (d[0] == 0 || d[9] < 1 || d[9] > 12 || d[10] < 1 || d[10] > 31) return std::nullopt;
  return Probe{0, fmt::format("Cybertan code pattern \"{}\", v{}.{}.{}, built {:02}-{:02}-{:02}",
                              cstr(d, 0, 8), d[11], d[12], d[13], d[8], d[9], d[10])};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto p = probe(d);
  if (!p) return fail("bad code pattern header", 0);
  // The TRX spans itself: its length field bounds what belongs to this header.
  const auto trx_len = read_le<std::uint32_t>(d, kHeader + 4);
  const std::uint64_t len = std::min<std::uint64_t>(trx_len.value_or(0), d.size() - kHeader);
  if (len < 28) return fail("no TRX behind the code pattern header", kHeader);
  sink.describe(p->description + ", hw " + std::to_string(d[18]));
  if (auto st = sink.file(Entry{"firmware.trx"}, sub(d, kHeader, len)); !st)
    return fail(st.error().message, kHeader);
  return kHeader + len;
}

}  // namespace

const Format kFormat_cybertan =
    make_format(kind::kFirmwareHeader, "cybertan", kDescription, kIdMagics, probe, extract);

}  // namespace probity::unpacker
