// liblzma decoding shared by the xz, lzip, lzma-alone and Arcadyan formats: a decoder is fed the
// whole blob with LZMA_FINISH and its output streamed into one file through pump_stream.
#pragma once

#include <lzma.h>

#include <string_view>

#include <fmt/format.h>

#include "unpack/stream.hpp"

namespace probity::unpacker {

/// Decodes `d` into the file "decompressed" with the decoder `init(lzma_stream*)` sets up (its
/// lzma_ret); `what` names the data in errors ("xz stream", "lzip member", "lzma stream").
/// Returns the bytes consumed.
template <class Init>
Result<std::uint64_t> decode_liblzma(Bytes d, Sink& sink, std::string_view what, Init init) {
  lzma_stream s = LZMA_STREAM_INIT;
  if (init(&s) != LZMA_OK)
    return fail(fmt::format("liblzma: cannot initialise the decoder of the {}", what));
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
          return fail(fmt::format("{} needs more than {} MiB to decode (decoder memory cap)", what,
                                  kMaxDecoderMemory / kMiB),
                      s.total_in);
        if (rc == LZMA_BUF_ERROR) return fail(fmt::format("truncated {}", what), s.total_in);
        return fail(fmt::format("corrupt {} (liblzma error {})", what, int(rc)), s.total_in);
      });
}

}  // namespace probity::unpacker
