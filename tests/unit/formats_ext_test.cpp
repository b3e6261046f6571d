// The ext format (libext2fs) on images made by mkfs.ext4 -d / mkfs.ext2 -d from a source tree.
#include <gtest/gtest.h>

#include "formats_fixture.hpp"

namespace probity::test {
namespace {

TEST(FormatExt, Ext4TreeMatchesTheSource) {
  auto u = unpack_file(fixture("ext4.img"));
  const Container& c = u.only("ext");
  EXPECT_EQ(c.length, u.tree.image.size);
  EXPECT_TRUE(c.complete);
  EXPECT_EQ(c.description.rfind("ext4,", 0), 0u) << c.description;
  expect_tree(u, c.id, fixture("tree"), {.extra = {"lost+found"}});
  EXPECT_EQ(u.file(c.id, "etc/passwd.hard")->type, EntryType::kHardlink);
  EXPECT_EQ(u.file(c.id, "www/index.html")->uid, 1000u);
  EXPECT_TRUE(u.warnings("format-error").empty());
  EXPECT_TRUE(u.warnings("crc-mismatch").empty());
}

TEST(FormatExt, Ext2TreeMatchesTheSource) {
  auto u = unpack_file(fixture("ext2.img"));
  const Container& c = u.only("ext");
  EXPECT_EQ(c.description.rfind("ext2,", 0), 0u) << c.description;
  expect_tree(u, c.id, fixture("tree"), {.extra = {"lost+found"}});
}

TEST(FormatExt, TruncatedAndDamagedImagesWarn) {
  TempDir scratch;
  const auto img = fixture("ext4.img");
  for (std::size_t keep : {1100u, 2048u, 9000u, 70000u, 400000u, 1500000u}) {
    auto u = unpack_prefix(img, keep, scratch);
    if (keep < 2048) continue;  // superblock incomplete: not recognised
    ASSERT_EQ(u.containers("ext").size(), 1u) << keep;
    EXPECT_FALSE(u.warnings("format-error").empty()) << keep;
  }
  // Overwrite the inode table area with garbage: warnings (checksums, unreadable inodes).
  std::string bytes = read_text(img);
  for (std::size_t i = 4096; i < 200000; i += 7) bytes[i] = char(i * 31);
  write_bytes(scratch.path / "damaged.img", bytes);
  auto u = unpack_file(scratch.path / "damaged.img");
  EXPECT_FALSE(u.tree.warnings.empty());
}

}  // namespace
}  // namespace probity::test
