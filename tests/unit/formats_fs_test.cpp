// The filesystem and image formats of issue 10 item 5 (ISO 9660, romfs, FAT12/16/32, yaffs2,
// Android sparse and boot images) on fixtures made by the real Debian tools (yaffs2 by a
// generator from the documented layout) from one source tree, and their hostile variants
// (tests/fixtures/make-formats-fs.sh, make-formats-fs-hostile.py).
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>

#include <nlohmann/json.hpp>

#include "formats_fixture.hpp"

namespace probity::test {
namespace {

std::filesystem::path fs_fixture(const std::string& name) {
  return generated("formats-fs", "make-formats-fs.sh", name);
}

/// Every regular file under `src` is a complete regular file of container `cid` with the same
/// content; every directory is there; nothing else but `allowed_extra` is.
void expect_contents(const Unpacked& u, std::uint32_t cid, const std::filesystem::path& src,
                     bool symlinks = true) {
  namespace fs = std::filesystem;
  std::set<std::string> seen;
  for (const auto& de : fs::recursive_directory_iterator(src)) {
    const std::string rel = de.path().lexically_relative(src).string();
    if (de.is_symlink() && !symlinks) continue;
    seen.insert(rel);
    const FileRecord* r = u.file(cid, rel);
    ASSERT_NE(r, nullptr) << "missing " << rel;
    if (de.is_symlink()) {
      EXPECT_EQ(r->type, EntryType::kSymlink) << rel;
      EXPECT_EQ(r->link, fs::read_symlink(de.path()).string()) << rel;
    } else if (de.is_directory()) {
      EXPECT_EQ(r->type, EntryType::kDir) << rel;
    } else {
      EXPECT_EQ(r->type, EntryType::kFile) << rel;
      EXPECT_EQ(r->sha256, file_sha(de.path())) << rel;
      EXPECT_FALSE(r->truncated) << rel;
    }
  }
  for (const FileRecord* r : u.files_of(cid))
    EXPECT_TRUE(seen.contains(r->path)) << "extra " << r->path;
}

TEST(FormatIso9660, RockRidgeAndJolietTree) {
  auto u = unpack_file(fs_fixture("tree.iso"));
  const Container& c = u.only("iso9660");
  EXPECT_EQ(c.offset, 0u);
  EXPECT_EQ(c.length, u.tree.image.size);
  EXPECT_TRUE(c.complete);
  EXPECT_NE(c.description.find("PROBITY"), std::string::npos) << c.description;
  // Rock Ridge keeps modes, owners, times and the symlink.
  expect_tree(u, c.id, fs_fixture("tree"), TreeCheck{.mtime = true, .owner = true});
}

TEST(FormatIso9660, TruncatedImageWarns) {
  TempDir scratch;
  auto u = unpack_prefix(fs_fixture("tree.iso"), 40000, scratch);
  ASSERT_EQ(u.containers("iso9660").size(), 1u);
  EXPECT_FALSE(u.warnings("truncated").empty());
}

TEST(FormatRomfs, TreeFromGenromfs) {
  auto u = unpack_file(fs_fixture("tree.romfs"));
  const Container& c = u.only("romfs");
  // The superblock's size (genromfs pads the file to 1 KiB after it).
  const std::string img = read_text(fs_fixture("tree.romfs"));
  const std::uint64_t size = std::uint64_t(std::uint8_t(img[8])) << 24 |
                             std::uint64_t(std::uint8_t(img[9])) << 16 |
                             std::uint64_t(std::uint8_t(img[10])) << 8 | std::uint8_t(img[11]);
  EXPECT_EQ(c.length, size);
  EXPECT_LT(u.tree.image.size - size, 1024u);
  EXPECT_TRUE(c.complete);
  expect_contents(u, c.id, fs_fixture("tree"));
  EXPECT_EQ(u.file(c.id, "bin/hello.sh")->mode, 0755u);  // the executable bit
  EXPECT_TRUE(u.warnings("checksum-mismatch").empty());
  EXPECT_TRUE(u.warnings("format-error").empty());
}

TEST(FormatRomfs, LoopsAndLongFilesEndWithWarnings) {
  for (const char* name : {"romfs-dir-loop.romfs", "romfs-next-loop.romfs"}) {
    auto u = unpack_file(fs_fixture(name));
    ASSERT_EQ(u.containers("romfs").size(), 1u) << name;
    EXPECT_FALSE(u.warnings("format-error").empty()) << name;
  }
  auto u = unpack_file(fs_fixture("romfs-long-file.romfs"));
  const Container& c = u.only("romfs");
  const FileRecord* big = u.file(c.id, "big");
  ASSERT_NE(big, nullptr);
  EXPECT_TRUE(big->truncated);
  EXPECT_FALSE(u.warnings("format-error").empty());
}

class FormatFat : public ::testing::TestWithParam<std::string> {};

TEST_P(FormatFat, TreeFromMtools) {
  auto u = unpack_file(fs_fixture(GetParam()));
  const Container& c = u.only("fat");
  EXPECT_EQ(c.length, u.tree.image.size);
  EXPECT_TRUE(c.complete);
  const std::string bits = GetParam().substr(3, 2);
  EXPECT_NE(c.description.find("FAT" + bits), std::string::npos) << c.description;
  // FAT stores no symlinks (the flat copy has none); long names come from the VFAT entries.
  expect_contents(u, c.id, fs_fixture("flat"));
  EXPECT_EQ(u.file(c.id, "etc/passwd")->mtime, 1700000000);
  EXPECT_TRUE(u.warnings("format-error").empty());
}

INSTANTIATE_TEST_SUITE_P(Widths, FormatFat,
                         ::testing::Values("fat12.img", "fat16.img", "fat32.img"),
                         [](const auto& info) { return file_case_name(info.param); });

TEST(FormatFatHostile, LoopingChainsAndMissingDataWarn) {
  const auto t0 = std::chrono::steady_clock::now();
  auto u = unpack_file(fs_fixture("fat16-loops.img"));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));
  ASSERT_EQ(u.containers("fat").size(), 1u);
  EXPECT_FALSE(u.warnings("format-error").empty());
  bool truncated = false;
  for (const auto& f : u.tree.files) truncated = truncated || f.truncated;
  EXPECT_TRUE(truncated);
  auto cut = unpack_file(fs_fixture("fat12-cut.img"));
  ASSERT_EQ(cut.containers("fat").size(), 1u);
  EXPECT_FALSE(cut.warnings("truncated").empty());
}

