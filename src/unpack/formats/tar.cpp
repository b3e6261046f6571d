// tar (ustar, GNU, pax), read by libarchive.
#include <archive.h>

#include "unpack/archive_reader.hpp"
#include "unpack/tar_header.hpp"

namespace probity::unpacker {
namespace {

using namespace std::string_view_literals;
constexpr Magic kMagics[] = {{"ustar\0"sv, 257}, {"ustar  \0"sv, 257}};
constexpr std::string_view kDescription = "tar archive: ustar, GNU, pax (libarchive)";

std::optional<Probe> probe(Bytes d) {
  if (!tar::checksum_ok(d)) return std::nullopt;
  return Probe{0, d[263] == ' ' ? "tar (GNU)" : "tar (ustar)"};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto r = extract_with_libarchive(d, sink, archive_read_support_format_tar);
  if (!r) return r;
  return tar::span_with_padding(d, *r);
}

}  // namespace

const Format kFormat_tar = make_format(kind::kArchive, "tar", kDescription, kMagics, probe, extract,
                                       {.timestamp_bytes = 12});

}  // namespace probity::unpacker
