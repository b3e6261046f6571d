// The carver and weak magics (Magic::weak): old-binary cpio's two-byte magic is carved at any
// offset, but only where the probe accepts the bytes, so a blob full of stray magic bytes neither
// yields candidates nor fills the per-magic candidate cap.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "unpack/carve.hpp"

namespace probity::unpacker {
namespace {

void put16(std::vector<std::uint8_t>& v, std::uint16_t x) {
  v.push_back(std::uint8_t(x));
  v.push_back(std::uint8_t(x >> 8));
}

/// One entry of a little-endian old-binary cpio (header, name and data padded to even).
void binary_entry(std::vector<std::uint8_t>& v, std::uint16_t mode, const std::string& name,
                  const std::string& data) {
  put16(v, 070707);
  for (std::uint16_t f : {0, 1}) put16(v, f);  // dev, ino
  put16(v, mode);
  for (std::uint16_t f : {0, 0, 1, 0, 0, 0}) put16(v, f);  // uid gid nlink rdev mtime[2]
  put16(v, std::uint16_t(name.size() + 1));
  put16(v, 0);
  put16(v, std::uint16_t(data.size()));
  v.insert(v.end(), name.begin(), name.end());
  v.push_back(0);
  if (v.size() % 2) v.push_back(0);
  v.insert(v.end(), data.begin(), data.end());
  if (v.size() % 2) v.push_back(0);
}

std::vector<std::uint8_t> noise_with_stray_magics() {
  std::mt19937 rng(7);
  std::vector<std::uint8_t> blob(1 << 20);
  for (auto& b : blob) b = std::uint8_t(rng());
  // ~1050 of each byte order; none at offset 0, where every magic is a start candidate.
  for (std::size_t i = 499; i + 2 < blob.size(); i += 499) {
    blob[i] = (i / 499) % 2 ? 0xc7 : 0x71;
    blob[i + 1] = (i / 499) % 2 ? 0x71 : 0xc7;
  }
  return blob;
}

std::vector<Candidate> cpio_candidates(const std::vector<std::uint8_t>& blob,
                                       std::vector<CandidateCap>& capped) {
  std::vector<Candidate> out;
  for (const auto& c : find_candidates(Bytes(blob), 100, capped))
    if (c.format->id == "cpio") out.push_back(c);
  return out;
}

}  // namespace

TEST(CarveWeakMagic, StrayBinaryCpioMagicsAreNeitherCandidatesNorCapped) {
  std::vector<CandidateCap> capped;
  EXPECT_TRUE(cpio_candidates(noise_with_stray_magics(), capped).empty());
  for (const auto& c : capped) EXPECT_NE(c.format->id, "cpio") << c.dropped << " dropped";
}

TEST(CarveWeakMagic, BinaryCpioIsFoundAtAnOffsetAmongStrayMagics) {
  auto blob = noise_with_stray_magics();
  std::vector<std::uint8_t> cpio;
  binary_entry(cpio, 0100644, "etc/banner", "hello\n");
  binary_entry(cpio, 0, "TRAILER!!!", "");
  constexpr std::size_t kAt = 300001;  // odd, between two stray magics
  std::copy(cpio.begin(), cpio.end(), blob.begin() + kAt);
  std::vector<CandidateCap> capped;
  const auto found = cpio_candidates(blob, capped);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].start, kAt);
}

}  // namespace probity::unpacker