// exFAT: mkfs.exfat's volume with the flat tree added from the specification's layout
// (make-exfat.py; fsck.exfat called it clean), files both contiguous and through FAT chains.
TEST(FormatExfat, TreeFromMkfsExfat) {
  auto u = unpack_file(fs_fixture("tree.exfat"));
  const Container& c = u.only("exfat");
  EXPECT_EQ(c.length, u.tree.image.size);
  EXPECT_TRUE(c.complete);
  EXPECT_NE(c.description.find("boot checksum ok"), std::string::npos) << c.description;
  expect_contents(u, c.id, fs_fixture("flat"));
  EXPECT_EQ(u.file(c.id, "etc/passwd")->mtime, 1700000000);
  for (const auto& w : u.tree.warnings) ADD_FAILURE() << w.code << ": " << w.message;
  EXPECT_EQ(u.tree.coverage.understood, u.tree.coverage.bytes);
}

// A volume another exFAT implementation wrote (util-linux's blkid test image, from ../shared):
// 100 files, each holding its own name.
TEST(FormatExfat, PublicVector) {
  const std::filesystem::path dir = shared_vectors_dir();
  if (dir.empty()) GTEST_SKIP() << "../shared/vectors/formats not present";
  const auto img = dir / "util-linux_blkid/exfat.img";
  if (!std::filesystem::exists(img)) GTEST_SKIP() << img << " not present";
  auto u = unpack_file(img);
  const Container& c = u.only("exfat");
  EXPECT_NE(c.description.find("boot checksum ok"), std::string::npos) << c.description;
  std::size_t named = 0;
  for (const FileRecord* f : u.files_of(c.id))
    named += f->type == EntryType::kFile && read_text(u.out() / f->extracted) == f->path + "\n";
  EXPECT_EQ(named, 100u);
  EXPECT_TRUE(u.tree.warnings.empty());
}

