#include "unpack/inflate.hpp"

#include <zlib.h>

#include <fmt/format.h>

#include <algorithm>

#include "unpack/stream.hpp"

namespace probity::unpacker {

Result<std::uint64_t> inflate_stream(Bytes d, Sink& sink, const std::string& name, int window_bits,
                                     std::string_view what) {
  z_stream z{};
  if (inflateInit2(&z, window_bits) != Z_OK) return fail("zlib: cannot initialise");
  struct Guard {
    z_stream* z;
    ~Guard() { inflateEnd(z); }
  } guard{&z};
  std::uint64_t fed = 0;
  return pump_stream(sink, name, [&](std::uint8_t* buf, std::size_t cap) -> Result<StepResult> {
    if (z.avail_in == 0 && fed < d.size()) {
      const std::uint64_t n = std::min<std::uint64_t>(d.size() - fed, 1u << 30);
      z.next_in = const_cast<Bytef*>(d.data() + fed);
      z.avail_in = uInt(n);
      fed += n;
    }
    z.next_out = buf;
    z.avail_out = uInt(cap);
    const int rc = inflate(&z, Z_NO_FLUSH);
    StepResult s{cap - z.avail_out, rc == Z_STREAM_END, fed - z.avail_in};
    if (rc == Z_STREAM_END) return s;
    if (rc == Z_BUF_ERROR && z.avail_in == 0 && fed >= d.size())
      return fail(
          fmt::format("truncated {} stream (input ended before the end of the stream)", what),
          fed - z.avail_in);
    if (rc != Z_OK && rc != Z_BUF_ERROR)
      return fail(fmt::format("corrupt deflate data: {}", z.msg ? z.msg : "error"),
                  fed - z.avail_in);
    return s;
  });
}

}  // namespace probity::unpacker
