// ar archives, including Debian .deb packages, read by libarchive.
#include <archive.h>

#include "unpack/archive_reader.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"!<arch>\n", 0}};

std::optional<Probe> probe(Bytes d) {
  if (d.size() < 68 || !starts_with(d, "!<arch>\n")) return std::nullopt;
  // The first member header ends with "`\n".
  if (d[66] != '`' || d[67] != '\n') return std::nullopt;
  return Probe{0, starts_with(d, "debian-binary", 8) ? "ar (Debian package)" : "ar"};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  return extract_with_libarchive(d, sink, archive_read_support_format_ar);
}

}  // namespace

const Format kFormat_ar = make_format(kind::kArchive, "ar", "ar archive and .deb (libarchive)",
                                      kMagics, probe, extract, {.timestamp_bytes = 12});

}  // namespace probity::unpacker
