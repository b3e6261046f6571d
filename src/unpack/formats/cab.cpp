// Microsoft Cabinet (.cab), read by libarchive (MSZIP, LZX and stored folders). The header's
// cbCabinet field is the archive's span.
#include <archive.h>

#include <fmt/format.h>

#include "unpack/archive_reader.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{std::string_view("MSCF\0\0\0\0", 8), 0}};
constexpr std::uint32_t kHeaderBytes = 36;

std::optional<Probe> probe(Bytes d) {
  if (d.size() < kHeaderBytes || !starts_with(d, std::string_view("MSCF\0\0\0\0", 8)))
    return std::nullopt;
  const auto size = *read_le<std::uint32_t>(d, 8);
  const auto first_file = *read_le<std::uint32_t>(d, 16);
  const std::uint8_t minor = d[24], major = d[25];
  const auto folders = *read_le<std::uint16_t>(d, 26);
  const auto files = *read_le<std::uint16_t>(d, 28);
  // Version 1.3 is the only one written; the file table lies inside the cabinet.
  if (major != 1 || minor != 3 || size < kHeaderBytes || first_file >= size || folders == 0)
    return std::nullopt;
  return Probe{std::min<std::uint64_t>(size, d.size()),
               fmt::format("cab, {} bytes, {} folders, {} files", size, folders, files)};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  const std::uint64_t size = *read_le<std::uint32_t>(d, 8);
  if (size > d.size())
    sink.warn("truncated", fmt::format("cabinet of {} bytes, only {} present", size, d.size()), {},
              d.size());
  const std::uint64_t have = std::min<std::uint64_t>(size, d.size());
  return extract_with_libarchive(sub(d, 0, have), sink, archive_read_support_format_cab, have);
}

}  // namespace

const Format kFormat_cab =
    make_format(kind::kArchive, "cab", "Microsoft Cabinet (libarchive)", kMagics, probe, extract);

}  // namespace probity::unpacker
