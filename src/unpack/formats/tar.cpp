// tar (ustar, GNU, pax), read by libarchive.
#include <archive.h>

#include <algorithm>

#include "unpack/archive_reader.hpp"

namespace probity::unpacker {
namespace {

using namespace std::string_view_literals;
constexpr Magic kMagics[] = {{"ustar\0"sv, 257}, {"ustar  \0"sv, 257}};

std::optional<Probe> probe(Bytes d) {
  if (d.size() < 512) return std::nullopt;
  // The header checksum: sum of the 512 header bytes with the checksum field read as spaces.
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < 512; ++i) sum += (i >= 148 && i < 156) ? ' ' : d[i];
  // Octal, ended by NUL or space; Perl's Archive::Tar and old GNU tar pad it with leading
  // spaces (" 11123\0 ").
  std::uint32_t stored = 0;
  bool digits = false;
  std::size_t i = 148;
  while (i < 156 && d[i] == ' ') ++i;
  for (; i < 156 && d[i] && d[i] != ' '; ++i) {
    if (d[i] < '0' || d[i] > '7') return std::nullopt;
    stored = stored * 8 + (d[i] - '0');
    digits = true;
  }
  if (!digits || stored != sum) return std::nullopt;
  return Probe{0, d[263] == ' ' ? "tar (GNU)" : "tar (ustar)"};
}

/// tar pads the archive with zero blocks to a whole record (10 KiB by default).
constexpr std::uint64_t kRecord = 10240;

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto r = extract_with_libarchive(d, sink, archive_read_support_format_tar);
  if (!r) return r;
  std::uint64_t end = *r;
  auto zero_block = [&](std::uint64_t at) {
    Bytes b = sub(d, at, 512);
    return b.size() == 512 &&
           std::all_of(b.begin(), b.end(), [](std::uint8_t c) { return c == 0; });
  };
  while (end % kRecord != 0 && zero_block(end)) end += 512;
  return end;
}

}  // namespace

const Format kFormat_tar{.id = "tar",
                         .description = "tar archive: ustar, GNU, pax (libarchive)",
                         .magics = kMagics,
                         .carve = Carve::kAnyOffset,
                         .output = Output::kTree,
                         .probe = probe,
                         .extract = extract};

}  // namespace probity::unpacker
