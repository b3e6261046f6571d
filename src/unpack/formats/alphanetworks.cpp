// Alpha Networks upgrade scripts (D-Link and other OEMs): a shell script, optionally a
// "=== ddPack Boundary ===" line followed by a uuencode-style "begin-base64" block (an ELF
// helper) ending in "====", then a "=== Firmware Boundary ===" line and the firmware to the end
// of the file. Some images store the firmware with every byte inverted (it then starts with the
// inverse of "REDSONIC"); it is written back un-inverted. Found only at the start of a file.
#include <algorithm>
#include <string_view>

#include <fmt/format.h>

#include "probity/base64.hpp"
#include "probity/limits.hpp"
#include "unpack/format.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"#!/bin/sh\n", 0}};
constexpr std::string_view kDescription = "Alpha Networks upgrade script with firmware";
constexpr std::string_view kFirmware = "=== Firmware Boundary ===\n";
constexpr std::string_view kDdPack = "=== ddPack Boundary ===\n";
constexpr std::string_view kBase64 = "begin-base64";
constexpr std::string_view kBase64End = "\n====\n";

std::string_view view(Bytes b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

std::optional<Probe> probe(Bytes d) {
  if (!starts_with(d, "#!/bin/sh\n")) return std::nullopt;
  const std::string_view head = view(sub(d, 0, kMaxAlphaScriptBytes + kFirmware.size()));
  const auto fw = head.find(kFirmware);
  if (fw == std::string_view::npos) return std::nullopt;
  return Probe{d.size(), fmt::format("Alpha Networks upgrade script, firmware at 0x{:x}",
                                     fw + kFirmware.size())};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  const std::string_view all = view(d);
  const std::string_view head = view(sub(d, 0, kMaxAlphaScriptBytes + kFirmware.size()));
  const auto fw = head.find(kFirmware);
  if (fw == std::string_view::npos) return fail("no firmware boundary", 0);
  const auto dd = head.substr(0, fw).find(kDdPack);
  const std::uint64_t script_end = dd == std::string_view::npos ? fw : dd;
  if (auto st = sink.file(Entry{"script.sh", EntryType::kFile, 0755}, sub(d, 0, script_end)); !st)
    return fail(st.error().message, 0);
  bool helper = false;
  if (dd != std::string_view::npos) {
    const std::string_view block = all.substr(dd + kDdPack.size(), fw - dd - kDdPack.size());
    const auto b = block.find(kBase64);
    const auto line = b == std::string_view::npos ? b : block.find('\n', b);
    const auto end = line == std::string_view::npos ? line : block.find(kBase64End, line);
    auto bytes = end == std::string_view::npos
                     ? std::nullopt
                     : base64_decode(block.substr(line + 1, end - line - 1), Base64Mode::kLenient);
    if (!bytes) {
      sink.warn("format-error", "ddPack block is not a complete base64 block: not decoded", {}, dd);
    } else {
      helper = true;
      if (auto st = sink.file(Entry{"ddPack.elf", EntryType::kFile, 0755}, *bytes); !st)
        return fail(st.error().message, dd);
    }
  }
  const std::uint64_t fw_at = fw + kFirmware.size();
  Bytes firmware = sub(d, fw_at);
  std::vector<std::uint8_t> inverted;
  static constexpr std::uint8_t kRedsonicInverted[] = {0xad, 0xba, 0xbb, 0xac,
                                                       0xb0, 0xb1, 0xb6, 0xbc};
  const bool is_inverted =
      firmware.size() >= 8 &&
      std::equal(std::begin(kRedsonicInverted), std::end(kRedsonicInverted), firmware.begin());
  if (is_inverted) {
    inverted.assign(firmware.begin(), firmware.end());
    for (auto& c : inverted) c = std::uint8_t(~c);
    firmware = inverted;
  }
  if (auto st = sink.file(Entry{"firmware.bin"}, firmware); !st)
    return fail(st.error().message, fw_at);
  sink.describe(fmt::format("Alpha Networks upgrade script{}, firmware at 0x{:x}{}",
                            helper ? " with a ddPack helper" : "", fw_at,
                            is_inverted ? " (bytes inverted)" : ""));
  return d.size();
}

}  // namespace

const Format kFormat_alphanetworks =
    make_format(kind::kFirmwareAtStart, "alphanetworks", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
