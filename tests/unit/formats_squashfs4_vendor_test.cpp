// SquashFS 4.0 as vendor SDKs wrote it (the squashfs format): LZMA blocks under compression id 2
// with a 5-byte properties header, an alone header of unknown size or no header; compressor
// options libsquashfs refuses (xz, lzma). Images from tests/fixtures/make-squashfs4-vendor.py
// (its zlib image is read identically by Debian's unsquashfs and rdsquashfs), hostile variants,
// and every squashfs 4.0 vector of ../shared/vectors/formats when present.
#include <gtest/gtest.h>

#include <iostream>

#include "format_flips.hpp"
#include "formats_fixture.hpp"

namespace probity::test {
namespace {

namespace fs = std::filesystem;

fs::path vendor(const std::string& name) {
  return generated("squashfs4-vendor", "make-squashfs4-vendor.py", name);
}

bool any_warning(const Unpacked& u, const std::string& code, const std::string& part) {
  for (const auto* w : u.warnings(code))
    if (w->message.find(part) != std::string::npos) return true;
  return false;
}

struct Case {
  const char* file;
  const char* description;  ///< a part of the container's description
  const char* warning;      ///< a part of the one format-warning expected, or ""
};

class Squashfs4Vendor : public ::testing::TestWithParam<Case> {};

TEST_P(Squashfs4Vendor, ExtractsTheSourceTree) {
  const Case& c = GetParam();
  auto u = unpack_file(vendor(c.file));
  ASSERT_EQ(u.containers("squashfs").size(), 1u);
  const Container& ct = u.only("squashfs");
  EXPECT_EQ(ct.offset, 0u);
  EXPECT_TRUE(ct.complete);
  EXPECT_NE(ct.description.find(c.description), std::string::npos) << ct.description;
  // libsquashfs's walk reports hard links as regular files with the same content.
  expect_tree(u, ct.id, vendor("tree"), TreeCheck{.hardlinks = false});
  for (const auto& w : u.tree.warnings) {
    if (*c.warning && w.code == "format-warning" && w.message.find(c.warning) != std::string::npos)
      continue;
    ADD_FAILURE() << w.code << ": " << w.message;
  }
  if (*c.warning) {
    EXPECT_TRUE(any_warning(u, "format-warning", c.warning)) << c.warning;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Images, Squashfs4Vendor,
    ::testing::Values(
        Case{"sqfs4-gzip.img", "squashfs 4.0, gzip,", ""},
        Case{"sqfs4-lzma-props.img", "vendor lzma (5-byte properties, no size)", ""},
        Case{"sqfs4-lzma-alone-eos.img", "vendor lzma (13-byte header)", ""},
        Case{"sqfs4-lzma-raw.img", "vendor lzma (no header), properties 0x5d", ""},
        Case{"sqfs4-lzma-opts.img", "squashfs 4.0, lzma (compressor options ignored)",
             "lzma compressor options ignored (8 bytes: 0000010003000000)"},
        Case{"sqfs4-xz-badopts.img", "squashfs 4.0, xz (compressor options ignored)",
             "xz compressor options ignored (dictionary size 74565, filter flags 0x8000)"},
        Case{"sqfs4-be-xz.img", "squashfs 4.0 big-endian, xz,", ""},
        Case{"sqfs4-be-gzip.img", "squashfs 4.0 big-endian, gzip,", ""}),
    [](const auto& info) { return file_case_name(info.param.file); });

// --- hostile input: a clean warning, never a crash; what is intact still comes out --------------

TEST(Squashfs4VendorHostile, GarbageBlockTruncatesOneFile) {
  auto u = unpack_file(vendor("hostile4-lzma-garbage.img"));
  const Container& c = u.only("squashfs");
  const FileRecord* bb = u.file(c.id, "bin/busybox");
  ASSERT_NE(bb, nullptr);
  EXPECT_TRUE(bb->truncated);
  EXPECT_TRUE(any_warning(u, "format-error", "file data unreadable"));
  const FileRecord* pw = u.file(c.id, "etc/passwd");
  ASSERT_NE(pw, nullptr);
  EXPECT_EQ(pw->sha256, file_sha(vendor("tree/etc/passwd")));
}

TEST(Squashfs4VendorHostile, OversizeBlockIsCutAtTheBlockSize) {
  auto u = unpack_file(vendor("hostile4-lzma-oversize.img"));
  const Container& c = u.only("squashfs");
  const FileRecord* bb = u.file(c.id, "bin/busybox");
  ASSERT_NE(bb, nullptr);
  EXPECT_TRUE(bb->truncated);
  EXPECT_LE(bb->size, fs::file_size(vendor("tree/bin/busybox")));
  EXPECT_FALSE(u.warnings("format-error").empty());
  const FileRecord* idx = u.file(c.id, "www/index.html");
  ASSERT_NE(idx, nullptr);
  EXPECT_EQ(idx->sha256, file_sha(vendor("tree/www/index.html")));
}

TEST(Squashfs4VendorHostile, HeaderClaiming16MiBIsRefused) {
  auto u = unpack_file(vendor("hostile4-lzma-claims16m.img"));
  ASSERT_EQ(u.containers("squashfs").size(), 1u);
  EXPECT_TRUE(any_warning(u, "format-error", "decodes under no LZMA variant"));
  EXPECT_TRUE(u.files_of(u.only("squashfs").id).empty());
}

TEST(Squashfs4VendorHostile, BigEndianUnknownInodeTypeIsAnError) {
  auto u = unpack_file(vendor("hostile4-be-badinode.img"));
  ASSERT_EQ(u.containers("squashfs").size(), 1u);
  EXPECT_TRUE(any_warning(u, "format-error", "unknown type 30583"));
  EXPECT_TRUE(u.files_of(u.only("squashfs").id).empty());
}

TEST(Squashfs4VendorHostile, BigEndianMetadataBombStopsAtTheCap) {
  auto u = unpack_file(vendor("hostile4-be-metabomb.img"));
  ASSERT_EQ(u.containers("squashfs").size(), 1u);
  EXPECT_TRUE(any_warning(u, "cap-memory", std::to_string(kSquashfsBeMetadataBytes) + " bytes"));
}

// Found by squashfs_fuzz: 1.2 billion fragments in a 419-byte image made libsquashfs size an
// 18 GB table (1.4 GB RSS under ASan). The count is now checked against the image first.
TEST(Squashfs4VendorHostile, FragmentCountBeyondTheImageIsRefused) {
  auto u = unpack_file(fs::path(PROBITY_SOURCE_DIR) / "fuzz" / "corpus" / "squashfs" /
                       "regression-fragment-count.sqfs");
  ASSERT_EQ(u.containers("squashfs").size(), 1u);
  EXPECT_TRUE(any_warning(u, "format-error", "more than the image can index"));
}

TEST(Squashfs4VendorHostile, TruncatedImagesWarn) {
  TempDir scratch;
  for (const char* name : {"sqfs4-lzma-props.img", "sqfs4-xz-badopts.img", "sqfs4-be-xz.img"}) {
    for (std::size_t keep : {100u, 700u, 3000u, 6000u, 8000u}) {
      auto u = unpack_prefix(vendor(name), keep, scratch);
      if (u.containers("squashfs").empty()) continue;  // superblock checks may refuse
      EXPECT_FALSE(u.warnings("format-error").empty()) << name << " " << keep;
    }
  }
}

/// Corrupted copies straight through the format: every one must end.
TEST(Squashfs4VendorHostile, ByteFlipsNeverCrash) {
  std::vector<fs::path> images;
  for (const char* name : {"sqfs4-lzma-props.img", "sqfs4-lzma-raw.img", "sqfs4-lzma-alone-eos.img",
                           "sqfs4-xz-badopts.img", "sqfs4-be-xz.img", "sqfs4-be-gzip.img"})
    images.push_back(vendor(name));
  EXPECT_GT(byte_flips_through("squashfs", images, 100, 16384), 100);
}

// --- the public vectors of other projects (../shared/vectors/formats), when present ------------

TEST(Squashfs4Vectors, SharedVectorsUnpack) {
  const fs::path dir = shared_vectors_dir();
  if (dir.empty()) GTEST_SKIP() << "../shared/vectors/formats not present";
  const auto rows =
      vector_rows(dir, {"squashfs v4 LE", "squashfs v4 BE", "squashfs v4 lzma 5-byte hdr"});
  ASSERT_FALSE(rows.empty());
  int passed = 0, present = 0, corrupt = 0;
  for (const auto& row : rows) {
    const fs::path img = dir / row.path;
    if (!fs::exists(img)) continue;
    auto u = unpack_file(img);  // every vector, corrupt ones too: it must end
    if (row.kind != "POS") {
      ++corrupt;
      continue;
    }
    ++present;
    std::vector<std::string> problems;
    auto need = [&](bool ok, const std::string& what) {
      if (!ok) problems.push_back(what);
    };
    const auto cs = u.containers("squashfs");
    need(!cs.empty(), "no squashfs container");
    if (!cs.empty()) {
      const Container& c = *cs.front();
      const bool prepended = row.path.find("prepend-random-data") != std::string::npos;
      need(c.offset == (prepended ? 128u : 0u), "container at " + std::to_string(c.offset));
      need(c.complete, "incomplete");
      auto has = [&](const char* rel) {
        const FileRecord* r = u.file(c.id, rel);
        need(r != nullptr && !r->truncated, std::string("missing or truncated ") + rel);
        return r;
      };
      if (row.family == "squashfs v4 BE")
        need(c.description.find("big-endian") != std::string::npos, c.description);
      if (row.path.starts_with("fact_extractor/")) {
        for (auto& p : fact_extractor_problems(u, c.id, dir)) problems.push_back(std::move(p));
      } else if (row.path.starts_with("binwalk_v2/")) {
        // "exactly one signature, Squashfs filesystem at offset 0": the vendor LZMA image.
        need(cs.size() == 1, "more than one squashfs");
        need(c.description.find("vendor lzma (5-byte properties") != std::string::npos,
             c.description);
        need(u.files_of(c.id).size() > 1000, std::to_string(u.files_of(c.id).size()) + " entries");
        for (const auto* r : u.files_of(c.id)) need(!r->truncated, "truncated " + r->path);
      } else if (row.path.starts_with("bang/")) {
        if (const FileRecord* r = has("test.sgi")) need(r->size == 592418, "test.sgi size");
      } else if (row.path.starts_with("binwalk/")) {
        has("lsb-release");
      } else if (row.path.starts_with("FACT_core/")) {
        for (const char* rel :
             {"testfile_all", "testfile_none", "testfile_sgid", "testfile_sticky"})
          has(rel);
      } else if (row.path.starts_with("util-linux_blkid/")) {
        has("dirB/a");
        has("dirB/b");
      }
      for (const auto* r : u.files_of(c.id))
        need(!r->path.starts_with("/") && r->path.find("..") == std::string::npos,
             "path escapes: " + r->path);
      for (const auto* w : u.warnings("format-error")) problems.push_back(w->message);
    }
    for (const auto& p : problems) ADD_FAILURE() << row.path << ": " << p;
    passed += problems.empty();
  }
  std::cout << "squashfs 4.0 shared vectors: " << passed << " of " << present
            << " valid ones pass; " << corrupt << " corrupt ones end cleanly\n";
  EXPECT_EQ(passed, present);
}

}  // namespace
}  // namespace probity::test
