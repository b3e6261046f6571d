// xz (.xz container), decoded with liblzma. One stream per candidate.
#include <lzma.h>

#include <fmt/format.h>

#include "unpack/format.hpp"
#include "unpack/liblzma_pump.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{std::string_view("\xfd"
                                               "7zXZ\0",
                                               6),
                              0}};

std::optional<Probe> probe(Bytes d) {
  if (d.size() < 32 || !starts_with(d, std::string_view("\xfd"
                                                        "7zXZ\0",
                                                        6)))
    return std::nullopt;
  // Stream flags: first byte zero, check type in the low nibble of the second.
  if (d[6] != 0 || (d[7] & 0xf0) != 0) return std::nullopt;
  // The stream header's CRC32 covers the two flag bytes: a bare magic string is not a stream.
  if (lzma_crc32(d.data() + 6, 2, 0) != *read_le<std::uint32_t>(d, 8)) return std::nullopt;
  return Probe{0, "xz"};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  return decode_liblzma(d, sink, "xz stream", [](lzma_stream* s) {
    return lzma_stream_decoder(s, kMaxDecoderMemory, 0);
  });
}

}  // namespace

const Format kFormat_xz =
    make_format(kind::kCheckedStream, "xz", "xz stream (liblzma)", kMagics, probe, extract);

}  // namespace probity::unpacker
