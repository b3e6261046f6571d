// The cramfs format on images made by mkfs.cramfs (little- and big-endian) from a source tree.
#include <gtest/gtest.h>

#include "formats_fixture.hpp"

namespace probity::test {
namespace {

// cramfs keeps no mtimes and makes hard links separate files sharing data.
const TreeCheck kCramfs{.mtime = false, .hardlinks = false};

TEST(FormatCramfs, LittleEndian) {
  auto u = unpack_file(fixture("cramfs.img"));
  const Container& c = u.only("cramfs");
  EXPECT_EQ(c.length, u.tree.image.size);
  EXPECT_TRUE(c.complete);
  expect_tree(u, c.id, fixture("tree"), kCramfs);
  EXPECT_TRUE(u.warnings("crc-mismatch").empty());
  EXPECT_TRUE(u.warnings("format-error").empty());
}

TEST(FormatCramfs, BigEndian) {
  auto u = unpack_file(fixture("cramfs-be.img"));
  const Container& c = u.only("cramfs");
  EXPECT_NE(c.description.find("big-endian"), std::string::npos);
  expect_tree(u, c.id, fixture("tree"), kCramfs);
  EXPECT_TRUE(u.warnings("crc-mismatch").empty());
}

TEST(FormatCramfs, FlippedByteIsACrcMismatchAndBadBlock) {
  TempDir scratch;
  std::string bytes = read_text(fixture("cramfs.img"));
  bytes[bytes.size() / 2] ^= 0x55;  // inside busybox's compressed blocks
  write_bytes(scratch.path / "bad.cramfs", bytes);
  auto u = unpack_file(scratch.path / "bad.cramfs");
  EXPECT_EQ(u.warnings("crc-mismatch").size(), 1u);
  EXPECT_FALSE(u.warnings("format-error").empty());
  const Container& c = u.only("cramfs");
  const auto* bb = u.file(c.id, "bin/busybox");
  ASSERT_NE(bb, nullptr);
  EXPECT_TRUE(bb->truncated);
  EXPECT_EQ(u.file(c.id, "etc/passwd")->sha256, file_sha(fixture("tree/etc/passwd")));
}

TEST(FormatCramfs, TruncatedImagesWarn) {
  TempDir scratch;
  for (std::size_t keep : {76u, 200u, 1000u, 5000u, 100000u, 300000u}) {
    auto u = unpack_prefix(fixture("cramfs.img"), keep, scratch);
    ASSERT_EQ(u.containers("cramfs").size(), 1u) << keep;
    EXPECT_FALSE(u.warnings("format-error").empty()) << keep;
  }
}

}  // namespace
}  // namespace probity::test
