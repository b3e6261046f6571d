// bzip2, decoded with libbz2. The magic includes the block header's pi signature, so a bare
// "BZh" in text is not a candidate.
#include <bzlib.h>

#include <fmt/format.h>

#include "unpack/format.hpp"
#include "unpack/stream.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {
    {"BZh11AY&SY", 0}, {"BZh21AY&SY", 0}, {"BZh31AY&SY", 0}, {"BZh41AY&SY", 0}, {"BZh51AY&SY", 0},
    {"BZh61AY&SY", 0}, {"BZh71AY&SY", 0}, {"BZh81AY&SY", 0}, {"BZh91AY&SY", 0},
};

std::optional<Probe> probe(Bytes d) {
  if (d.size() < 14 || !starts_with(d, "BZh") || d[3] < '1' || d[3] > '9') return std::nullopt;
  return Probe{0, fmt::format("bzip2, {}00k blocks", char(d[3]))};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  bz_stream s{};
  if (BZ2_bzDecompressInit(&s, 0, 0) != BZ_OK) return fail("libbz2: cannot initialise");
  struct Guard {
    bz_stream* s;
    ~Guard() { BZ2_bzDecompressEnd(s); }
  } guard{&s};
  std::uint64_t fed = 0;
  auto consumed = [&] { return (std::uint64_t(s.total_in_hi32) << 32) | s.total_in_lo32; };
  return pump_stream(
      sink, "decompressed", [&](std::uint8_t* buf, std::size_t cap) -> Result<StepResult> {
        if (s.avail_in == 0 && fed < d.size()) {
          const std::uint64_t n = std::min<std::uint64_t>(d.size() - fed, 1u << 30);
          s.next_in = reinterpret_cast<char*>(const_cast<std::uint8_t*>(d.data() + fed));
          s.avail_in = unsigned(n);
          fed += n;
        }
        s.next_out = reinterpret_cast<char*>(buf);
        s.avail_out = unsigned(cap);
        int rc = BZ2_bzDecompress(&s);
        StepResult r{cap - s.avail_out, rc == BZ_STREAM_END, consumed()};
        if (rc == BZ_STREAM_END) return r;
        if (rc != BZ_OK)
          return fail(fmt::format("corrupt bzip2 data (libbz2 error {})", rc), consumed());
        if (s.avail_in == 0 && fed >= d.size() && r.produced == 0)
          return fail("truncated bzip2 stream", consumed());
        return r;
      });
}

}  // namespace

const Format kFormat_bzip2 =
    make_format(kind::kRawStream, "bzip2", "bzip2 stream (libbz2)", kMagics, probe, extract);

}  // namespace probity::unpacker
