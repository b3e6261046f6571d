// liblzma decoding shared by the xz, lzip and lzma-alone formats: an initialised decoder is fed the
// whole blob with LZMA_FINISH and its output streamed into one file through pump_stream.
#pragma once

#include <lzma.h>

#include <string_view>

#include <fmt/format.h>

#include "unpack/stream.hpp"

namespace probity::unpacker {

/// Decodes `d` with the initialised decoder `s` (ended here) into the file "decompressed";
/// `what` names the data in errors ("xz stream", "lzip member", "lzma stream"). Returns the bytes
/// consumed.
inline Result<std::uint64_t> pump_liblzma(lzma_stream& s, Bytes d, Sink& sink,
                                          std::string_view what) {
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