TEST(FormatExfatHostile, LoopsBadSetsAndCutsWarn) {
  const auto t0 = std::chrono::steady_clock::now();
  auto loop = unpack_file(fs_fixture("exfat-loop.img"));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));
  ASSERT_EQ(loop.containers("exfat").size(), 1u);
  EXPECT_FALSE(loop.warnings("format-error").empty());
  const FileRecord* numbers = loop.file(loop.only("exfat").id, "usr/share/doc/numbers.txt");
  ASSERT_NE(numbers, nullptr);
  EXPECT_TRUE(numbers->truncated);
  // A wrong entry-set checksum is said (the entry is still read); a length past the volume is
  // bounded by what the volume holds.
  auto sets = unpack_file(fs_fixture("exfat-bad-sets.img"));
  ASSERT_EQ(sets.containers("exfat").size(), 1u);
  EXPECT_FALSE(sets.warnings("crc-mismatch").empty());
  EXPECT_FALSE(sets.warnings("format-error").empty());
  auto cut = unpack_file(fs_fixture("exfat-cut.img"));
  ASSERT_EQ(cut.containers("exfat").size(), 1u);
  EXPECT_FALSE(cut.warnings("truncated").empty());
}

class FormatYaffs2 : public ::testing::TestWithParam<std::string> {};

TEST_P(FormatYaffs2, TreeFromTheDocumentedLayout) {
  auto u = unpack_file(fs_fixture(GetParam()));
  const Container& c = u.only("yaffs2");
  EXPECT_TRUE(c.complete);
  // Modes, times and the symlink are kept; the stale copy of etc/passwd's data (lower sequence
  // number) is replaced; the deleted object is not listed.
  expect_tree(u, c.id, fs_fixture("tree"), TreeCheck{.mtime = true, .owner = true});
  EXPECT_EQ(u.file(c.id, "deleted.txt"), nullptr);
}

INSTANTIATE_TEST_SUITE_P(Geometries, FormatYaffs2,
                         ::testing::Values("yaffs2-2048-le.img", "yaffs2-2048-be.img",
                                           "yaffs2-512-le.img", "yaffs2-4096-be-tags-le.img"),
                         [](const auto& info) { return file_case_name(info.param); });

TEST(FormatYaffs2Hostile, ParentLoopsAndFileParentsAreRefused) {
  auto u = unpack_file(fs_fixture("yaffs2-loops.img"));
  const Container& c = u.only("yaffs2");
  EXPECT_NE(u.file(c.id, "file"), nullptr);
  EXPECT_EQ(u.file(c.id, "self"), nullptr);
  for (const FileRecord* r : u.files_of(c.id))
    EXPECT_EQ(r->path.find("under-a-file"), std::string::npos);
}

class FormatMinix : public ::testing::TestWithParam<std::string> {};

