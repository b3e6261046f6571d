// lzma-alone streams with the properties bytes, dictionary sizes and size fields firmware uses
// (0x6e and 0x5a as in TP-Link VxWorks images, 4 KiB and odd dictionaries, known and unknown
// sizes), each inside random bytes (tests/fixtures/make-lzma-alone.py): found at their offset and
// decoded to the original bytes. And 1 MiB of random bytes with 4,000 plausible headers sprinkled
// over it: only the one real stream becomes a container, quickly (the probe's trial decode).
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "formats_fixture.hpp"

namespace probity::test {
namespace {

namespace fs = std::filesystem;

fs::path lzfile(const std::string& name) {
  return generated("lzma-alone", "make-lzma-alone.py", name);
}

/// name -> offset of the stream in <name>.bin (offsets.tsv).
std::map<std::string, std::uint64_t> offsets() {
  std::map<std::string, std::uint64_t> out;
  std::ifstream f(lzfile("offsets.tsv"));
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream row(line);
    std::string name;
    std::uint64_t at = 0;
    if (row >> name >> at) out[name] = at;
  }
  return out;
}

struct Case {
  const char* name;
  const char* description;  ///< a part of the container's description
};

class LzmaAlone : public ::testing::TestWithParam<Case> {};

TEST_P(LzmaAlone, FoundAtItsOffsetAndDecoded) {
  const Case& c = GetParam();
  const auto at = offsets();
  ASSERT_TRUE(at.contains(c.name)) << c.name;
  auto u = unpack_file(lzfile(std::string(c.name) + ".bin"));
  const auto found = u.containers("lzma");
  ASSERT_EQ(found.size(), 1u) << c.name;
  const Container& ct = *found.front();
  EXPECT_EQ(ct.offset, at.at(c.name));
  EXPECT_NE(ct.description.find(c.description), std::string::npos) << ct.description;
  const FileRecord* out = u.file(ct.id, "decompressed");
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(out->sha256, file_sha(lzfile(std::string(c.name) + ".expected")));
  EXPECT_TRUE(u.warnings("format-error").empty()) << u.warnings("format-error").front()->message;
}

INSTANTIATE_TEST_SUITE_P(
    Streams, LzmaAlone,
    ::testing::Values(
        Case{"props6e-4k-unknown",
             "size unknown, properties 0x6e (lc=2 lp=2 pb=2), dictionary 4 KiB"},
        Case{"props5a-4k-known", "30000 bytes, properties 0x5a (lc=0 lp=0 pb=2), dictionary 4 KiB"},
        Case{"props5d-6k-known", "20000 bytes, properties 0x5d (lc=3 lp=0 pb=2), dictionary 6 KiB"},
        Case{"props00-odd-unknown", "properties 0x00 (lc=0 lp=0 pb=0), dictionary 74565 bytes"},
        Case{"props01-1m-known",
             "100000 bytes, properties 0x01 (lc=1 lp=0 pb=0), dictionary 1024 KiB"},
        Case{"props5e-3m-unknown", "properties 0x5e (lc=4 lp=0 pb=2), dictionary 3072 KiB"},
        Case{"props24-64k-known", "properties 0x24 (lc=0 lp=4 pb=0), dictionary 64 KiB"},
        Case{"props5d-16m-known",
             "45000 bytes, properties 0x5d (lc=3 lp=0 pb=2), dictionary 16384 KiB"},
        Case{"props6e-small-known", "300 bytes, properties 0x6e"}),
    [](const auto& info) { return file_case_name(info.param.name); });

TEST(LzmaAloneHostile, SprinkledHeadersOverRandomBytesMakeNoContainer) {
  const auto at = offsets();
  ASSERT_TRUE(at.contains("real"));
  const auto t0 = std::chrono::steady_clock::now();
  auto u = unpack_file(lzfile("hostile-sprinkled.bin"));
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto found = u.containers("lzma");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found.front()->offset, at.at("real"));
  const FileRecord* out = u.file(found.front()->id, "decompressed");
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(out->sha256, file_sha(lzfile("real.expected")));
  EXPECT_TRUE(u.warnings("cap-candidates").empty());
  // 4,000 headers each confirmed or refused by a trial decode: well under a second in a release
  // build; the bound leaves room for a loaded machine and sanitizers.
  EXPECT_LT(secs, 20.0);
  std::cerr << "hostile-sprinkled.bin unpacked in " << secs << " s\n";
}

}  // namespace
}  // namespace probity::test
