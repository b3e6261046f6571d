// Instar BNEG (IP camera firmware): a 20-byte little-endian header "BNEG", a major version (1),
// a minor version and the sizes of two partitions that follow it back to back (typically a
// kernel and a root filesystem). The header carries no checksum: the sizes must be non-zero and
// the versions small.
#include <fmt/format.h>

#include "unpack/format.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"BNEG", 0}};
constexpr std::string_view kDescription = "Instar BNEG camera firmware (two partitions)";
constexpr std::uint64_t kHeader = 20;

struct Header {
  std::uint32_t major = 0, minor = 0;
  std::uint64_t part[2] = {0, 0};
  [[nodiscard]] std::uint64_t length() const { return kHeader + part[0] + part[1]; }
};

std::optional<Header> parse(Bytes d) {
  if (!starts_with(d, "BNEG") || d.size() < kHeader) return std::nullopt;
  Header h;
  h.major = *read_le<std::uint32_t>(d, 4);
  h.minor = *read_le<std::uint32_t>(d, 8);
  h.part[0] = *read_le<std::uint32_t>(d, 12);
  h.part[1] = *read_le<std::uint32_t>(d, 16);
  if (h.major != 1 || h.minor > 0xff || h.part[0] == 0 || h.part[1] == 0) return std::nullopt;
  return h;
}

std::optional<Probe> probe(Bytes d) {
  auto h = parse(d);
  if (!h) return std::nullopt;
  return Probe{std::min<std::uint64_t>(h->length(), d.size()),
               fmt::format("Instar BNEG v{}.{}, partitions of {} and {} bytes", h->major, h->minor,
                           h->part[0], h->part[1])};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto h = parse(d);
  if (!h) return fail("bad BNEG header", 0);
  sink.describe(fmt::format("Instar BNEG v{}.{}, partitions of {} and {} bytes", h->major, h->minor,
                            h->part[0], h->part[1]));
  std::uint64_t at = kHeader;
  for (int i = 0; i < 2; ++i) {
    const Bytes part = sub(d, at, h->part[i]);
    const bool cut = part.size() < h->part[i];
    if (auto st = sink.file(Entry{fmt::format("partition_{}.bin", i + 1)}, part, cut); !st)
      return fail(st.error().message, at);
    if (cut)
      return fail(fmt::format("BNEG truncated: partition {} needs {} bytes, {} present", i + 1,
                              h->part[i], part.size()),
                  d.size());
    at += h->part[i];
  }
  return at;
}

}  // namespace

const Format kFormat_bneg =
    make_format(kind::kFirmwareHeader, "bneg", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
