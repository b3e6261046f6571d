// zlib streams (RFC 1950): a two-byte header, raw deflate, an Adler-32 of the output. Vendors
// store kernels, root filesystems and configuration blobs as bare zlib streams (no gzip header):
// ZyNOS ROM images, some VxWorks and Realtek builds, FACT's zlib carver test. The header has no
// magic worth the name (78 01 / 78 5e / 78 9c / 78 da, one hit per 16 KiB of random data), so
// the magics are weak and the probe confirms a candidate by a bounded trial decode: the stream
// must end with its Adler-32 verified by zlib, or decode kZlibTrialOutput bytes without an
// error. Random bytes after a plausible header fail within a few dozen bytes (a reserved block
// type, an over-subscribed code-length set, a distance reaching before the start).
#include <zlib.h>

#include <fmt/format.h>

#include <memory>

#include "unpack/format.hpp"
#include "unpack/inflate.hpp"

namespace probity::unpacker {
namespace {

using namespace std::string_view_literals;

// CMF 0x78: deflate with a 32 KiB window, what every zlib writer emits. The FLG bytes are the
// four FLEVEL values with FDICT clear and the FCHECK that makes CMF*256+FLG a multiple of 31.
constexpr Magic kMagics[] = {{"\x78\x01"sv, 0, true},
                             {"\x78\x5e"sv, 0, true},
                             {"\x78\x9c"sv, 0, true},
                             {"\x78\xda"sv, 0, true}};

/// The trial decode: at most this much output from at most this much input (probe thresholds,
/// not caps).
constexpr std::size_t kTrialOutput = 64 * 1024;
constexpr std::size_t kTrialInput = 64 * 1024;

bool header_ok(Bytes d) {
  if (d.size() < 8) return false;
  const unsigned cmf = d[0], flg = d[1];
  if ((cmf & 0x0f) != 8 || (cmf >> 4) > 7) return false;  // deflate, window <= 32 KiB
  if ((cmf * 256 + flg) % 31 != 0) return false;
  if (flg & 0x20) return false;   // FDICT: a preset dictionary we do not have
  return ((d[2] >> 1) & 3) != 3;  // the first block's type: 3 is reserved
}

const char* level_name(std::uint8_t flg) {
  switch (flg >> 6) {
    case 0:
      return "fastest";
    case 1:
      return "fast";
    case 2:
      return "default";
    default:
      return "maximum";
  }
}

/// True when zlib decodes the start of the stream cleanly: it ends (Adler-32 checked) or
/// kTrialOutput bytes came out, or kTrialInput bytes went in, without an error.
bool trial_decode(Bytes d) {
  z_stream z{};
  if (inflateInit(&z) != Z_OK) return false;
  struct Guard {
    z_stream* z;
    ~Guard() { inflateEnd(z); }
  } guard{&z};
  auto buf = std::make_unique_for_overwrite<std::uint8_t[]>(kTrialOutput);
  const Bytes in = sub(d, 0, kTrialInput);
  z.next_in = const_cast<Bytef*>(in.data());
  z.avail_in = uInt(in.size());
  z.next_out = buf.get();
  z.avail_out = uInt(kTrialOutput);
  const int rc = inflate(&z, Z_FINISH);
  if (rc == Z_STREAM_END) return z.total_out > 0;
  // Out of output, or all of the trial input consumed, with no error so far.
  return (rc == Z_BUF_ERROR || rc == Z_OK) &&
         (z.avail_out == 0 || (z.avail_in == 0 && in.size() == kTrialInput));
}

std::optional<Probe> probe(Bytes d) {
  if (!header_ok(d) || !trial_decode(d)) return std::nullopt;
  return Probe{0, fmt::format("zlib stream, {} compression", level_name(d[1]))};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  if (!header_ok(d)) return fail("bad zlib header");
  sink.describe(fmt::format("zlib stream, {} compression", level_name(d[1])));
  return inflate_stream(d, sink, "decompressed", MAX_WBITS, "zlib");
}

}  // namespace

const Format kFormat_zlib =
    make_format(kind::kRawStream, "zlib", "zlib stream (RFC 1950, zlib)", kMagics, probe, extract);

}  // namespace probity::unpacker
