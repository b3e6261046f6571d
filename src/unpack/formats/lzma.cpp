// lzma-alone (the legacy .lzma format used by old kernels, U-Boot and squashfs-lzma), decoded
// with liblzma. Its 13-byte header has no real magic: candidates are the usual properties byte
// (lc=3 lp=0 pb=2 -> 0x5d) followed by a power-of-two dictionary size, and the probe then
// requires a plausible uncompressed size.
#include <lzma.h>

#include <fmt/format.h>

#include "unpack/format.hpp"
#include "unpack/stream.hpp"

namespace probity::unpacker {
namespace {

using namespace std::string_view_literals;
constexpr Magic kMagics[] = {
    {"\x5d\x00\x00\x01\x00"sv, 0}, {"\x5d\x00\x00\x02\x00"sv, 0}, {"\x5d\x00\x00\x04\x00"sv, 0},
    {"\x5d\x00\x00\x08\x00"sv, 0}, {"\x5d\x00\x00\x10\x00"sv, 0}, {"\x5d\x00\x00\x20\x00"sv, 0},
    {"\x5d\x00\x00\x40\x00"sv, 0}, {"\x5d\x00\x00\x80\x00"sv, 0}, {"\x5d\x00\x00\x00\x01"sv, 0},
    {"\x5d\x00\x00\x00\x02"sv, 0}, {"\x5d\x00\x00\x00\x04"sv, 0}, {"\x6d\x00\x00\x80\x00"sv, 0},
    {"\x6d\x00\x00\x00\x01"sv, 0}, {"\x6d\x00\x00\x00\x02"sv, 0}, {"\x6d\x00\x00\x00\x04"sv, 0},
};

constexpr std::uint64_t kMaxDeclaredSize = 4 * kGiB;

std::optional<Probe> probe(Bytes d) {
  if (d.size() < 14) return std::nullopt;
  if (d[0] >= 9 * 5 * 5) return std::nullopt;
  const auto size = *read_le<std::uint64_t>(d, 5);
  if (size != UINT64_MAX && (size == 0 || size > kMaxDeclaredSize)) return std::nullopt;
  // The range coder's first byte is always zero.
  if (d[13] != 0) return std::nullopt;
  return Probe{0, size == UINT64_MAX ? "lzma-alone, size unknown"
                                     : fmt::format("lzma-alone, {} bytes", size)};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  lzma_stream s = LZMA_STREAM_INIT;
  if (lzma_alone_decoder(&s, kMaxDecoderMemory) != LZMA_OK)
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
        lzma_ret rc = lzma_code(&s, LZMA_RUN);
        StepResult r{cap - s.avail_out, rc == LZMA_STREAM_END, s.total_in};
        if (rc == LZMA_OK && s.avail_in == 0 && r.produced == 0)
          return fail("truncated lzma stream", s.total_in);
        if (rc == LZMA_OK || rc == LZMA_STREAM_END) return r;
        if (rc == LZMA_MEMLIMIT_ERROR)
          return fail("lzma dictionary larger than the decoder memory cap", s.total_in);
        return fail(fmt::format("corrupt lzma data (liblzma error {})", int(rc)), s.total_in);
      });
}

}  // namespace

const Format kFormat_lzma{.id = "lzma",
                          .description = "lzma-alone stream (liblzma)",
                          .magics = kMagics,
                          .carve = Carve::kAnyOffset,
                          .output = Output::kStream,
                          .strength = Strength::kMagicOnly,
                          .probe = probe,
                          .extract = extract};

}  // namespace probity::unpacker
