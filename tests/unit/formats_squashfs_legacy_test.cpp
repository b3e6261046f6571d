// The squashfs_legacy format (SquashFS 1.x-3.x): images from tests/fixtures/make-squashfs-legacy.py
// (written from the documented layout; Debian's unsquashfs 4.5 extracts the zlib ones to the same
// tree), its hostile variants, and the public vectors of ../shared/vectors/formats when present.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "formats_fixture.hpp"
#include "unpack/format.hpp"
#include "unpack/sink.hpp"

namespace probity::test {
namespace {

namespace fs = std::filesystem;

fs::path legacy(const std::string& name) {
  auto p = fs::path(PROBITY_FIXTURES_DIR) / "squashfs-legacy" / name;
  EXPECT_TRUE(fs::exists(p))
      << p << " missing: run `make fixtures` (tests/fixtures/make-squashfs-legacy.py)";
  return p;
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
    [](const auto& info) {
      std::string n = info.param.file;
      n = n.substr(0, n.find('.'));
      for (char& ch : n)
        if (ch == '-') ch = '_';
      return n;
    });

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
  const unpacker::Format* f = unpacker::find_format("squashfs_legacy");
  ASSERT_NE(f, nullptr);
  std::uint32_t x = 2463534242u;
  auto next = [&] {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return x;
  };
  int probed = 0;
  for (const char* name : {"sqfs3-le.img", "sqfs3-be-lzma-props.img", "sqfs2-be.img",
                           "sqfs1-le.img", "sqfs3-le-lzma-raw.img"}) {
    const std::string orig = read_text(legacy(name));
    for (int round = 0; round < 150; ++round) {
      std::string img = orig;
      const int flips = 1 + int(next() % 8);
      for (int k = 0; k < flips; ++k) img[next() % 12000 % img.size()] ^= char(1u << (next() % 8));
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
  EXPECT_GT(probed, 100);
}

// --- the public vectors of other projects (../shared/vectors/formats), when present ------------

fs::path vectors_dir() {
  if (const char* env = std::getenv("PROBITY_SHARED_VECTORS"); env && *env) return env;
  // The source tree's parent (a clone) or grandparent (a worktree under wt/) holds shared/.
  for (fs::path p = fs::path(PROBITY_SOURCE_DIR); !p.empty() && p != p.root_path();
       p = p.parent_path()) {
    const auto cand = p.parent_path() / "shared" / "vectors" / "formats";
    if (fs::exists(cand / "MANIFEST.tsv")) return cand;
  }
  return {};
}

std::string fmt_count(const char* what, int n) {
  return std::to_string(n) + " " + what;
}

struct VectorRow {
  std::string path, expected, family, kind;
};

std::vector<VectorRow> squashfs_legacy_rows(const fs::path& dir) {
  std::vector<VectorRow> rows;
  std::ifstream in(dir / "MANIFEST.tsv");
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> col;
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, '\t');) col.push_back(c);
    if (col.size() < 9) continue;
    if (col[7] == "squashfs v1" || col[7] == "squashfs v2" || col[7] == "squashfs v3")
      rows.push_back({col[0], col[6], col[7], col[8]});
  }
  return rows;
}

TEST(SquashfsLegacyVectors, SharedVectorsUnpack) {
  const fs::path dir = vectors_dir();
  if (dir.empty()) GTEST_SKIP() << "../shared/vectors/formats not present";
  const auto rows = squashfs_legacy_rows(dir);
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
        // 3 files with the reference contents fact_extractor ships.
        const fs::path ref = dir / "fact_extractor" / "expected" / "get_files_test";
        int regular = 0;
        for (const auto* r : u.files_of(c.id)) regular += r->type == EntryType::kFile;
        need(regular == 3, fmt_count("regular files", regular));
        for (const char* rel : {"testfile1", "testfile2", "generic folder/test file 3_.txt"}) {
          const FileRecord* r = u.file(c.id, rel);
          need(r != nullptr, std::string("missing ") + rel);
          if (!r) continue;
          need(!r->truncated, std::string("truncated ") + rel);
          if (fs::exists(ref / rel))
            need(r->sha256 == file_sha(ref / rel), std::string("content differs: ") + rel);
        }
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