/// Every regular file make-minix.py put in the image, with its size and sha256; the hard link,
/// the symlink and the directory as such.
TEST_P(FormatMinix, TreeFromTheDocumentedLayout) {
  auto u = unpack_file(fs_fixture("minix/" + GetParam()));
  const Container& c = u.only("minix");
  EXPECT_TRUE(c.complete);
  std::ifstream in(fs_fixture("minix/expected.json"));
  const auto expected = nlohmann::json::parse(in);
  const auto& members = expected[GetParam()]["members"];
  ASSERT_EQ(members.size(), 4u);
  for (const auto& m : members) {
    const std::string name = m["name"];
    const FileRecord* r = u.file(c.id, name);
    ASSERT_NE(r, nullptr) << name;
    if (r->type == EntryType::kHardlink) r = u.file(c.id, r->link);
    ASSERT_NE(r, nullptr) << name;
    EXPECT_EQ(r->type, EntryType::kFile) << name;
    EXPECT_EQ(r->size, m["size"].get<std::uint64_t>()) << name;
    EXPECT_EQ(r->sha256, m["sha256"].get<std::string>()) << name;
    EXPECT_FALSE(r->truncated) << name;
  }
  const FileRecord* link = u.file(c.id, "link");
  ASSERT_NE(link, nullptr);
  EXPECT_EQ(link->type, EntryType::kSymlink);
  EXPECT_EQ(link->link, "hello.txt");
  ASSERT_NE(u.file(c.id, "dir"), nullptr);
  EXPECT_EQ(u.file(c.id, "dir")->type, EntryType::kDir);
  EXPECT_EQ(u.files_of(c.id).size(), 6u);  // hello, hard, link, dir, dir/big, dir/sparse
  EXPECT_TRUE(u.warnings("format-error").empty());
}

INSTANTIATE_TEST_SUITE_P(Versions, FormatMinix,
                         ::testing::Values("v1.img", "v2.img", "v3.img", "v1-be.img"),
                         [](const auto& info) { return file_case_name(info.param); });

TEST(FormatMinixHostile, DirectoryLoopIsWalkedOnce) {
  auto u = unpack_file(fs_fixture("minix/loop.img"));
  const Container& c = u.only("minix");
  EXPECT_NE(u.file(c.id, "dir/big.bin"), nullptr);
  EXPECT_EQ(u.file(c.id, "dir/again/hello.txt"), nullptr);
  EXPECT_FALSE(u.warnings("format-error").empty());
}

TEST(FormatMinixHostile, ZoneOutOfRangeTruncatesThatFile) {
  auto u = unpack_file(fs_fixture("minix/zone.img"));
  const Container& c = u.only("minix");
  const FileRecord* big = u.file(c.id, "dir/big.bin");
  ASSERT_NE(big, nullptr);
  EXPECT_TRUE(big->truncated);
  EXPECT_EQ(big->size, 7u * 1024) << "the seven direct zones, nothing after the bad indirect one";
  const FileRecord* hello = u.file(c.id, "hello.txt");
  ASSERT_NE(hello, nullptr);
  EXPECT_FALSE(hello->truncated);
  EXPECT_FALSE(u.warnings("format-error").empty());
}

TEST(FormatMinixHostile, CutImageIsIncomplete) {
  auto u = unpack_file(fs_fixture("minix/cut.img"));
  const Container& c = u.only("minix");
  EXPECT_FALSE(c.complete);
}

/// A filesystem probity recognises but does not read is reported, never counted as plain data.
TEST(FormatUnsupportedFs, RecognisedButNotReadIsNotUnderstood) {
  TempDir scratch;
  std::vector<std::uint8_t> img(256 * 1024, 0);
  const char xfs[] = "XFSB\0\0\x10\0\0\0\0\0\0\0\0\x40";  // 4 KiB blocks, 64 of them
  std::copy(xfs, xfs + 16, img.begin());
  const auto path = scratch.path / "xfs.img";
  {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(img.data()), std::streamsize(img.size()));
  }
  auto u = unpack_file(path);
  const Container& c = u.only("unsupported_fs");
  EXPECT_FALSE(c.complete);
  EXPECT_EQ(c.length, img.size());
  EXPECT_NE(c.description.find("XFS"), std::string::npos) << c.description;
  EXPECT_EQ(u.warnings("format-unsupported").size(), 1u);
  EXPECT_EQ(u.tree.coverage.understood, 0u);
}

