// The ubi format on an image made by ubinize from a UBIFS volume (mkfs.ubifs), a static kernel
// volume and a dynamic volume holding a squashfs (the OpenWrt layout).
#include <gtest/gtest.h>

#include "formats_fixture.hpp"

namespace probity::test {
namespace {

TEST(FormatUbi, VolumesRebuilt) {
  auto u = unpack_file(fixture("ubi.img"));
  const Container& c = u.only("ubi");
  EXPECT_EQ(c.length, u.tree.image.size);
  EXPECT_NE(c.description.find("128 KiB PEBs"), std::string::npos) << c.description;
  std::set<std::string> names;
  for (const FileRecord* f : u.files_of(c.id)) names.insert(f->path);
  EXPECT_EQ(names, (std::set<std::string>{"rootfs", "kernel", "rootfs_squashfs"}));
  EXPECT_EQ(u.file(c.id, "rootfs")->sha256, file_sha(fixture("rootfs.ubifs")));
  EXPECT_EQ(u.file(c.id, "kernel")->sha256, file_sha(fixture("kernel.bin.gz")));
  // A dynamic volume is whole LEBs: the squashfs, then erased flash.
  const auto* sq = u.file(c.id, "rootfs_squashfs");
  ASSERT_NE(sq, nullptr);
  const std::string vol = read_text(u.out() / sq->extracted);
  const std::string img = read_text(fixture("rootfs.squashfs"));
  ASSERT_GE(vol.size(), img.size());
  EXPECT_EQ(vol.substr(0, img.size()), img);
  EXPECT_EQ(vol.find_first_not_of('\xff', img.size()), std::string::npos);
  // Volumes are carved again: the squashfs and the gzip kernel are unpacked.
  const Container& squash = u.only("squashfs");
  const auto* bb = u.file(squash.id, "bin/busybox");
  ASSERT_NE(bb, nullptr);
  EXPECT_EQ(bb->sha256, file_sha(fixture("tree/bin/busybox")));
  EXPECT_EQ(u.file(u.only("gzip").id, "decompressed")->sha256, file_sha(fixture("kernel.bin")));
  EXPECT_TRUE(u.warnings("crc-mismatch").empty());
}

TEST(FormatUbi, StaticVolumeDataCrc) {
  auto u = unpack_file(fixture("ubi-corrupt.img"));
  auto w = u.warnings("crc-mismatch");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0]->entry, "kernel");
  const Container& c = u.only("ubi");
  EXPECT_TRUE(u.file(c.id, "kernel")->truncated);
  EXPECT_EQ(u.file(c.id, "rootfs")->sha256, file_sha(fixture("rootfs.ubifs")));
}

TEST(FormatUbi, TruncatedImage) {
  auto u = unpack_file(fixture("ubi-truncated.img"));
  const Container& c = u.only("ubi");
  EXPECT_FALSE(u.warnings("format-error").empty());
  const auto* rootfs = u.file(c.id, "rootfs");
  ASSERT_NE(rootfs, nullptr);
  EXPECT_TRUE(rootfs->truncated);
  TempDir scratch;
  for (std::size_t keep : {64u, 2048u, 5000u, 131072u, 140000u, 300000u})
    (void)unpack_prefix(fixture("ubi.img"), keep, scratch);
}

}  // namespace
}  // namespace probity::test
