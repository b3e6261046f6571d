// The trx format on TRX images assembled by tests/fixtures/make-formats.sh (v1 and v2, a flipped
// bit, truncation, and a TRX inside a padded flash dump).
#include <gtest/gtest.h>

#include "formats_fixture.hpp"

namespace probity::test {
namespace {

void expect_parts(const Unpacked& u, std::uint64_t offset) {
  const Container& trx = u.only("trx");
  EXPECT_EQ(trx.offset, offset);
  std::set<std::string> names;
  for (const FileRecord* f : u.files_of(trx.id)) names.insert(f->path);
  EXPECT_EQ(names, (std::set<std::string>{"part0", "part1", "part2"}));
  EXPECT_EQ(u.file(trx.id, "part0")->sha256, file_sha(fixture("loader.bin")));
  EXPECT_EQ(u.file(trx.id, "part1")->sha256, file_sha(fixture("kernel.bin.gz")));
  EXPECT_EQ(u.file(trx.id, "part2")->sha256, file_sha(fixture("rootfs.squashfs")));
  // The partitions were carved again: the squashfs root filesystem is unpacked.
  const Container& sq = u.only("squashfs");
  const auto* busybox = u.file(sq.id, "bin/busybox");
  ASSERT_NE(busybox, nullptr);
  EXPECT_EQ(busybox->sha256, file_sha(fixture("tree/bin/busybox")));
}

TEST(FormatTrx, Version1) {
  auto u = unpack_file(fixture("trx-v1.trx"));
  expect_parts(u, 0);
  EXPECT_TRUE(u.warnings("crc-mismatch").empty());
  EXPECT_EQ(u.only("trx").length, u.tree.image.size);
  EXPECT_NE(u.only("trx").description.find("TRX v1"), std::string::npos);
}

TEST(FormatTrx, Version2) {
  auto u = unpack_file(fixture("trx-v2.trx"));
  expect_parts(u, 0);
  EXPECT_TRUE(u.warnings("crc-mismatch").empty());
  EXPECT_NE(u.only("trx").description.find("TRX v2"), std::string::npos);
}

TEST(FormatTrx, InsideAFlashDump) {
  auto u = unpack_file(fixture("trx-in-flash.bin"));
  expect_parts(u, 4096);
  EXPECT_TRUE(u.warnings("crc-mismatch").empty());
}

TEST(FormatTrx, FlippedBitIsACrcMismatch) {
  auto u = unpack_file(fixture("trx-badcrc.trx"));
  EXPECT_EQ(u.warnings("crc-mismatch").size(), 1u);
  const Container& trx = u.only("trx");
  EXPECT_NE(u.file(trx.id, "part1")->sha256, file_sha(fixture("kernel.bin.gz")));
}

TEST(FormatTrx, TruncatedImageWarns) {
  auto u = unpack_file(fixture("trx-truncated.trx"));
  const Container& trx = u.only("trx");
  EXPECT_EQ(trx.length, u.tree.image.size);
  EXPECT_FALSE(u.warnings("format-error").empty());
  EXPECT_TRUE(u.warnings("crc-mismatch").empty());
  EXPECT_EQ(u.file(trx.id, "part1")->sha256, file_sha(fixture("kernel.bin.gz")));
  TempDir scratch;
  for (std::size_t keep : {4u, 20u, 28u, 29u, 1100u})
    (void)unpack_prefix(fixture("trx-v1.trx"), keep, scratch);
}

}  // namespace
}  // namespace probity::test
