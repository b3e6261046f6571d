// The text form of a UEFI GUID (EFI_GUID: a little-endian u32 and two u16, then eight bytes),
// shared by the UEFI firmware volume and capsule readers.
#pragma once

#include <fmt/format.h>

#include <string>

#include "core/bytes.hpp"

namespace probity::unpacker {

/// "8C8CE578-8A3D-4F1C-9935-896185C32DD3" for the 16 bytes at `off` of `d` ("short-guid" when
/// fewer remain).
inline std::string uefi_guid(Bytes d, std::uint64_t off) {
  const Bytes g = sub(d, off, 16);
  if (g.size() < 16) return "short-guid";
  return fmt::format("{:08X}-{:04X}-{:04X}-{:02X}{:02X}-{:02X}{:02X}{:02X}{:02X}{:02X}{:02X}",
                     *read_le<std::uint32_t>(g, 0), *read_le<std::uint16_t>(g, 4),
                     *read_le<std::uint16_t>(g, 6), g[8], g[9], g[10], g[11], g[12], g[13], g[14],
                     g[15]);
}

}  // namespace probity::unpacker
