// The squashfs_legacy format (SquashFS 1.x-3.x): images from tests/fixtures/make-squashfs-legacy.py
// (written from the documented layout; Debian's unsquashfs 4.5 extracts the zlib ones to the same
// tree), its hostile variants, and the public vectors of ../shared/vectors/formats when present.
#include <gtest/gtest.h>

#include <iostream>

#include "format_flips.hpp"
#include "formats_fixture.hpp"
#include "unpack/format.hpp"

namespace probity::test {
namespace {

namespace fs = std::filesystem;

fs::path legacy(const std::string& name) {
  return generated("squashfs-legacy", "make-squashfs-legacy.py", name);
}

struct Case {
  const char* file;
  const char* description;  ///< a part of the container's description
};

class SquashfsLegacy : public ::testing::TestWithParam<Case> {};

TEST_P(SquashfsLegacy, ExtractsTheSourceTree) {
  const Case& c = GetParam();
  auto u = unpack_file(legacy(c.file));
  ASSERT_EQ(u.containers("squashfs_legacy").size(), 1u);
  EXPECT_TRUE(u.containers("squashfs").empty());
  const Container& ct = u.only("squashfs_legacy");
  EXPECT_EQ(ct.offset, 0u);
  EXPECT_TRUE(ct.complete);
  EXPECT_NE(ct.description.find(c.description), std::string::npos) << ct.description;
  expect_tree(u, ct.id, legacy("tree"), TreeCheck{});
  for (const auto& w : u.tree.warnings) ADD_FAILURE() << w.code << ": " << w.message;
  // The hard link is a link where the format keeps one (2.x/3.x share the inode).
  const FileRecord* sh = u.file(ct.id, "bin/sh");
  ASSERT_NE(sh, nullptr);
  if (std::string(c.file).starts_with("sqfs1")) {
    EXPECT_EQ(sh->type, EntryType::kFile);
  } else {
    EXPECT_EQ(sh->type, EntryType::kHardlink);
    EXPECT_EQ(sh->link, "bin/busybox");
  }
}

INSTANTIATE_TEST_SUITE_P(
    Images, SquashfsLegacy,
    ::testing::Values(Case{"sqfs3-le.img", "squashfs 3.1 little-endian, zlib"},
                      Case{"sqfs3-be.img", "squashfs 3.1 big-endian, zlib"},
                      Case{"sqfs3-le-lzma-raw.img", "lzma (no header), properties 0x5d"},
                      Case{"sqfs3-be-lzma-props.img",
                           "3.0 big-endian (vendor magic \"qshs\"), lzma (5-byte properties"},
                      Case{"sqfs3-le-lzma-alone.img", "(vendor magic \"shsq\"), lzma (13-byte"},
                      Case{"sqfs2-le.img", "squashfs 2.1 little-endian, zlib"},
                      Case{"sqfs2-be.img", "squashfs 2.1 big-endian, zlib"},
                      Case{"sqfs1-le.img", "squashfs 1.0 little-endian, zlib"},
                      Case{"sqfs1-be.img", "squashfs 1.0 big-endian, zlib"}),
    [](const auto& info) { return file_case_name(info.param.file); });

TEST(SquashfsLegacyDispatch, VersionDecidesTheFormat) {
  const unpacker::Format* legacy_fmt = unpacker::find_format("squashfs_legacy");
  const unpacker::Format* v4 = unpacker::find_format("squashfs");
  ASSERT_NE(legacy_fmt, nullptr);
  ASSERT_NE(v4, nullptr);
  const std::string old = read_text(legacy("sqfs3-le.img"));
  const Bytes old_b(reinterpret_cast<const std::uint8_t*>(old.data()), old.size());
  EXPECT_TRUE(legacy_fmt->probe(old_b).has_value());
  EXPECT_FALSE(v4->probe(old_b).has_value());
  const auto v4_path = fs::path(PROBITY_FIXTURES_DIR) / "streams" / "tree.gzip.sqfs";
  ASSERT_TRUE(fs::exists(v4_path)) << v4_path;
  const std::string cur = read_text(v4_path);
  const Bytes cur_b(reinterpret_cast<const std::uint8_t*>(cur.data()), cur.size());
  EXPECT_TRUE(v4->probe(cur_b).has_value());
  EXPECT_FALSE(legacy_fmt->probe(cur_b).has_value());
  auto u = unpack_file(v4_path);
  EXPECT_EQ(u.containers("squashfs").size(), 1u);
  EXPECT_TRUE(u.containers("squashfs_legacy").empty());
}

TEST(SquashfsLegacyDispatch, FoundInsideAPaddedImage) {
  TempDir scratch;
  const std::string img = read_text(legacy("sqfs2-be.img"));
  write_bytes(scratch.path / "flash.bin",
              std::string(0x1234, '\xff') + img + std::string(999, '\0'));
  auto u = unpack_file(scratch.path / "flash.bin");
  ASSERT_EQ(u.containers("squashfs_legacy").size(), 1u);
  const Container& c = u.only("squashfs_legacy");
  EXPECT_EQ(c.offset, 0x1234u);
  EXPECT_NE(u.file(c.id, "etc/passwd"), nullptr);
}

// --- hostile input: a clean warning, never a crash; what is intact still comes out --------------

TEST(SquashfsLegacyHostile, DirectoryLoopIsWalkedOnce) {
  auto u = unpack_file(legacy("hostile-dirloop.img"));
  const Container& c = u.only("squashfs_legacy");
  bool loop = false;
  for (const auto* w : u.warnings("format-error"))
    loop |= w->message.find("reached twice") != std::string::npos;
  EXPECT_TRUE(loop);
  EXPECT_NE(u.file(c.id, "bin/busybox"), nullptr);
  EXPECT_LT(u.files_of(c.id).size(), 40u);
}

TEST(SquashfsLegacyHostile, HugeDirectorySizeEndsWithAWarning) {
  auto u = unpack_file(legacy("hostile-dirsize.img"));
  ASSERT_EQ(u.containers("squashfs_legacy").size(), 1u);
  EXPECT_FALSE(u.warnings("format-error").empty() && u.warnings("path-escape").empty());
}

TEST(SquashfsLegacyHostile, HugeFileAndBadBlockSize) {
  auto u = unpack_file(legacy("hostile-filesize.img"));
  const Container& c = u.only("squashfs_legacy");
  const FileRecord* bb = u.file(c.id, "bin/busybox");
  ASSERT_NE(bb, nullptr);
  EXPECT_TRUE(bb->truncated);
  EXPECT_FALSE(u.warnings("format-error").empty());
  const FileRecord* pw = u.file(c.id, "etc/passwd");
  ASSERT_NE(pw, nullptr);
  EXPECT_EQ(pw->sha256, file_sha(legacy("tree/etc/passwd")));
}

TEST(SquashfsLegacyHostile, HugeCountsAndDirectoryHeaders) {
  for (const char* name : {"hostile-counts.img", "hostile-dircount.img"}) {
    auto u = unpack_file(legacy(name));
    ASSERT_EQ(u.containers("squashfs_legacy").size(), 1u) << name;
    EXPECT_FALSE(u.tree.warnings.empty()) << name;
  }
}

TEST(SquashfsLegacyHostile, TruncatedImagesWarn) {
  TempDir scratch;
  const auto full = fs::file_size(legacy("sqfs3-le.img"));
  for (std::size_t keep : {130u, 1000u, 5000u, 9000u, 11000u}) {
    ASSERT_LT(keep, full);
    auto u = unpack_prefix(legacy("sqfs3-le.img"), keep, scratch);
    if (u.containers("squashfs_legacy").empty()) continue;  // superblock checks may refuse
    EXPECT_FALSE(u.warnings("format-error").empty()) << keep;
  }
}

/// Corrupted copies straight through the format (probe, then extract into a dry-run sink):
/// every one must end, with or without an error.
TEST(SquashfsLegacyHostile, ByteFlipsNeverCrash) {
  std::vector<fs::path> images;
  for (const char* name : {"sqfs3-le.img", "sqfs3-be-lzma-props.img", "sqfs2-be.img",
                           "sqfs1-le.img", "sqfs3-le-lzma-raw.img"})
    images.push_back(legacy(name));
  EXPECT_GT(byte_flips_through("squashfs_legacy", images, 150, 12000), 100);
}

// --- the public vectors of other projects (../shared/vectors/formats), when present ------------

std::string fmt_count(const char* what, int n) {
  return std::to_string(n) + " " + what;
}

TEST(SquashfsLegacyVectors, SharedVectorsUnpack) {
  const fs::path dir = shared_vectors_dir();
  if (dir.empty()) GTEST_SKIP() << "../shared/vectors/formats not present";
  const auto rows = vector_rows(dir, {"squashfs v1", "squashfs v2", "squashfs v3"});
  ASSERT_FALSE(rows.empty());
  int passed = 0, present = 0;
  for (const auto& row : rows) {
    const fs::path img = dir / row.path;
    if (!fs::exists(img)) continue;
    ++present;
    std::vector<std::string> problems;
    auto need = [&](bool ok, const std::string& what) {
      if (!ok) problems.push_back(what);
    };
    auto u = unpack_file(img);
    const auto cs = u.containers("squashfs_legacy");
    need(!cs.empty(), "no squashfs_legacy container");
    if (!cs.empty()) {
      const Container& c = *cs.front();
      need(c.offset == 0, "container not at offset 0");
      if (row.path.starts_with("fact_extractor/")) {
        for (auto& p : fact_extractor_problems(u, c.id, dir)) problems.push_back(std::move(p));
      } else if (row.path.starts_with("binwalk/")) {
        // "exactly one squashfs_v2 at offset 0, extraction success".
        need(cs.size() == 1, "more than one container");
        need(c.complete, "incomplete");
        need(c.description.find("squashfs 2.") != std::string::npos, c.description);
        need(u.files_of(c.id).size() > 10, fmt_count("entries", int(u.files_of(c.id).size())));
        for (const auto* r : u.files_of(c.id)) need(!r->truncated, "truncated " + r->path);
      } else if (row.path.starts_with("util-linux_blkid/")) {
        // blkid: squashfs3, version 3.1, little endian (a probe image).
        need(c.description.find("squashfs 3.1 little-endian") != std::string::npos, c.description);
      }
      for (const auto* w : u.warnings("format-error")) problems.push_back(w->message);
    }
    for (const auto& p : problems) ADD_FAILURE() << row.path << ": " << p;
    passed += problems.empty();
  }
  std::cout << "squashfs 1.x-3.x shared vectors: " << passed << " of " << present << " pass\n";
  EXPECT_EQ(passed, present);
}

}  // namespace
}  // namespace probity::test
