// ISO 9660 CD-ROM images (with Rock Ridge, Joliet and zisofs), read by libarchive. The primary
// volume descriptor sits at 32 KiB (sector 16); its volume space size times its logical block
// size is the image's span.
#include <archive.h>

#include <fmt/format.h>

#include "unpack/archive_reader.hpp"

namespace probity::unpacker {
namespace {

constexpr std::uint32_t kPvd = 0x8000;
constexpr Magic kMagics[] = {
    {"\x01"
     "CD001\x01",
     kPvd}};
constexpr std::string_view kDescription = "ISO 9660 image, Rock Ridge, Joliet, zisofs (libarchive)";

/// Bytes the primary volume descriptor says the image spans (0 when it does not say sensibly).
std::uint64_t span(Bytes d) {
  const auto blocks = read_le<std::uint32_t>(d, kPvd + 80);
  const auto block = read_le<std::uint16_t>(d, kPvd + 128);
  if (!blocks || !block) return 0;
  // The both-endian fields must agree with their big-endian copies.
  if (read_be<std::uint32_t>(d, kPvd + 84) != *blocks ||
      read_be<std::uint16_t>(d, kPvd + 130) != *block)
    return 0;
  return std::uint64_t(*blocks) * *block;
}

std::optional<Probe> probe(Bytes d) {
  if (d.size() < kPvd + 2048 || !starts_with(d,
                                             "\x01"
                                             "CD001\x01",
                                             kPvd))
    return std::nullopt;
  const auto block = read_le<std::uint16_t>(d, kPvd + 128);
  // Logical block size: a power of two from 512 to 2048 (ECMA-119 8.4.12).
  if (!block || (*block != 512 && *block != 1024 && *block != 2048)) return std::nullopt;
  const std::uint64_t n = span(d);
  if (n < kPvd + 2048) return std::nullopt;
  std::string volume = cstr(d, kPvd + 40, 32);
  while (!volume.empty() && volume.back() == ' ') volume.pop_back();
  return Probe{std::min<std::uint64_t>(n, d.size()),
               fmt::format("ISO 9660, {} bytes, volume \"{}\"", n, volume)};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  const std::uint64_t n = span(d);
  if (n == 0) return fail("ISO 9660 volume descriptor has no consistent size", kPvd + 80);
  if (n > d.size())
    sink.warn("truncated", fmt::format("ISO 9660 volume of {} bytes, only {} present", n, d.size()),
              {}, d.size());
  const std::uint64_t have = std::min<std::uint64_t>(n, d.size());
  return extract_with_libarchive(sub(d, 0, have), sink, archive_read_support_format_iso9660, have);
}

}  // namespace

const Format kFormat_iso9660 =
    make_format(kind::kFilesystem, "iso9660", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
