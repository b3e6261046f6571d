// The jffs2 format on images made by mkfs.jffs2 (little/big endian, zlib+rtime, lzo,
// uncompressed).
#include <gtest/gtest.h>

#include "formats_fixture.hpp"

namespace probity::test {
namespace {

void expect_jffs2(const std::string& name, bool big) {
  auto u = unpack_file(fixture(name));
  const Container& c = u.only("jffs2");
  EXPECT_EQ(c.offset, 0u);
  EXPECT_TRUE(c.complete);
  EXPECT_NE(c.description.find(big ? "big-endian" : "little-endian"), std::string::npos);
  expect_tree(u, c.id, fixture("tree"), {});
  EXPECT_EQ(u.file(c.id, "etc/passwd.hard")->type, EntryType::kHardlink);
  EXPECT_TRUE(u.warnings("crc-mismatch").empty());
  EXPECT_TRUE(u.warnings("format-error").empty());
}

TEST(FormatJffs2, LittleEndianZlib) {
  expect_jffs2("jffs2-le.img", false);
}
TEST(FormatJffs2, BigEndianZlib) {
  expect_jffs2("jffs2-be.img", true);
}
TEST(FormatJffs2, Lzo) {
  expect_jffs2("jffs2-lzo.img", false);
}
TEST(FormatJffs2, Uncompressed) {
  expect_jffs2("jffs2-none.img", false);
}

TEST(FormatJffs2, CorruptDataNodeIsReported) {
  TempDir scratch;
  std::string bytes = read_text(fixture("jffs2-le.img"));
  // Inside busybox's data (random, so its nodes are large); the node header stays intact.
  const std::size_t at = bytes.size() / 3;
  bytes[at] ^= 0x01;
  write_bytes(scratch.path / "bad.jffs2", bytes);
  auto u = unpack_file(scratch.path / "bad.jffs2");
  EXPECT_EQ(u.warnings("crc-mismatch").size(), 1u);
  const Container& c = u.only("jffs2");
  const auto* bb = u.file(c.id, "bin/busybox");
  ASSERT_NE(bb, nullptr);
  EXPECT_TRUE(bb->truncated);
  EXPECT_NE(bb->sha256, file_sha(fixture("tree/bin/busybox")));
  EXPECT_EQ(u.file(c.id, "etc/passwd")->sha256, file_sha(fixture("tree/etc/passwd")));
}

TEST(FormatJffs2, ObsoleteNodesAreSkippedNotTheEndOfTheLog) {
  // Mark every large inode node obsolete (clear the "accurate" bit of its node type, as the
  // kernel does in place): busybox's ~300 KB of data nodes disappear, the nodes after them stay.
  std::string bytes = read_text(fixture("jffs2-le.img"));
  std::size_t marked = 0;
  for (std::size_t off = 0; off + 12 <= bytes.size();) {
    auto u8 = [&](std::size_t i) { return std::uint32_t(std::uint8_t(bytes[off + i])); };
    if (u8(0) != 0x85 || u8(1) != 0x19) {
      off += 4;
      continue;
    }
    const std::uint32_t type = u8(2) | u8(3) << 8;
    const std::uint32_t len = u8(4) | u8(5) << 8 | u8(6) << 16 | u8(7) << 24;
    if (type == 0xe002 && len > 1000) {
      bytes[off + 3] = char(u8(3) & ~0x20u);
      ++marked;
    }
    off = (off + len + 3) & ~std::size_t(3);
  }
  ASSERT_GT(marked, 10u);
  TempDir scratch;
  write_bytes(scratch.path / "obsolete.jffs2", bytes);
  auto u = unpack_file(scratch.path / "obsolete.jffs2");
  const Container& c = u.only("jffs2");
  EXPECT_EQ(c.length, unpack_file(fixture("jffs2-le.img")).only("jffs2").length);
  EXPECT_TRUE(u.warnings("crc-mismatch").empty());
  ASSERT_NE(u.file(c.id, "etc/passwd"), nullptr);
  EXPECT_EQ(u.file(c.id, "etc/passwd")->sha256, file_sha(fixture("tree/etc/passwd")));
  ASSERT_NE(u.file(c.id, "www/abs-link"), nullptr);
  EXPECT_EQ(u.file(c.id, "www/abs-link")->link, "/etc/passwd");
  const auto* bb = u.file(c.id, "bin/busybox");
  EXPECT_TRUE(bb == nullptr || bb->sha256 != file_sha(fixture("tree/bin/busybox")));
}

TEST(FormatJffs2, TruncatedImagesDoNotCrash) {
  TempDir scratch;
  for (std::size_t keep : {12u, 50u, 300u, 5000u, 100000u, 250000u}) {
    auto u = unpack_prefix(fixture("jffs2-be.img"), keep, scratch);
    EXPECT_LE(u.containers("jffs2").size(), 1u) << keep;
  }
}

}  // namespace
}  // namespace probity::test

namespace probity::test {
namespace {

/// jffs2's CRC-32 (the kernel's crc32(0, ...): reflected polynomial, no inversion).
std::uint32_t jffs2_crc(const std::string& s) {
  std::uint32_t crc = 0;
  for (unsigned char c : s) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return crc;
}

}  // namespace

TEST(FormatJffs2, ADirentNameWithASlashIsRefusedNotASubdirectory) {
  // Rename the dirent "passwd" to "pa/swd" in place (same length; its name CRC recomputed):
  // a name with '/' is no POSIX name, and must not create etc/pa/swd.
  std::string bytes = read_text(fixture("jffs2-le.img"));
  std::size_t renamed = 0;
  for (std::size_t off = 0; off + 46 <= bytes.size(); off += 4) {
    if (bytes.compare(off, 4, std::string("\x85\x19\x01\xe0", 4)) != 0) continue;
    if (std::uint8_t(bytes[off + 28]) != 6 || bytes.compare(off + 40, 6, "passwd") != 0) continue;
    bytes.replace(off + 40, 6, "pa/swd");
    const std::uint32_t crc = jffs2_crc("pa/swd");
    for (int k = 0; k < 4; ++k) bytes[off + 36 + k] = char((crc >> (8 * k)) & 0xff);
    ++renamed;
  }
  ASSERT_GT(renamed, 0u);
  TempDir scratch;
  write_bytes(scratch.path / "slash.jffs2", bytes);
  auto u = unpack_file(scratch.path / "slash.jffs2");
  const Container& c = u.only("jffs2");
  EXPECT_FALSE(u.warnings("path-escape").empty());
  EXPECT_EQ(u.file(c.id, "etc/pa/swd"), nullptr);
  EXPECT_EQ(u.file(c.id, "etc/pa"), nullptr);
  EXPECT_NE(u.file(c.id, "etc/init.d/rcS"), nullptr) << "the other entries are still extracted";
}

}  // namespace probity::test