TEST(FormatAndroidSparse, ExpandsToTheRawExt4Image) {
  auto u = unpack_file(fs_fixture("ext4.simg"));
  const Container& c = u.only("android_sparse");
  EXPECT_TRUE(c.complete);
  const FileRecord* raw = u.file(c.id, "image.raw");
  ASSERT_NE(raw, nullptr);
  EXPECT_EQ(raw->sha256, file_sha(fs_fixture("ext4.raw")));
  // The expanded image is carved again: its ext4 tree is there.
  const Container& ext = u.only("ext");
  EXPECT_EQ(ext.parent, c.id);
  EXPECT_TRUE(u.warnings("crc-mismatch").empty());
}

TEST(FormatAndroidSparse, LongChunksAndBombsStop) {
  auto u = unpack_file(fs_fixture("sparse-long-chunk.simg"));
  ASSERT_EQ(u.containers("android_sparse").size(), 1u);
  EXPECT_FALSE(u.containers("android_sparse")[0]->complete);
  const auto t0 = std::chrono::steady_clock::now();
  auto bomb = unpack_file(fs_fixture("sparse-bomb.simg"));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(30));
  ASSERT_EQ(bomb.containers("android_sparse").size(), 1u);
  EXPECT_FALSE(bomb.containers("android_sparse")[0]->complete);
  EXPECT_FALSE(bomb.warnings("cap-ratio").empty());
}

TEST(FormatAndroidBoot, PartsOfVersion0And2) {
  for (const char* name : {"boot-v0.img", "boot-v2.img"}) {
    auto u = unpack_file(fs_fixture(name));
    const Container& c = u.only("android_boot");
    EXPECT_TRUE(c.complete) << name;
    EXPECT_EQ(u.file(c.id, "kernel")->sha256, file_sha(fs_fixture("kernel.bin"))) << name;
    EXPECT_EQ(u.file(c.id, "ramdisk")->sha256, file_sha(fs_fixture("ramdisk.cpio.gz"))) << name;
    if (std::string(name) == "boot-v2.img") {
      ASSERT_NE(u.file(c.id, "dtb"), nullptr);
      EXPECT_EQ(u.file(c.id, "dtb")->sha256, file_sha(fs_fixture("dtb.bin")));
    }
    // The ramdisk (gzip, then cpio) is opened: the tree's passwd is in it.
    bool passwd = false;
    for (const auto& f : u.tree.files)
      passwd =
          passwd || (f.path == "etc/passwd" && f.sha256 == file_sha(fs_fixture("tree/etc/passwd")));
    EXPECT_TRUE(passwd) << name;
  }
}

TEST(FormatAndroidBoot, KernelPastTheEndIsTruncated) {
  auto u = unpack_file(fs_fixture("boot-long-kernel.img"));
  const Container& c = u.only("android_boot");
  EXPECT_FALSE(c.complete);
  ASSERT_NE(u.file(c.id, "kernel"), nullptr);
  EXPECT_TRUE(u.file(c.id, "kernel")->truncated);
}

TEST(FormatAvb, FooterSplitsImageAndVbmeta) {
  auto u = unpack_file(fs_fixture("boot-avb.img"));
  const Container& c = u.only("avb");
  EXPECT_TRUE(c.complete);
  EXPECT_EQ(c.offset, 0u);
  EXPECT_EQ(c.length, u.tree.image.size);  // the footer ends the partition
  // The original image is the boot image, byte for byte, and is opened again.
  ASSERT_NE(u.file(c.id, "image"), nullptr);
  EXPECT_EQ(u.file(c.id, "image")->sha256, file_sha(fs_fixture("boot-v0.img")));
  const Container& boot = u.only("android_boot");
  EXPECT_EQ(boot.parent, c.id);
  EXPECT_EQ(boot.source, "image");
  // The vbmeta blob is its own region; its hash matches and both descriptors are counted.
  ASSERT_NE(u.file(c.id, "vbmeta"), nullptr);
  EXPECT_EQ(u.file(c.id, "vbmeta")->sha256, file_sha(fs_fixture("boot-avb.vbmeta")));
  const Container& meta = u.only("avb_vbmeta");
  EXPECT_EQ(meta.parent, c.id);
  EXPECT_TRUE(meta.complete);
  EXPECT_NE(meta.description.find("SHA256_RSA2048"), std::string::npos) << meta.description;
  EXPECT_NE(meta.description.find("2 descriptors (1 property, 0 hashtree, 1 hash"),
            std::string::npos)
      << meta.description;
  EXPECT_TRUE(u.warnings("crc-mismatch").empty());
}

