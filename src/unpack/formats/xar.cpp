// xar archives (macOS packages, some vendor updates), read by libarchive: a 28-byte header, a
// zlib-compressed XML table of contents, then the heap the TOC points into. The TOC is inflated
// and checked first: libarchive 3.6 loops for ever on a file element with two <type> elements
// (libarchive's own test_read_format_xar_doublelink).
#include <archive.h>
#include <zlib.h>

#include <string_view>

#include <fmt/format.h>

#include "unpack/archive_reader.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"xar!", 0}};

std::optional<Probe> probe(Bytes d) {
  if (d.size() < 28 || !starts_with(d, "xar!")) return std::nullopt;
  const auto header = *read_be<std::uint16_t>(d, 4);
  const auto version = *read_be<std::uint16_t>(d, 6);
  const auto toc = *read_be<std::uint64_t>(d, 8);
  const auto checksum = *read_be<std::uint32_t>(d, 24);
  // Header 28 bytes (64 with a named checksum), version 1, checksum none/sha1/md5/other(3..4).
  if (header < 28 || header > 4096 || version != 1 || toc == 0 || toc > d.size() || checksum > 4)
    return std::nullopt;
  return Probe{0, fmt::format("xar, table of contents {} bytes", toc)};
}

/// The TOC must inflate within kMaxXarTocBytes and give no element between two <file> markers
/// more than one <type>.
Status check_toc(Bytes d) {
  const std::uint64_t header = *read_be<std::uint16_t>(d, 4);
  const std::uint64_t packed = *read_be<std::uint64_t>(d, 8);
  const std::uint64_t size = *read_be<std::uint64_t>(d, 16);
  if (size > kMaxXarTocBytes)
    return fail(fmt::format("xar table of contents of {} bytes exceeds the cap ({} MiB)", size,
                            kMaxXarTocBytes / kMiB),
                16);
  if (header > d.size() || packed > d.size() - header)
    return fail("xar table of contents runs past the end", header);
  std::string toc(size, '\0');
  uLongf got = uLongf(size);
  if (uncompress(reinterpret_cast<Bytef*>(toc.data()), &got, d.data() + header, uLong(packed)) !=
          Z_OK ||
      got != size)
    return fail("xar table of contents does not inflate to its stated size", header);
  const std::string_view t(toc);
  for (std::size_t at = t.find("<file"); at != std::string_view::npos;) {
    const std::size_t next = std::min(t.find("<file", at + 5), t.find("</file>", at + 5));
    const std::string_view element =
        t.substr(at, next == std::string_view::npos ? t.npos : next - at);
    const std::size_t first = element.find("<type");
    if (first != std::string_view::npos &&
        element.find("<type", first + 5) != std::string_view::npos)
      return fail("xar file element with two <type> elements refused (libarchive loops on it)",
                  header);
    at = next == std::string_view::npos ? next : t.find("<file", next);
  }
  return {};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  if (auto st = check_toc(d); !st) return std::unexpected(st.error());
  return extract_with_libarchive(d, sink, archive_read_support_format_xar);
}

}  // namespace

const Format kFormat_xar =
    make_format(kind::kArchive, "xar", "xar archive (libarchive)", kMagics, probe, extract);

}  // namespace probity::unpacker
