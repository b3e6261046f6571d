// The ubifs format on images made by mkfs.ubifs (lzo default, none, zlib, zstd), standalone and
// inside a UBI volume made by ubinize.
#include <gtest/gtest.h>

#include "formats_fixture.hpp"

namespace probity::test {
namespace {

void expect_ubifs(const std::string& name, const char* compr) {
  auto u = unpack_file(fixture(name));
  const Container& c = u.only("ubifs");
  EXPECT_EQ(c.length, u.tree.image.size);
  EXPECT_TRUE(c.complete);
  EXPECT_NE(c.description.find(std::string("default compression ") + compr), std::string::npos)
      << c.description;
  expect_tree(u, c.id, fixture("tree"), {});
  EXPECT_EQ(u.file(c.id, "etc/passwd.hard")->type, EntryType::kHardlink);
  EXPECT_TRUE(u.warnings("crc-mismatch").empty());
  EXPECT_TRUE(u.warnings("format-error").empty());
}

TEST(FormatUbifs, Lzo) {
  expect_ubifs("rootfs.ubifs", "lzo");
}
TEST(FormatUbifs, Uncompressed) {
  expect_ubifs("rootfs-none.ubifs", "none");
}
TEST(FormatUbifs, Zlib) {
  expect_ubifs("rootfs-zlib.ubifs", "zlib");
}
TEST(FormatUbifs, Zstd) {
  expect_ubifs("rootfs-zstd.ubifs", "zstd");
}

TEST(FormatUbifs, InsideUbi) {
  auto u = unpack_file(fixture("ubi.img"));
  const Container& c = u.only("ubifs");
  EXPECT_EQ(c.parent, u.only("ubi").id);
  expect_tree(u, c.id, fixture("tree"), {});
}

TEST(FormatUbifs, CorruptNodeIsReported) {
  TempDir scratch;
  std::string bytes = read_text(fixture("rootfs-none.ubifs"));
  // Uncompressed busybox: flip a byte inside its data (found by content).
  const std::string busybox = read_text(fixture("tree/bin/busybox"));
  const auto at = bytes.find(busybox.substr(100000, 64));
  ASSERT_NE(at, std::string::npos);
  bytes[at] ^= 0x01;
  write_bytes(scratch.path / "bad.ubifs", bytes);
  auto u = unpack_file(scratch.path / "bad.ubifs");
  EXPECT_EQ(u.warnings("crc-mismatch").size(), 1u);
  const Container& c = u.only("ubifs");
  const auto* bb = u.file(c.id, "bin/busybox");
  ASSERT_NE(bb, nullptr);
  EXPECT_TRUE(bb->truncated);
  EXPECT_EQ(u.file(c.id, "etc/passwd")->sha256, file_sha(fixture("tree/etc/passwd")));
}

TEST(FormatUbifs, TruncatedImagesDoNotCrash) {
  TempDir scratch;
  for (std::size_t keep : {24u, 4096u, 126976u, 300000u, 1000000u})
    (void)unpack_prefix(fixture("rootfs.ubifs"), keep, scratch);
}

}  // namespace
}  // namespace probity::test
