// xz (.xz container), decoded with liblzma. One stream per candidate.
#include <lzma.h>

#include <fmt/format.h>

#include "unpack/format.hpp"
#include "unpack/stream.hpp"

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
  lzma_stream s = LZMA_STREAM_INIT;
  if (lzma_stream_decoder(&s, kMaxDecoderMemory, 0) != LZMA_OK)
    return fail("liblzma: cannot initialise");
  struct Guard {
    lzma_stream* s;
    ~Guard() { lzma_end(s); }
  } guard{&s};
  s.next_in = d.data();
  s.avail_in = d.size();
  return pump_stream(
      sink, "decompressed", [&](std::uint8_t* buf, std::size_t cap) -> Result<StepResult> {
        s.next_out = buf;
        s.avail_out = cap;
        lzma_ret rc = lzma_code(&s, LZMA_FINISH);
        StepResult r{cap - s.avail_out, rc == LZMA_STREAM_END, s.total_in};
        if (rc == LZMA_OK || rc == LZMA_STREAM_END) return r;
        if (rc == LZMA_MEMLIMIT_ERROR)
          return fail(fmt::format("xz stream needs more than {} MiB to decode (decoder memory cap)",
                                  kMaxDecoderMemory / kMiB),
                      s.total_in);
        if (rc == LZMA_BUF_ERROR) return fail("truncated xz stream", s.total_in);
        return fail(fmt::format("corrupt xz data (liblzma error {})", int(rc)), s.total_in);
      });
}

}  // namespace

const Format kFormat_xz{.id = "xz",
                        .description = "xz stream (liblzma)",
                        .magics = kMagics,
                        .carve = Carve::kAnyOffset,
                        .output = Output::kStream,
                        .probe = probe,
                        .extract = extract};

}  // namespace probity::unpacker
