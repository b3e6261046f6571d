// Pre-POSIX (Unix v7) tar: the header of ustar without its "ustar" magic, so nothing in it can be
// carved for; looked for at offset 0 of a blob or file only, where the checksum and the octal
// fields must all check out. libarchive's tar reader reads the entries (old-style hard links
// included).
#include <archive.h>

#include "unpack/archive_reader.hpp"
#include "unpack/tar_header.hpp"

namespace probity::unpacker {
namespace {

using namespace std::string_view_literals;
// The byte after the checksum's octal digits: " " as v7 and GNU tar write it ("%06o\0 "), NUL
// as some others do. Weak on purpose: the probe decides.
constexpr Magic kMagics[] = {{" "sv, 155}, {"\0"sv, 155}};
constexpr std::string_view kDescription = "tar archive, pre-POSIX v7 layout (libarchive)";

/// An octal header field: optional leading spaces, at least one octal digit, then only spaces
/// and NULs to the end of the field.
bool octal_field(Bytes d, std::size_t at, std::size_t len) {
  std::size_t i = at;
  const std::size_t end = at + len;
  while (i < end && d[i] == ' ') ++i;
  bool digits = false;
  for (; i < end && d[i] >= '0' && d[i] <= '7'; ++i) digits = true;
  for (; i < end; ++i)
    if (d[i] != ' ' && d[i] != 0) return false;
  return digits;
}

std::optional<Probe> probe(Bytes d) {
  if (d.size() < 1024) return std::nullopt;               // a header and at least one more block
  if (starts_with(d, "ustar", 257)) return std::nullopt;  // the `tar` format's
  // The name: printable bytes, NUL-terminated or filling all 100 bytes, not empty.
  if (d[0] == 0) return std::nullopt;
  for (std::size_t i = 0; i < 100 && d[i]; ++i)
    if (d[i] < 0x20 || d[i] >= 0x7f) return std::nullopt;
  for (std::size_t at : {100, 108, 116})
    if (!octal_field(d, at, 8)) return std::nullopt;
  if (!octal_field(d, 124, 12) || !octal_field(d, 136, 12)) return std::nullopt;
  const std::uint8_t type = d[156];
  if (type != 0 && (type < '0' || type > '7')) return std::nullopt;
  if (!tar::checksum_ok(d)) return std::nullopt;
  return Probe{0, "tar (v7, no ustar magic)"};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto r = extract_with_libarchive(d, sink, archive_read_support_format_tar);
  if (!r) return r;
  return tar::span_with_padding(d, *r);
}

}  // namespace

const Format kFormat_tar_v7 =
    make_format(kind::kArchiveAtStart, "tar_v7", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
