// Corrupted copies of images straight through one format (probe, then extract into a dry-run
// sink with no directory): every one must end, with or without an error.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "formats_fixture.hpp"
#include "unpack/format.hpp"
#include "unpack/sink.hpp"

namespace probity::test {

/// Flips 1-8 random bits in the first `window` bytes of each image, `rounds` times per image,
/// and extracts every copy the probe accepts. Returns how many were probed.
inline int byte_flips_through(const char* format, const std::vector<std::filesystem::path>& images,
                              int rounds, std::size_t window) {
  const unpacker::Format* f = unpacker::find_format(format);
  EXPECT_NE(f, nullptr) << format;
  if (!f) return 0;
  std::uint32_t x = 2463534242u;
  auto next = [&] {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return x;
  };
  int probed = 0;
  for (const auto& path : images) {
    const std::string orig = read_text(path);
    if (orig.empty()) continue;
    for (int round = 0; round < rounds; ++round) {
      std::string img = orig;
      const int flips = 1 + int(next() % 8);
      for (int k = 0; k < flips; ++k) img[next() % window % img.size()] ^= char(1u << (next() % 8));
      const Bytes b(reinterpret_cast<const std::uint8_t*>(img.data()), img.size());
      if (!f->probe(b)) continue;
      ++probed;
      Limits lim;
      lim.max_total_bytes = 64 * kMiB;
      unpacker::RunState run(lim);
      unpacker::Sink sink(run, 1, nullptr, "extracted/1-test", {});
      (void)f->extract(b, sink);
    }
  }
  return probed;
}

}  // namespace probity::test