TEST(FormatAvb, StandaloneVbmetaAndFooterAlone) {
  auto v = unpack_file(fs_fixture("vbmeta.img"));
  const Container& meta = v.only("avb_vbmeta");
  EXPECT_TRUE(meta.complete);
  EXPECT_EQ(meta.length, v.tree.image.size);
  auto f = unpack_file(fs_fixture("avb-footer-alone.bin"));
  const Container& c = f.only("avb");
  EXPECT_EQ(c.length, 64u);
  EXPECT_TRUE(f.files_of(c.id).empty());
  EXPECT_FALSE(f.warnings("format-warning").empty());
}

TEST(FormatAvb, HostileFootersAndVbmeta) {
  // A changed descriptor byte: the hash no longer matches.
  auto bad = unpack_file(fs_fixture("boot-avb-badhash.img"));
  ASSERT_EQ(bad.containers("avb_vbmeta").size(), 1u);
  EXPECT_FALSE(bad.warnings("crc-mismatch").empty());
  // A descriptor longer than its area: a format error at the descriptor, no crash.
  auto over = unpack_file(fs_fixture("vbmeta-desc-overrun.img"));
  ASSERT_EQ(over.containers("avb_vbmeta").size(), 1u);
  EXPECT_FALSE(over.warnings("format-error").empty());
  // A footer pointing past the end is not an AVB partition; the boot image is still found.
  auto past = unpack_file(fs_fixture("boot-avb-vbmeta-past-end.img"));
  EXPECT_TRUE(past.containers("avb").empty());
  EXPECT_EQ(past.containers("android_boot").size(), 1u);
}

TEST(FormatAndroidVendorBoot, Version3FromMkbootimg) {
  auto u = unpack_file(fs_fixture("vendor-boot-v3.img"));
  const Container& c = u.only("android_vendor_boot");
  EXPECT_TRUE(c.complete);
  EXPECT_NE(c.description.find("console=ttyS0"), std::string::npos) << c.description;
  ASSERT_NE(u.file(c.id, "vendor_ramdisk"), nullptr);
  EXPECT_EQ(u.file(c.id, "vendor_ramdisk")->sha256, file_sha(fs_fixture("ramdisk.cpio.gz")));
  ASSERT_NE(u.file(c.id, "dtb"), nullptr);
  EXPECT_EQ(u.file(c.id, "dtb")->sha256, file_sha(fs_fixture("dtb.bin")));
  bool passwd = false;  // the ramdisk (gzip, then cpio) is opened
  for (const auto& f : u.tree.files) passwd = passwd || f.path == "etc/passwd";
  EXPECT_TRUE(passwd);
}

TEST(FormatAndroidVendorBoot, Version4RamdiskTableAndBootconfig) {
  auto u = unpack_file(fs_fixture("vendor-boot-v4.img"));
  const Container& c = u.only("android_vendor_boot");
  EXPECT_TRUE(c.complete);
  EXPECT_EQ(c.length, u.tree.image.size);
  const FileRecord* first = u.file(c.id, "vendor_ramdisk_00_platform_first");
  const FileRecord* dlkm = u.file(c.id, "vendor_ramdisk_01_dlkm_dlkm");
  ASSERT_NE(first, nullptr);
  ASSERT_NE(dlkm, nullptr);
  EXPECT_EQ(first->sha256, file_sha(fs_fixture("ramdisk.cpio.gz")));
  EXPECT_EQ(dlkm->sha256, file_sha(fs_fixture("vendor-ramdisk-2.gz")));
  ASSERT_NE(u.file(c.id, "bootconfig"), nullptr);
  EXPECT_EQ(u.file(c.id, "bootconfig")->sha256, file_sha(fs_fixture("vendor-bootconfig.txt")));
  EXPECT_EQ(u.file(c.id, "dtb")->sha256, file_sha(fs_fixture("dtb.bin")));
}

