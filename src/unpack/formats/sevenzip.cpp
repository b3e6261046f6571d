// 7z, read by libarchive. The signature header gives the archive's exact span.
#include <archive.h>

#include <fmt/format.h>

#include "unpack/archive_reader.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"7z\xbc\xaf\x27\x1c", 0}};

std::uint64_t span(Bytes d) {
  const auto next_off = read_le<std::uint64_t>(d, 12);
  const auto next_size = read_le<std::uint64_t>(d, 20);
  if (!next_off || !next_size || *next_off > d.size() || *next_size > d.size()) return 0;
  const std::uint64_t end = 32 + *next_off + *next_size;
  return end <= d.size() ? end : 0;
}

std::optional<Probe> probe(Bytes d) {
  if (d.size() < 32 || !starts_with(d, "7z\xbc\xaf\x27\x1c")) return std::nullopt;
  if (d[6] != 0) return std::nullopt;  // major version 0
  return Probe{span(d), fmt::format("7z, version 0.{}", d[7])};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  const std::uint64_t n = span(d);
  if (n == 0) return fail("7z archive truncated (next header beyond the data)", 0);
  return extract_with_libarchive(sub(d, 0, n), sink, archive_read_support_format_7zip, n);
}

}  // namespace

const Format kFormat_sevenzip{.id = "sevenzip",
                              .description = "7z archive (libarchive)",
                              .magics = kMagics,
                              .carve = Carve::kAnyOffset,
                              .output = Output::kTree,
                              .probe = probe,
                              .extract = extract};

}  // namespace probity::unpacker
