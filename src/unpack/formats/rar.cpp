// RAR 1.5–4.x and RAR 5 archives, read by libarchive (each version its own reader). Encrypted
// entries and solid RAR 5 archives libarchive cannot decode end as warnings, never as files.
#include <archive.h>

#include <fmt/format.h>

#include "unpack/archive_reader.hpp"

namespace probity::unpacker {
namespace {

constexpr std::string_view kRar4("Rar!\x1a\x07\x00", 7);
constexpr std::string_view kRar5("Rar!\x1a\x07\x01\x00", 8);
constexpr Magic kMagics[] = {{kRar4, 0}, {kRar5, 0}};

std::optional<Probe> probe(Bytes d) {
  if (d.size() >= 20 && starts_with(d, kRar4)) {
    // The main archive header follows the marker: type 0x73, size at least 13.
    const auto size = *read_le<std::uint16_t>(d, 12);
    if (d[9] != 0x73 || size < 13) return std::nullopt;
    return Probe{0, "rar (1.5-4.x)"};
  }
  if (d.size() >= 16 && starts_with(d, kRar5)) return Probe{0, "rar 5"};
  return std::nullopt;
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  const bool v5 = starts_with(d, kRar5);
  return extract_with_libarchive(
      d, sink, v5 ? archive_read_support_format_rar5 : archive_read_support_format_rar);
}

}  // namespace

const Format kFormat_rar = make_format(
    kind::kArchive, "rar", "RAR 4 and RAR 5 archive (libarchive)", kMagics, probe, extract);

}  // namespace probity::unpacker
