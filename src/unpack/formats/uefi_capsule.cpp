// UEFI capsules (UEFI specification, "Firmware Update and Reporting"): EFI_CAPSULE_HEADER (the
// capsule GUID, header size, flags, image size; little-endian) recognised by the two GUIDs the
// specification defines: EFI_CAPSULE_GUID (the payload follows the header: written as
// "payload" and carved again, so the firmware volumes in it are opened) and the Firmware
// Management capsule (its FMP header lists embedded drivers, written as driver_NN.efi, and
// payload items, each an update image written as NN_<image type GUID>.bin and carved again).
// Vendor capsule GUIDs (AMI, Intel, Lenovo...) are not recognised.
#include <fmt/format.h>

#include <vector>

#include "probity/limits.hpp"
#include "unpack/format.hpp"
#include "unpack/uefi_guid.hpp"

namespace probity::unpacker {
namespace {

constexpr std::string_view kEfiCapsule =
    "\xbd\x86\x66\x3b\x76\x0d\x30\x40\xb7\x0e\xb5\x51\x9e\x2f\xc5\xa0";
constexpr std::string_view kFmpCapsule =
    "\xed\xd5\xcb\x6d\x2d\xe8\x44\x4c\xbd\xa1\x71\x94\x19\x9a\xd9\x2a";
constexpr Magic kMagics[] = {{kEfiCapsule, 0}, {kFmpCapsule, 0}};
constexpr std::string_view kDescription = "UEFI capsule (EFI and FMP capsule GUIDs)";
constexpr std::uint64_t kHeader = 28;

struct Capsule {
  std::uint64_t header = 0, size = 0;
  std::uint32_t flags = 0;
  bool fmp = false;
};

std::optional<Capsule> parse(Bytes d) {
  if (d.size() < kHeader) return std::nullopt;
  Capsule c;
  c.fmp = starts_with(d, kFmpCapsule);
  if (!c.fmp && !starts_with(d, kEfiCapsule)) return std::nullopt;
  c.header = *read_le<std::uint32_t>(d, 16);
  c.flags = *read_le<std::uint32_t>(d, 20);
  c.size = *read_le<std::uint32_t>(d, 24);
  if (c.header < kHeader || c.header > c.size || c.header > 4096) return std::nullopt;
  return c;
}

std::optional<Probe> probe(Bytes d) {
  auto c = parse(d);
  if (!c) return std::nullopt;
  return Probe{std::min<std::uint64_t>(c->size, d.size()),
               fmt::format("UEFI {}capsule, {} bytes", c->fmp ? "FMP " : "", c->size)};
}

Status put(Sink& sink, const std::string& name, Bytes b) {
  if (auto st = sink.file(Entry{name, EntryType::kFile, 0644}, b); !st && sink.exhausted())
    return st;
  return {};
}

/// The FMP header (version, embedded driver count, payload item count, item offsets) and its
/// items, each checked to lie inside the payload.
Result<std::uint64_t> extract_fmp(Bytes p, std::uint64_t base, Sink& sink) {
  if (p.size() < 8) return fail("FMP capsule header past the end", base);
  const std::uint32_t drivers = *read_le<std::uint16_t>(p, 4),
                      items = *read_le<std::uint16_t>(p, 6);
  if (std::uint64_t(drivers) + items > kMaxUefiFiles)
    return fail(fmt::format("FMP capsule lists {} items (cap {})", drivers + items, kMaxUefiFiles),
                base);
  std::vector<std::uint64_t> offs;
  for (std::uint32_t i = 0; i < drivers + items; ++i) {
    auto o = read_le<std::uint64_t>(p, 8 + 8 * std::uint64_t(i));
    if (!o || *o >= p.size()) return fail("FMP capsule item offset past the end", base + 8 + 8 * i);
    offs.push_back(*o);
  }
  for (std::uint32_t i = 0; i < offs.size(); ++i) {
    // A driver runs to the next item; a payload item has its own header and sizes.
    const std::uint64_t next = i + 1 < offs.size() ? offs[i + 1] : p.size();
    if (i < drivers) {
      if (next < offs[i]) return fail("FMP capsule drivers out of order", base + offs[i]);
      if (auto st = put(sink, fmt::format("driver_{:02}.efi", i), sub(p, offs[i], next - offs[i]));
          !st)
        return fail_at(st.error(), base + offs[i]);
      continue;
    }
    const Bytes item = sub(p, offs[i]);
    if (item.size() < 32) return fail("FMP image header past the end", base + offs[i]);
    const std::uint32_t version = *read_le<std::uint32_t>(item, 0);
    const std::uint64_t hdr = version >= 3 ? 48 : version == 2 ? 40 : 32;
    const std::uint64_t image = *read_le<std::uint32_t>(item, 24),
                        vendor = *read_le<std::uint32_t>(item, 28);
    if (hdr > item.size() || image > item.size() - hdr || vendor > item.size() - hdr - image)
      return fail(fmt::format("FMP image {} of {} bytes runs past the end", i - drivers, image),
                  base + offs[i]);
    if (auto st = put(sink, fmt::format("{:02}_{}.bin", i - drivers, uefi_guid(item, 4)),
                      sub(item, hdr, image));
        !st)
      return fail_at(st.error(), base + offs[i]);
  }
  return base + p.size();
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto c = parse(d);
  if (!c) return fail("bad UEFI capsule header", 0);
  sink.describe(fmt::format("UEFI {}capsule, {} bytes, header {} bytes, flags 0x{:x}",
                            c->fmp ? "FMP " : "", c->size, c->header, c->flags));
  if (c->size > d.size())
    return fail(fmt::format("capsule of {} bytes runs past the end ({} bytes)", c->size, d.size()),
                c->header);  // the payload is not read: carving finds what it holds
  const Bytes payload = sub(d, c->header, c->size - c->header);
  if (c->fmp) return extract_fmp(payload, c->header, sink);
  if (auto st = put(sink, "payload", payload); !st) return fail_at(st.error(), c->header);
  return c->size;
}

}  // namespace

const Format kFormat_uefi_capsule =
    make_format(kind::kFirmwareHeader, "uefi_capsule", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
