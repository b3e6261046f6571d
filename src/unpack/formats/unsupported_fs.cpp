// Filesystems probity recognises but does not read (no Debian library reads them from memory and
// no reader is written yet): XFS, Btrfs, F2FS, JFS, ReiserFS, UDF, HFS+/HFSX, NTFS (exFAT is read:
// exfat.cpp). Their superblocks are matched so that the image is never silently counted as plain
// data: each is a container that fails at its first byte, so its whole span is a not-understood
// region with a `format-unsupported` warning naming the filesystem, and a scan of it is
// inconclusive.
#include <fmt/format.h>

#include "unpack/format.hpp"

namespace probity::unpacker {
namespace {

using namespace std::string_view_literals;
constexpr Magic kMagics[] = {{"XFSB"sv, 0},
                             {"_BHRfS_M"sv, 0x10040},
                             {"\x10\x20\xf5\xf2"sv, 0x400},
                             {"JFS1"sv, 0x8000},
                             {"ReIsErFs"sv, 0x10034},
                             {"ReIsEr2Fs"sv, 0x10034},
                             {"ReIsEr3Fs"sv, 0x10034},
                             {"\0BEA01\x01"sv, 0x8000},
                             {"H+\0\x04"sv, 0x400},
                             {"HX\0\x05"sv, 0x400},
                             {"NTFS    "sv, 3}};
constexpr std::string_view kDescription =
    "XFS, Btrfs, F2FS, JFS, ReiserFS, UDF, HFS+, NTFS: recognised, not read";

bool pow2_in(std::uint64_t v, std::uint64_t lo, std::uint64_t hi) {
  return v >= lo && v <= hi && (v & (v - 1)) == 0;
}

/// The filesystem at the start of `d` and the bytes it spans (the rest of the blob where the
/// superblock gives no size), or nullopt.
std::optional<std::pair<std::string, std::uint64_t>> identify(Bytes d) {
  const std::uint64_t all = d.size();
  if (starts_with(d, "XFSB"sv)) {
    const auto bs = read_be<std::uint32_t>(d, 4);
    const auto blocks = read_be<std::uint64_t>(d, 8);
    if (!bs || !blocks || !pow2_in(*bs, 512, 65536) || *blocks == 0) return std::nullopt;
    return std::pair{"XFS",
                     std::min<std::uint64_t>(all, *blocks > all / *bs ? all : *blocks * *bs)};
  }
  if (starts_with(d, "_BHRfS_M"sv, 0x10040)) {
    const auto total = read_le<std::uint64_t>(d, 0x10070);
    return std::pair{"Btrfs", total && *total > 0x10040 ? std::min(all, *total) : all};
  }
  if (starts_with(d, "\x10\x20\xf5\xf2"sv, 0x400)) {
    const auto log_sector = read_le<std::uint32_t>(d, 0x410);
    if (!log_sector || *log_sector < 9 || *log_sector > 12) return std::nullopt;
    return std::pair{"F2FS", all};
  }
  if (starts_with(d, "JFS1"sv, 0x8000)) return std::pair{"JFS", all};
  for (auto m : {"ReIsErFs"sv, "ReIsEr2Fs"sv, "ReIsEr3Fs"sv})
    if (starts_with(d, m, 0x10034)) return std::pair{"ReiserFS", all};
  if (starts_with(d, "\0BEA01\x01"sv, 0x8000)) {
    // A UDF volume recognition sequence names NSR02 or NSR03 in a later descriptor.
    for (std::uint64_t at = 0x8800; at <= 0x8000 + 16 * 2048 && at + 6 <= all; at += 0x800)
      if (starts_with(d, "NSR02"sv, at + 1) || starts_with(d, "NSR03"sv, at + 1))
        return std::pair{"UDF", all};
    for (std::uint64_t at = 0x8200; at <= 0x8000 + 16 * 512 && at + 6 <= all; at += 0x200)
      if (starts_with(d, "NSR02"sv, at + 1) || starts_with(d, "NSR03"sv, at + 1))
        return std::pair{"UDF", all};
    return std::nullopt;
  }
  if (starts_with(d, "H+\0\x04"sv, 0x400) || starts_with(d, "HX\0\x05"sv, 0x400)) {
    const auto bs = read_be<std::uint32_t>(d, 0x428);
    if (!bs || !pow2_in(*bs, 512, 1 << 20)) return std::nullopt;
    return std::pair{d[0x400] == 'H' && d[0x401] == '+' ? "HFS+" : "HFSX", all};
  }
  if (starts_with(d, "NTFS    "sv, 3)) {
    if (d.size() < 512 || d[510] != 0x55 || d[511] != 0xaa) return std::nullopt;
    return std::pair{"NTFS", all};
  }
  return std::nullopt;
}

std::optional<Probe> probe(Bytes d) {
  auto fs = identify(d);
  if (!fs) return std::nullopt;
  return Probe{fs->second, fmt::format("{} filesystem (not read by probity)", fs->first)};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto fs = identify(d);
  if (!fs) return fail("not a recognised filesystem", 0);
  sink.describe(
      fmt::format("{} filesystem, {} bytes (not read by probity)", fs->first, fs->second));
  auto e = fail(fmt::format("{} filesystem: probity does not read {}; its {} bytes are not seen",
                            fs->first, fs->first, fs->second),
                0);
  e.error().code = "format-unsupported";
  return e;
}

}  // namespace

const Format kFormat_unsupported_fs =
    make_format(kind::kFilesystemLeaf, "unsupported_fs", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
