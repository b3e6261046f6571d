// Helpers shared by the compressed-stream formats (gzip, xz, lzma, bzip2, zstd, lz4).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "probity/limits.hpp"
#include "unpack/sink.hpp"

namespace probity::unpacker {

/// Output chunk size for streaming decoders.
inline constexpr std::size_t kStreamChunk = 256 * 1024;

/// Streams decoder output into one file and checks the caps after every chunk. `step` is called
/// with an output buffer and returns how much it wrote, whether the stream ended, and how many
/// input bytes have been consumed so far; it returns an Error on corruption.
struct StepResult {
  std::size_t produced = 0;
  bool done = false;
  std::uint64_t consumed = 0;
};

template <class StepFn>
Result<std::uint64_t> pump_stream(Sink& sink, const std::string& name, StepFn&& step) {
  auto out = sink.open_file(Entry{name, EntryType::kFile, 0644});
  if (!out) return fail_at(out.error(), 0);
  std::vector<std::uint8_t> buf(kStreamChunk);
  std::uint64_t total = 0, consumed = 0;
  for (;;) {
    Result<StepResult> r = step(buf.data(), buf.size());
    if (!r) {
      out->mark_truncated();
      out->close();
      return fail_at(r.error(), r.error().offset ? r.error().offset : consumed);
    }
    consumed = r->consumed;
    if (r->produced) {
      total += r->produced;
      if (auto st = out->write({buf.data(), r->produced}); !st) {
        out->close();
        return fail_at(st.error(), consumed);
      }
      if (auto st = sink.check_ratio(consumed, total); !st) {
        out->mark_truncated();
        out->close();
        return fail_at(st.error(), consumed);
      }
    }
    if (r->done) break;
    if (auto st = sink.check_time(); !st) {
      out->mark_truncated();
      out->close();
      return fail_at(st.error(), consumed);
    }
  }
  out->close();
  return consumed;
}

}  // namespace probity::unpacker
