// The shared body of the per-format fuzz targets: probe, then extract through a dry-run Sink
// (no directory: content is hashed and recorded, never written), exactly as the driver calls a
// format.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "unpack/format.hpp"
#include "unpack/sink.hpp"

namespace probity::fuzz {

/// Caps for fuzzing: small enough that a hostile input cannot exhaust -rss_limit_mb.
inline Limits fuzz_limits() {
  Limits l;
  l.max_total_bytes = 64 * kMiB;
  l.max_file_bytes = 32 * kMiB;
  l.ratio_floor_bytes = 4 * kMiB;
  l.max_entries = 10'000;
  l.format_seconds = 5;
  return l;
}

inline int run_format(const char* id, const std::uint8_t* data, std::size_t size) {
  const unpacker::Format* f = unpacker::find_format(id);
  if (!f) std::abort();  // the target names a format that is not registered
  const Bytes d(data, size);
  if (!f->probe(d)) return 0;
  unpacker::RunState run(fuzz_limits());
  unpacker::Sink sink(run, 1, nullptr, "extracted/1-fuzz", {});
  (void)f->extract(d, sink);
  return 0;
}

}  // namespace probity::fuzz

/// Defines the libFuzzer entry point for one format id.
#define PROBITY_FORMAT_FUZZER(id)                                                     \
  extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) { \
    return probity::fuzz::run_format(id, data, size);                                 \
  }