TEST(FormatAndroidVendorBoot, HostileFragmentsAndSizes) {
  auto frag = unpack_file(fs_fixture("vendor-boot-v4-bad-fragment.img"));
  const Container& c = frag.only("android_vendor_boot");
  EXPECT_FALSE(c.complete);
  EXPECT_NE(frag.file(c.id, "vendor_ramdisk_00_platform_first"), nullptr);
  EXPECT_EQ(frag.file(c.id, "vendor_ramdisk_01_dlkm_dlkm"), nullptr);
  auto longer = unpack_file(fs_fixture("vendor-boot-v3-long-ramdisk.img"));
  const Container& l = longer.only("android_vendor_boot");
  EXPECT_FALSE(l.complete);
  ASSERT_NE(longer.file(l.id, "vendor_ramdisk"), nullptr);
  EXPECT_TRUE(longer.file(l.id, "vendor_ramdisk")->truncated);
}

TEST(FormatUefiFv, FilesSectionsLzmaAndNestedVolume) {
  auto u = unpack_file(fs_fixture("uefi.fv"));
  auto fvs = u.containers("uefi_fv");
  ASSERT_EQ(fvs.size(), 2u);  // the volume and the one nested in its FV-image file
  const Container& c = *fvs[0];
  EXPECT_TRUE(c.complete);
  EXPECT_EQ(c.length, u.tree.image.size);
  const auto sha = [&](const std::string& path) {
    const FileRecord* r = u.file(c.id, path);
    return r ? r->sha256 : std::string("missing ") + path;
  };
  EXPECT_EQ(sha("AAAAAAAA-0000-0000-0000-000000000001_raw/raw.bin"),
            file_sha(fs_fixture("uefi-raw.bin")));
  EXPECT_EQ(sha("AAAAAAAA-0000-0000-0000-000000000002_driver/00_pe32.efi"),
            file_sha(fs_fixture("uefi-pe32.efi")));
  // The PE32 inside the GUID-defined LZMA section, decoded by liblzma.
  EXPECT_EQ(sha("AAAAAAAA-0000-0000-0000-000000000003_driver/00_pe32.efi"),
            file_sha(fs_fixture("uefi-lzma-pe32.efi")));
  EXPECT_NE(u.file(c.id, "AAAAAAAA-0000-0000-0000-000000000004_freeform/00_raw.bin"), nullptr);
  EXPECT_EQ(fvs[1]->parent, c.id);
  EXPECT_NE(u.file(fvs[1]->id, "11111111-2222-3333-4444-555555555555_raw/raw.bin"), nullptr);
  EXPECT_TRUE(u.warnings("crc-mismatch").empty());
  EXPECT_TRUE(u.warnings("format-error").empty());
}

TEST(FormatUefiFv, HostileVolumesAreIncomplete) {
  for (const char* name :
       {"uefi-long-file.fv", "uefi-long-section.fv", "uefi-bad-lzma.fv", "uefi-tiano.fv"}) {
    auto u = unpack_file(fs_fixture(name));
    ASSERT_EQ(u.containers("uefi_fv").size(), 1u) << name;
    EXPECT_FALSE(u.containers("uefi_fv")[0]->complete) << name;
    EXPECT_FALSE(u.warnings("format-error").empty()) << name;
  }
  // The Tiano-compressed section is kept as it is, not passed off as decoded.
  auto t = unpack_file(fs_fixture("uefi-tiano.fv"));
  EXPECT_NE(t.file(t.containers("uefi_fv")[0]->id,
                   "BBBBBBBB-0000-0000-0000-000000000004_driver/00_tiano_compressed.bin"),
            nullptr);
}

