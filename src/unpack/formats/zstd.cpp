// Zstandard, decoded with libzstd. One frame per candidate; the window is capped.
#include <zstd.h>

#include <fmt/format.h>

#include "probity/limits.hpp"
#include "unpack/format.hpp"
#include "unpack/stream.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"\x28\xb5\x2f\xfd", 0}};

std::optional<Probe> probe(Bytes d) {
  if (d.size() < 9 || !starts_with(d, "\x28\xb5\x2f\xfd")) return std::nullopt;
  if (d[4] & 0x08) return std::nullopt;  // reserved bit of the frame header descriptor
  const std::size_t frame = ZSTD_findFrameCompressedSize(d.data(), d.size());
  return Probe{ZSTD_isError(frame) ? 0 : frame, "zstd frame"};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  ZSTD_DCtx* z = ZSTD_createDCtx();
  if (!z) return fail("libzstd: cannot initialise");
  struct Guard {
    ZSTD_DCtx* z;
    ~Guard() { ZSTD_freeDCtx(z); }
  } guard{z};
  ZSTD_DCtx_setParameter(z, ZSTD_d_windowLogMax, kMaxZstdWindowLog);
  ZSTD_inBuffer in{d.data(), d.size(), 0};
  return pump_stream(
      sink, "decompressed", [&](std::uint8_t* buf, std::size_t cap) -> Result<StepResult> {
        ZSTD_outBuffer out{buf, cap, 0};
        const std::size_t rc = ZSTD_decompressStream(z, &out, &in);
        if (ZSTD_isError(rc))
          return fail(fmt::format("corrupt zstd data: {}", ZSTD_getErrorName(rc)), in.pos);
        StepResult r{out.pos, rc == 0, in.pos};
        if (rc != 0 && in.pos == in.size && out.pos == 0)
          return fail("truncated zstd frame", in.pos);
        return r;
      });
}

}  // namespace

const Format kFormat_zstd =
    make_format(kind::kRawStream, "zstd", "Zstandard frame (libzstd)", kMagics, probe, extract);

}  // namespace probity::unpacker
