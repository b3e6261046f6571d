// zip, read by libarchive. The span is found from the end-of-central-directory record whose
// central directory lies just before it, so data after the archive is carved on its own.
#include <archive.h>

#include "probity/limits.hpp"
#include "unpack/archive_reader.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"PK\x03\x04", 0}};

/// Offset just past the end-of-central-directory record (and its comment), or 0.
std::uint64_t zip_span(Bytes d) {
  const std::uint64_t limit = std::min<std::uint64_t>(d.size(), kMaxZipEocdSearch);
  for (std::uint64_t i = 30; i + 22 <= limit; ++i) {
    if (d[i] != 'P' || !starts_with(d, "PK\x05\x06", i)) continue;
    const auto cd_size = *read_le<std::uint32_t>(d, i + 12);
    const auto cd_off = *read_le<std::uint32_t>(d, i + 16);
    const auto comment = *read_le<std::uint16_t>(d, i + 20);
    if (std::uint64_t(cd_off) + cd_size == i && i + 22 + comment <= d.size())
      return i + 22 + comment;
  }
  return 0;
}

std::optional<Probe> probe(Bytes d) {
  if (d.size() < 30 || !starts_with(d, "PK\x03\x04")) return std::nullopt;
  // "Version needed to extract": the low byte is the spec version (2.0 = 20 ... 6.3 = 63); the
  // high byte is the host system (0 MS-DOS, 3 Unix, ...), which some writers set here too.
  const auto version = *read_le<std::uint16_t>(d, 4) & 0xff;
  const auto name_len = *read_le<std::uint16_t>(d, 26);
  if (version > 100 || name_len == 0 || name_len > 4096) return std::nullopt;
  return Probe{0, "zip"};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  const std::uint64_t span = zip_span(d);
  // Give libarchive exactly the archive so its seeking reader finds the right directory.
  Bytes view = span ? sub(d, 0, span) : d;
  return extract_with_libarchive(view, sink, archive_read_support_format_zip, span);
}

}  // namespace

const Format kFormat_zip = make_format(kind::kArchive, "zip", "zip archive (libarchive)", kMagics,
                                       probe, extract, {.timestamp_bytes = 4});

}  // namespace probity::unpacker