TEST(FormatCbfs, FilesAndCompressedFilesDecoded) {
  auto u = unpack_file(fs_fixture("cbfs.rom"));
  const Container& c = u.only("cbfs");
  EXPECT_TRUE(c.complete);
  EXPECT_NE(c.description.find("master header"), std::string::npos) << c.description;
  ASSERT_NE(u.file(c.id, "config"), nullptr);
  EXPECT_EQ(u.file(c.id, "config")->sha256, file_sha(fs_fixture("cbfs-raw.bin")));
  EXPECT_NE(u.file(c.id, "fallback/test.lzma-file.lzma"), nullptr);
  EXPECT_NE(u.file(c.id, "lz4file.lz4"), nullptr);
  // The LZMA and LZ4 files are decoded (liblzma, liblz4) to the original bytes.
  const Container& lz = u.only("lzma");
  const Container& l4 = u.only("lz4");
  EXPECT_EQ(lz.parent, c.id);
  ASSERT_NE(u.file(lz.id, "decompressed"), nullptr);
  EXPECT_EQ(u.file(lz.id, "decompressed")->sha256, file_sha(fs_fixture("cbfs-plain.txt")));
  ASSERT_NE(u.file(l4.id, "decompressed"), nullptr);
  EXPECT_EQ(u.file(l4.id, "decompressed")->sha256, file_sha(fs_fixture("cbfs-lz4-plain.txt")));
  EXPECT_EQ(u.files_of(c.id).size(), 3u);  // master header, deleted and empty entries skipped
}

TEST(FormatCbfs, HostileChains) {
  auto l = unpack_file(fs_fixture("cbfs-long-file.rom"));
  ASSERT_EQ(l.containers("cbfs").size(), 1u);
  EXPECT_FALSE(l.containers("cbfs")[0]->complete);
  EXPECT_FALSE(l.warnings("format-error").empty());
  // A header whose attributes lie past its data ends the chain: only the first file is read.
  auto b = unpack_file(fs_fixture("cbfs-bad-attr.rom"));
  const Container& c = b.only("cbfs");
  EXPECT_EQ(b.files_of(c.id).size(), 1u);
  EXPECT_LT(c.length, b.tree.image.size);
}

TEST(FormatUefiCapsule, EfiAndFmpCapsulesOpenTheirVolume) {
  for (const char* name : {"uefi.cap", "uefi-fmp.cap"}) {
    auto u = unpack_file(fs_fixture(name));
    const Container& c = u.only("uefi_capsule");
    EXPECT_TRUE(c.complete) << name;
    EXPECT_EQ(c.length, u.tree.image.size) << name;
    auto fvs = u.containers("uefi_fv");
    ASSERT_EQ(fvs.size(), 2u) << name;
    EXPECT_EQ(fvs[0]->parent, c.id) << name;
  }
  auto f = unpack_file(fs_fixture("uefi-fmp.cap"));
  const Container& c = f.only("uefi_capsule");
  ASSERT_NE(f.file(c.id, "driver_00.efi"), nullptr);
  EXPECT_EQ(f.file(c.id, "driver_00.efi")->sha256, file_sha(fs_fixture("uefi-pe32.efi")));
  ASSERT_NE(f.file(c.id, "00_CCCCCCCC-0000-0000-0000-000000000001.bin"), nullptr);
  EXPECT_EQ(f.file(c.id, "00_CCCCCCCC-0000-0000-0000-000000000001.bin")->sha256,
            file_sha(fs_fixture("uefi.fv")));
}

TEST(FormatUefiCapsule, HostileCapsulesAreIncomplete) {
  for (const char* name : {"uefi-long.cap", "uefi-fmp-bad-offset.cap"}) {
    auto u = unpack_file(fs_fixture(name));
    ASSERT_EQ(u.containers("uefi_capsule").size(), 1u) << name;
    EXPECT_FALSE(u.containers("uefi_capsule")[0]->complete) << name;
    EXPECT_FALSE(u.warnings("format-error").empty()) << name;
    // The volume inside is still found by carving what the capsule did not read.
    EXPECT_FALSE(u.containers("uefi_fv").empty()) << name;
  }
}

}  // namespace
}  // namespace probity::test
