// Every library-backed format on fixtures made by the real tools (make-streams.sh): what probity
// extracts must equal what was packed, with metadata.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "probity/hash.hpp"
#include "probity/unpack.hpp"

namespace probity {
namespace fs = std::filesystem;

namespace {

const fs::path kDir = fs::path(PROBITY_FIXTURES_DIR) / "streams";

struct Unpacked {
  ArtifactTree tree;
  fs::path out;
};

Unpacked run(const std::string& name) {
  const fs::path out =
      fs::temp_directory_path() / ("probity-fmt-" + std::to_string(getpid()) + "-" + name);
  fs::remove_all(out);
  auto t = unpack(kDir / name, out, UnpackOptions{});
  EXPECT_TRUE(t) << (t ? "" : t.error().to_string());
  return {t ? std::move(*t) : ArtifactTree{}, out};
}

/// sha256 of every regular file under the packed tree, by relative path.
std::map<std::string, std::string> packed_tree() {
  std::map<std::string, std::string> out;
  for (auto& e : fs::recursive_directory_iterator(kDir / "tree"))
    if (e.is_regular_file() && !e.is_symlink())
      out[fs::relative(e.path(), kDir / "tree").string()] = *sha256_file(e.path());
  return out;
}

const FileRecord* find(const ArtifactTree& t, const std::string& path) {
  for (const auto& f : t.files)
    if (f.path == path) return &f;
  return nullptr;
}

}  // namespace

class StreamFormat : public ::testing::TestWithParam<const char*> {};

TEST_P(StreamFormat, DecodesToTheOriginalBytes) {
  auto [tree, out] = run(GetParam());
  const std::string want = *sha256_file(kDir / "numbers.txt");
  bool found = false;
  for (const auto& f : tree.files) found |= f.type == EntryType::kFile && f.sha256 == want;
  EXPECT_TRUE(found) << GetParam();
  EXPECT_TRUE(tree.warnings.empty()) << tree.warnings.front().message;
  EXPECT_EQ(tree.coverage.understood, tree.coverage.bytes) << GetParam();
  fs::remove_all(out);
}

INSTANTIATE_TEST_SUITE_P(Streams, StreamFormat,
                         ::testing::Values("numbers.txt.gz", "numbers.txt.xz", "numbers.txt.lzma",
                                           "numbers.txt.bz2", "numbers.txt.zst", "numbers.txt.lz4",
                                           "numbers.txt.legacy.lz4", "numbers.txt.zz"));

// A bare zlib stream has a two-byte header (78 da here): found at its offset inside a blob by the
// probe's trial decode, decoded to the original bytes, and spanning exactly its own bytes.
TEST(ZlibFormat, FoundInsideABlobAtItsOffset) {
  auto [tree, out] = run("zlib-embedded.bin");
  const auto zz = fs::file_size(kDir / "numbers.txt.zz");
  const Container* z = nullptr;
  for (const auto& c : tree.containers)
    if (c.format == "zlib") z = &c;
  ASSERT_NE(z, nullptr);
  EXPECT_EQ(z->offset, 4099u);
  EXPECT_EQ(z->length, zz);
  EXPECT_TRUE(z->complete);
  const std::string want = *sha256_file(kDir / "numbers.txt");
  bool found = false;
  for (const auto& f : tree.files) found |= f.container == z->id && f.sha256 == want;
  EXPECT_TRUE(found);
  fs::remove_all(out);
}

// Random bytes hold a zlib-shaped header every ~16 KiB; the trial decode refuses every one of
// them (no container, no warning about a corrupt stream).
TEST(ZlibFormat, RandomBytesYieldNoStream) {
  std::ifstream in(kDir / "random-4m.bin", std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  ASSERT_EQ(bytes.size(), 4u << 20);
  std::size_t headers = 0;
  for (std::size_t i = 0; i + 1 < bytes.size(); ++i) {
    const unsigned char a = bytes[i], b = bytes[i + 1];
    headers += a == 0x78 && (b == 0x01 || b == 0x5e || b == 0x9c || b == 0xda);
  }
  EXPECT_GE(headers, 150u) << "the fixture no longer tests the probe";
  auto [tree, out] = run("random-4m.bin");
  for (const auto& c : tree.containers) EXPECT_NE(c.format, "zlib") << "at " << c.offset;
  for (const auto& w : tree.warnings)
    EXPECT_EQ(w.message.find("zlib"), std::string::npos) << w.message;
  fs::remove_all(out);
}

class ArchiveFormat : public ::testing::TestWithParam<const char*> {};

TEST_P(ArchiveFormat, ExtractsEveryFileWithItsMetadata) {
  auto [tree, out] = run(GetParam());
  for (const auto& [path, sha] : packed_tree()) {
    const FileRecord* f = find(tree, path);
    ASSERT_NE(f, nullptr) << GetParam() << ": missing " << path;
    EXPECT_EQ(f->sha256, sha) << path;
    EXPECT_TRUE(fs::exists(out / f->extracted)) << f->extracted;
  }
  const FileRecord* link = find(tree, "bin/hi");
  ASSERT_NE(link, nullptr);
  EXPECT_EQ(link->type, EntryType::kSymlink);
  EXPECT_EQ(link->link, "hello.sh");
  EXPECT_TRUE(fs::is_symlink(out / link->extracted));
  const std::string name = GetParam();
  if (name.find(".7z") == std::string::npos) {  // 7z keeps no setuid bit
    const FileRecord* suid = find(tree, "bin/hello.sh");
    ASSERT_NE(suid, nullptr);
    EXPECT_EQ(suid->mode & 04000, 04000u) << name << " mode " << std::oct << suid->mode;
  }
  fs::remove_all(out);
}

INSTANTIATE_TEST_SUITE_P(Archives, ArchiveFormat,
                         ::testing::Values("tree.tar", "tree.newc.cpio", "tree.crc.cpio",
                                           "tree.odc.cpio", "tree.bin.cpio", "tree.zip", "tree.7z",
                                           "tree.tar.gz", "tree.gzip.sqfs", "tree.lzo.sqfs",
                                           "tree.lz4.sqfs", "tree.xz.sqfs", "tree.zstd.sqfs"));

TEST(ArFormat, ArchiveAndDebianPackage) {
  auto [a, out_a] = run("tree.a");
  EXPECT_NE(find(a, "numbers.txt"), nullptr);
  EXPECT_NE(find(a, "blob.bin"), nullptr);
  fs::remove_all(out_a);
  // .deb = ar > data.tar.xz > xz > tar: the packaged file is found three containers down.
  auto [deb, out_d] = run("fixture.deb");
  const FileRecord* hello = find(deb, "usr/bin/hello");
  ASSERT_NE(hello, nullptr);
  EXPECT_EQ(hello->sha256, *sha256_file(kDir / "deb/usr/bin/hello"));
  ASSERT_GE(hello->origin.size(), 3u);
  EXPECT_EQ(hello->origin[0].format, "ar");
  EXPECT_EQ(hello->origin.back().format, "tar");
  fs::remove_all(out_d);
}

TEST(Squashfs, KeepsOwnershipAndTimes) {
  auto [t, out] = run("tree.xz.sqfs");
  const FileRecord* passwd = find(t, "etc/passwd");
  ASSERT_NE(passwd, nullptr);
  EXPECT_EQ(passwd->mtime, 1700000000);
  EXPECT_EQ(passwd->uid, 0u);
  EXPECT_EQ(passwd->mode, 0644u);
  fs::remove_all(out);
}

}  // namespace probity

namespace probity {

// Containers found on several threads get canonical ids: two runs give the same manifest.
TEST(Determinism, NestedContainersGetTheSameIdsEveryRun) {
  std::vector<std::string> seen;
  for (int i = 0; i < 3; ++i) {
    auto [t, out] = run("nested.sqfs.gz");
    std::string sig;
    for (const auto& c : t.containers)
      sig += std::to_string(c.id) + ":" + std::to_string(c.parent) + ":" + c.format + ":" +
             c.source + "@" + std::to_string(c.offset) + ";";
    for (const auto& f : t.files)
      sig += f.path + "=" + f.extracted + "#" + std::to_string(f.container) + ";";
    EXPECT_GE(t.containers.size(), 9u);  // gzip, squashfs, ar, xz, tar, gzip, tar, xz, zstd, 7z
    for (const auto& f : t.files) {
      if (!f.extracted.empty()) {
        EXPECT_TRUE(std::filesystem::exists(out / f.extracted)) << f.extracted;
      }
    }
    seen.push_back(sig);
    std::filesystem::remove_all(out);
  }
  EXPECT_EQ(seen[0], seen[1]);
  EXPECT_EQ(seen[1], seen[2]);
}

}  // namespace probity
