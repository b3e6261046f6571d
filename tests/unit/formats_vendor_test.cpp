// Vendor firmware headers (tplink, netgear_chk, cybertan, seama, wrgg, xiaomi_hdr, broadcom_sao,
// bneg, tenvis_pk2, alphanetworks, dlink_encrpted_img, dlink_shrs, realtek, huawei_hwnp, draytek,
// qnap, zynos, ambarella_romfs, maxlinear_uimage, bosch_fw, zyxel_ras, engenius)
// on images assembled from their documented layouts by tests/fixtures/make-vendor-headers.py, each
// wrapping a gzip kernel and a squashfs root filesystem; hostile variants (flipped bytes, lengths
// past the end, truncation); and nested images: a zip member named *.img carved in full without
// --deep.
#include <gtest/gtest.h>

#include <fstream>
#include <utility>

#include "formats_fixture.hpp"

namespace probity::test {
namespace {

namespace fs = std::filesystem;

fs::path vendor(const std::string& name) {
  return generated("vendor", "make-vendor-headers.py", name);
}

/// The squashfs root filesystem of the fixtures was reached and read.
void expect_rootfs(const Unpacked& u) {
  ASSERT_FALSE(u.containers("squashfs").empty()) << "root filesystem not reached";
  const Container& sq = u.only("squashfs");
  const FileRecord* busybox = u.file(sq.id, "bin/busybox");
  ASSERT_NE(busybox, nullptr);
  EXPECT_EQ(busybox->sha256, file_sha(vendor("tree/bin/busybox")));
}

struct Case {
  const char* file;
  const char* format;
  const char* kernel_name;  ///< the output holding exactly the kernel, or "" (one payload)
  const char* description;  ///< a part of the container's description
};

class VendorHeader : public ::testing::TestWithParam<Case> {};

TEST_P(VendorHeader, ReachesTheRootFilesystem) {
  const Case& c = GetParam();
  auto u = unpack_file(vendor(c.file));
  const Container& ct = u.only(c.format);
  EXPECT_EQ(ct.offset, 0u);
  EXPECT_EQ(ct.parent, 0u);
  EXPECT_TRUE(ct.complete);
  EXPECT_EQ(ct.length, u.tree.image.size);
  EXPECT_NE(ct.description.find(c.description), std::string::npos) << ct.description;
  if (*c.kernel_name) {
    const FileRecord* k = u.file(ct.id, c.kernel_name);
    ASSERT_NE(k, nullptr) << c.kernel_name;
    EXPECT_EQ(k->sha256, file_sha(vendor("kernel.bin.gz")));
  }
  expect_rootfs(u);
  for (const auto& w : u.tree.warnings) ADD_FAILURE() << w.code << ": " << w.message;
  EXPECT_EQ(u.tree.coverage.understood, u.tree.coverage.bytes);
}

INSTANTIATE_TEST_SUITE_P(
    Images, VendorHeader,
    ::testing::Values(Case{"tplink-v1.bin", "tplink", "kernel", "header 1 (layout v1)"},
                      Case{"tplink-v1-boot.bin", "tplink", "kernel", "header 1 (layout v1)"},
                      Case{"tplink-v3.bin", "tplink", "kernel", "header 3 (layout v2)"},
                      Case{"chk.bin", "netgear_chk", "kernel", "U12H072T00_NETGEAR"},
                      Case{"cybertan.bin", "cybertan", "", "\"W54G\", v4.30.7, built 23-11-14"},
                      Case{"seama.bin", "seama", "", "type=firmware"},
                      Case{"dlob.bin", "seama", "", "signature=wrgn49_dlob_dir865L"},
                      Case{"wrgg.bin", "wrgg", "", "little-endian"},
                      Case{"wrgg-be.bin", "wrgg", "", "big-endian"},
                      Case{"xiaomi-hdr1.bin", "xiaomi_hdr", "kernel.bin", "HDR1, 2 blobs"},
                      Case{"xiaomi-hdr2.bin", "xiaomi_hdr", "kernel.bin", "HDR2, 2 blobs"},
                      Case{"sao.bin", "broadcom_sao", "KRNL", "3 objects: META, KRNL, RTFS"},
                      Case{"bneg.bin", "bneg", "partition_1.bin", "v1.1"},
                      Case{"realtek.bin", "realtek", "1-cs6c.bin", "cs6c ("},
                      Case{"hwnp.bin", "huawei_hwnp", "kernel", "HWNP, 3 items"},
                      Case{"buffalo.bin", "buffalo", "", "\"WZR-HP-G300NH\", version \"1.75\""},
                      Case{"buffalo-long.bin", "buffalo", "", "longstate"},
                      Case{"gm8126.bin", "grain_media", "", "\"IPCAM\""},
                      Case{"draytek.bin", "draytek", "kernel", "root filesystem"},
                      Case{"arcadyan.bin", "arcadyan", "", "leading bytes 30051120"},
                      Case{"qnap-nas.img", "qnap", "", "key \"QNAPNASVERSION5\": decrypted"},
                      Case{"qnap-qhora.img", "qnap", "", "key \"QHora-301W\": decrypted"},
                      Case{"amba.romfs", "ambarella_romfs", "kernel.bin.gz", "3 files"},
                      Case{"shrs-public-key.bin", "dlink_shrs", "", "public key: decrypted"},
                      Case{"bosch.fw", "bosch_fw", "section-0/kernel.bin.gz", "XOR-obfuscated"},
                      Case{"maxlinear-v2.bin", "maxlinear_uimage", "atomkernel.img", "v2"},
                      Case{"maxlinear-v3.bin", "maxlinear_uimage", "atomkernel.img", "v3"},
                      Case{"zyxel-ras-nand.bin", "zyxel_ras", "", "NBG6716"},
                      Case{"engenius.bin", "engenius", "",
                           "key 0x5678, phase from the key in the image"}),
    [](const auto& info) { return file_case_name(info.param.file); });

TEST(VendorHeaders, TplinkBootloaderIsAPartition) {
  auto u = unpack_file(vendor("tplink-v1-boot.bin"));
  const FileRecord* b = u.file(u.only("tplink").id, "bootloader");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->sha256, file_sha(vendor("boot.bin")));
}

TEST(VendorHeaders, Pk2UndoesTheXorAndChecksTheMd5) {
  auto u = unpack_file(vendor("pk2.bin"));
  const Container& ct = u.only("tenvis_pk2");
  const FileRecord* k = u.file(ct.id, "bin/kernel.gz");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->sha256, file_sha(vendor("kernel.bin.gz")));
  const FileRecord* v = u.file(ct.id, "etc/version");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->size, 6u);
  EXPECT_NE(u.file(ct.id, "pk2-commands.sh"), nullptr);
  EXPECT_TRUE(u.warnings("crc-mismatch").empty());
  EXPECT_NE(ct.description.find("2 files, 1 commands"), std::string::npos) << ct.description;
}

TEST(VendorHeaders, AlphaNetworksScriptHelperAndFirmware) {
  auto u = unpack_file(vendor("alpha.sh"));
  const Container& ct = u.only("alphanetworks");
  ASSERT_NE(u.file(ct.id, "script.sh"), nullptr);
  const FileRecord* elf = u.file(ct.id, "ddPack.elf");
  ASSERT_NE(elf, nullptr);
  EXPECT_EQ(elf->size, 16u);
  const FileRecord* fw = u.file(ct.id, "firmware.bin");
  ASSERT_NE(fw, nullptr);
  EXPECT_EQ(fw->sha256, file_sha(vendor("tplink-v1.bin")));
  EXPECT_EQ(u.only("tplink").parent, ct.id);
  expect_rootfs(u);
}

TEST(VendorHeaders, AlphaNetworksInvertedFirmwareIsRestored) {
  auto u = unpack_file(vendor("alpha-inverted.sh"));
  const Container& ct = u.only("alphanetworks");
  EXPECT_NE(ct.description.find("inverted"), std::string::npos);
  EXPECT_EQ(u.only("tplink").offset, 8u);  // after "REDSONIC"
  expect_rootfs(u);
}

/// An encrypted payload is an encrypted region claimed by its format, never understood.
void expect_encrypted(const std::string& file, const std::string& format, std::uint64_t header,
                      std::uint64_t size) {
  auto u = unpack_file(vendor(file));
  const Container& ct = u.only(format);
  EXPECT_EQ(ct.length, u.tree.image.size);
  EXPECT_EQ(u.tree.coverage.understood, header);
  const auto enc = find_encrypted_regions(u.tree);
  ASSERT_EQ(enc.size(), 1u);
  EXPECT_EQ(enc[0].claimed_by, format);
  EXPECT_EQ(enc[0].region->offset, header);
  EXPECT_EQ(enc[0].region->size, size);
  EXPECT_FALSE(enc[0].region->understood);
  EXPECT_TRUE(enc[0].region->encrypted);
  EXPECT_TRUE(u.files_of(ct.id).empty());
}

TEST(VendorHeaders, EncrptedImgIsReportedEncrypted) {
  // Under another key: D-Link's published one gives noise.
  expect_encrypted("encrpted_img.bin", "dlink_encrpted_img", 16, 8192);
}

TEST(VendorHeaders, EncrptedImgDecryptsWithDlinksKey) {
  // A UBI image (ubinize) of the root filesystem, each erase block encrypted on its own.
  auto u = unpack_file(vendor("encrpted_img-ubi.bin"));
  const Container& ct = u.only("dlink_encrpted_img");
  EXPECT_NE(ct.description.find("decrypted, a UBI image"), std::string::npos) << ct.description;
  const FileRecord* fw = u.file(ct.id, "firmware.bin");
  ASSERT_NE(fw, nullptr);
  EXPECT_EQ(fw->sha256, file_sha(vendor("dlink.ubi")));  // every erase block's head restored
  EXPECT_FALSE(u.containers("ubi").empty());
  expect_rootfs(u);
  EXPECT_TRUE(find_encrypted_regions(u.tree).empty());
  // fact_extractor's public test file (a line of text under D-Link's key).
  const fs::path dir = shared_vectors_dir();
  if (dir.empty()) GTEST_SKIP() << "../shared/vectors/formats not present";
  const fs::path img = dir / "fact_extractor/dlink__testfile.encrpted_img";
  if (!fs::exists(img)) GTEST_SKIP() << img << " not present";
  auto v = unpack_file(img);
  const FileRecord* text = v.file(v.only("dlink_encrpted_img").id, "firmware.bin");
  ASSERT_NE(text, nullptr);
  EXPECT_NE(read_text(v.out() / text->extracted).find("foobar test!"), std::string::npos);
}

// The MH01 payload (16 + 16 + 33 bytes in) is encrypted; the headers, the digest text and the
// 256-byte signature after it are read, never decrypted.
void expect_mh01(const fs::path& file, std::uint64_t payload) {
  auto u = unpack_file(file);
  const Container& ct = u.only("dlink_mh01");
  EXPECT_EQ(ct.offset, 0u);
  EXPECT_TRUE(ct.complete);
  EXPECT_EQ(ct.length, u.tree.image.size);
  const auto enc = find_encrypted_regions(u.tree);
  ASSERT_EQ(enc.size(), 1u);
  EXPECT_EQ(enc[0].claimed_by, "dlink_mh01");
  EXPECT_EQ(enc[0].region->offset, 65u);
  EXPECT_EQ(enc[0].region->size, payload);
  EXPECT_FALSE(enc[0].region->understood);
  // Understood: the headers and the digest text; the signature after the payload stays
  // unexplained (a format's understood bytes end where its encrypted span begins).
  EXPECT_EQ(u.tree.coverage.understood, 65u);
  EXPECT_NE(ct.description.find("not decrypted"), std::string::npos) << ct.description;
}

TEST(VendorHeaders, Mh01IsReportedEncrypted) {
  expect_mh01(vendor("mh01.bin"), 16 + 24 * 16);
  // Its public test image (fact_extractor's), when ../shared is present.
  const fs::path dir = shared_vectors_dir();
  if (dir.empty()) GTEST_SKIP() << "../shared/vectors/formats not present";
  const fs::path img = dir / "fact_extractor/dlink__fw_mh01_test.bin";
  if (!fs::exists(img)) GTEST_SKIP() << img << " not present";
  expect_mh01(img, 320);
}

TEST(VendorHeaders, ShrsIsReportedEncrypted) {
  // Under another key: the public one does not give the decrypted image's digest.
  expect_encrypted("shrs.bin", "dlink_shrs", 0x6dc, 4096);
  auto u = unpack_file(vendor("shrs.bin"));
  EXPECT_TRUE(u.warnings("crc-mismatch").empty());
  // fact_extractor's public SHRS image, encrypted by D-Link's tooling with the published key.
  const fs::path dir = shared_vectors_dir();
  if (dir.empty()) GTEST_SKIP() << "../shared/vectors/formats not present";
  const fs::path img = dir / "fact_extractor/dlink__test.dec";
  if (!fs::exists(img)) GTEST_SKIP() << img << " not present";
  auto v = unpack_file(img);
  const Container& ct = v.only("dlink_shrs");
  const FileRecord* fw = v.file(ct.id, "firmware.bin");
  ASSERT_NE(fw, nullptr);
  EXPECT_TRUE(read_text(v.out() / fw->extracted).starts_with("This is a decrypted test file!\n"));
  EXPECT_TRUE(find_encrypted_regions(v.tree).empty());
}

TEST(VendorHeaders, FlippedBytesAreChecksumMismatches) {
  for (const char* name : {"tplink-v1.bin", "chk.bin", "seama.bin", "wrgg.bin", "xiaomi-hdr1.bin",
                           "sao.bin", "pk2.bin", "shrs.bin", "realtek.bin", "hwnp.bin",
                           "buffalo.bin", "zynos-plain.bin", "zyxel-ras.bin"}) {
    auto u = unpack_file(vendor(std::string("hostile/flip-") + name));
    EXPECT_FALSE(u.warnings("crc-mismatch").empty()) << name;
  }
}

TEST(VendorHeaders, TruncatedImagesWarn) {
  for (const char* name : {"tplink-v1.bin", "chk.bin", "seama.bin", "wrgg.bin", "xiaomi-hdr1.bin",
                           "sao.bin", "bneg.bin", "pk2.bin", "realtek.bin", "hwnp.bin",
                           "buffalo.bin", "draytek.bin", "arcadyan.bin", "zynos-plain.bin",
                           "amba.romfs", "maxlinear-v2.bin", "zyxel-ras.bin", "engenius.bin"}) {
    auto u = unpack_file(vendor(std::string("hostile/cut-") + name));
    EXPECT_FALSE(u.warnings("format-error").empty()) << name;
    // The header's container stopped early or marked what it wrote as cut short.
    ASSERT_FALSE(u.tree.containers.empty()) << name;
    const Container& ct = u.tree.containers.front();
    EXPECT_EQ(ct.offset, 0u) << name;
    bool cut = !ct.complete;
    for (const FileRecord* f : u.files_of(ct.id)) cut |= f->truncated;
    EXPECT_TRUE(cut) << name;
  }
}

TEST(VendorHeaders, HostileLengthsAndCountsAreBounded) {
  for (const char* name : {"bneg-huge.bin", "pk2-huge.bin", "sao-loop.bin", "seama-huge.bin",
                           "xiaomi-huge.bin", "encrpted-huge.bin"}) {
    auto u = unpack_file(vendor(std::string("hostile/") + name));
    for (const auto& c : u.tree.containers) {
      EXPECT_LE(c.length, u.tree.image.size) << name;
      // A header whose lengths run past the end never completes.
      if (c.offset == 0 && c.parent == 0) {
        EXPECT_FALSE(c.complete) << name << " " << c.format;
      }
    }
  }
  // Blob offsets past the signature: not a Xiaomi image at all.
  EXPECT_TRUE(unpack_file(vendor("hostile/xiaomi-huge.bin")).containers("xiaomi_hdr").empty());
  // Every prefix of a header is refused or warned about, never trusted.
  TempDir scratch;
  for (const char* name : {"tplink-v1.bin", "chk.bin", "xiaomi-hdr1.bin", "pk2.bin", "shrs.bin"})
    for (std::size_t keep : {4u, 12u, 40u, 100u, 600u, 1800u})
      (void)unpack_prefix(vendor(name), keep, scratch);
}

TEST(VendorHeaders, RealtekPartsEachWithTheirAddresses) {
  auto u = unpack_file(vendor("realtek.bin"));
  const Container& ct = u.only("realtek");
  const FileRecord* root = u.file(ct.id, "2-r6cr.bin");
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->sha256, file_sha(vendor("rootfs.squashfs")));
  EXPECT_NE(ct.description.find("r6cr ("), std::string::npos) << ct.description;
  EXPECT_NE(ct.description.find("flash 0x130000"), std::string::npos) << ct.description;
  // The word "csys" in a text file is no Realtek image: no checksum, no plausible addresses.
  TempDir scratch;
  const auto text = scratch.path / "notes.txt";
  {
    std::ofstream out(text, std::ios::binary);
    out << "csys" << std::string(64, ' ') << "some release notes, nothing else\n";
  }
  EXPECT_TRUE(unpack_file(text).containers("realtek").empty());
}

TEST(VendorHeaders, HwnpItemsAreFilesNamedByTheirPaths) {
  auto u = unpack_file(vendor("hwnp.bin"));
  const Container& ct = u.only("huawei_hwnp");
  const FileRecord* check = u.file(ct.id, "var/UpgradeCheck.xml");
  ASSERT_NE(check, nullptr);
  EXPECT_EQ(check->size, 16u);
  const FileRecord* root = u.file(ct.id, "rootfs");
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->sha256, file_sha(vendor("rootfs.squashfs")));
  EXPECT_NE(ct.description.find("COMMON|CMCC|"), std::string::npos) << ct.description;
}

TEST(VendorHeaders, BuffaloDataThatDoesNotRestoreIsEncrypted) {
  auto u = unpack_file(vendor("hostile/flip-buffalo.bin"));
  const Container& ct = u.only("buffalo");
  EXPECT_TRUE(u.files_of(ct.id).empty());
  const auto enc = find_encrypted_regions(u.tree);
  ASSERT_EQ(enc.size(), 1u);
  EXPECT_EQ(enc[0].claimed_by, "buffalo");
  EXPECT_GT(enc[0].region->size, 20000u);
}

// A QNAP image whose key is neither public one: the encrypted part is an encrypted region
// claimed by qnap, never understood, and nothing is extracted from it.
TEST(VendorHeaders, QnapUnknownKeyIsEncrypted) {
  auto u = unpack_file(vendor("qnap-unknown-key.img"));
  const Container& ct = u.only("qnap");
  EXPECT_EQ(ct.length, u.tree.image.size);
  EXPECT_TRUE(u.files_of(ct.id).empty());
  const auto enc = find_encrypted_regions(u.tree);
  ASSERT_EQ(enc.size(), 1u);
  EXPECT_EQ(enc[0].claimed_by, "qnap");
  EXPECT_EQ(enc[0].region->offset, 0u);
  EXPECT_EQ(enc[0].region->size, u.tree.image.size - 74 - 1000);  // as the generator encrypts
  EXPECT_FALSE(enc[0].region->understood);
  EXPECT_EQ(u.tree.coverage.understood, 0u);
  EXPECT_FALSE(u.warnings("format-warning").empty());
}

// The cipher against a published value rather than our own generator: QNAP NAS images start
// with the bytes F5 7B 47 03 (unblob's start pattern for them), a gzip header's 1F 8B 08 00
// under the NAS key. An image with those first bytes and a footer decrypts to them.
TEST(VendorHeaders, QnapCipherMatchesThePublishedStartBytes) {
  TempDir tmp;
  std::string img = "\xf5\x7b\x47\x03";
  img += std::string(60, 'x');
  std::string footer = "icpnas";
  footer += std::string("\x40\0\0\0", 4);  // 64 encrypted bytes
  for (const char* field : {"TS-859", "4.2.6", "20180504", "1234"}) {
    std::string f(field);
    f.resize(16, '\0');
    footer += f;
  }
  write_bytes(tmp.path / "ts859.img", img + footer);
  auto u = unpack_file(tmp.path / "ts859.img");
  const Container& ct = u.only("qnap");
  EXPECT_NE(ct.description.find("QNAPNASVERSION4\": decrypted"), std::string::npos)
      << ct.description;
  const FileRecord* tgz = u.file(ct.id, "firmware.tgz");
  ASSERT_NE(tgz, nullptr);
  EXPECT_EQ(read_text(u.out() / tgz->extracted).substr(0, 4), std::string("\x1f\x8b\x08\0", 4));
}

TEST(VendorHeaders, QnapHostileFootersAreBounded) {
  // A length past the footer and binary text fields: not a QNAP image at all.
  for (const char* name : {"qnap-huge.img", "qnap-binary-footer.img", "qnap-footer-only.img"}) {
    auto u = unpack_file(vendor(std::string("hostile/") + name));
    EXPECT_TRUE(u.containers("qnap").empty()) << name;
  }
  // A flipped byte inside the encrypted .tgz: it decrypts (the first bytes are intact), and the
  // gzip stream behind it fails, loudly.
  auto u = unpack_file(vendor("hostile/flip-qnap-nas.img"));
  ASSERT_EQ(u.containers("qnap").size(), 1u);
  bool failed = !u.warnings("format-error").empty() || !u.warnings("crc-mismatch").empty();
  for (const auto& c : u.tree.containers) failed |= !c.complete;
  EXPECT_TRUE(failed);
}

// A ZyNOS update: the BOOTEXT envelope (checksum over the rest of the image), inside it the
// LZMA'd default configuration and the LZMA'd system objects, each checked, the system's root
// filesystem reached.
TEST(VendorHeaders, ZynosObjectsNestAndReachTheRootFilesystem) {
  auto u = unpack_file(vendor("zynos.bin"));
  const auto objects = u.containers("zynos");
  ASSERT_EQ(objects.size(), 3u);
  EXPECT_EQ(objects[0]->offset, 0u);
  EXPECT_EQ(objects[0]->length, u.tree.image.size);
  for (const Container* c : objects)
    EXPECT_NE(c->description.find("checksum ok"), std::string::npos) << c->description;
  EXPECT_NE(objects[0]->description.find("bootext"), std::string::npos);
  EXPECT_EQ(u.containers("lzma").size(), 2u);
  expect_rootfs(u);
  for (const auto& w : u.tree.warnings) ADD_FAILURE() << w.code << ": " << w.message;
  // The configuration came out whole (the words of a ZyNOS "sys" script).
  bool config = false;
  for (const auto& f : u.tree.files)
    config |= f.type == EntryType::kFile && !f.extracted.empty() &&
              read_text(u.out() / f.extracted).starts_with("sys hostname P-660\n");
  EXPECT_TRUE(config);

  auto plain = unpack_file(vendor("zynos-plain.bin"));
  const Container& ct = plain.only("zynos");
  EXPECT_NE(ct.description.find("\"V3.40(AAA.0)\""), std::string::npos) << ct.description;
  const FileRecord* k = plain.file(ct.id, "rombin-V3.40_AAA.0_.bin");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->sha256, file_sha(vendor("kernel.bin.gz")));
  EXPECT_EQ(plain.tree.coverage.understood, plain.tree.coverage.bytes);
}

TEST(VendorHeaders, ZynosHostileHeadersAreBounded) {
  // "SIG" inside text is no object (the type byte of a header is never a letter).
  EXPECT_TRUE(unpack_file(vendor("hostile/zynos-text.txt")).containers("zynos").empty());
  // Sizes past the end: the object is cut short, loudly.
  auto u = unpack_file(vendor("hostile/zynos-huge.bin"));
  ASSERT_EQ(u.containers("zynos").size(), 1u);
  EXPECT_FALSE(u.containers("zynos")[0]->complete);
  EXPECT_FALSE(u.warnings("format-error").empty());
}

TEST(VendorHeaders, AmbarellaAndMaxlinearDetails) {
  auto a = unpack_file(vendor("amba.romfs"));
  const Container& romfs = a.only("ambarella_romfs");
  ASSERT_NE(a.file(romfs.id, "fs/rootfs.squashfs"), nullptr);  // a name with a directory
  const FileRecord* exact = a.file(romfs.id, "exact.bin");
  ASSERT_NE(exact, nullptr);
  EXPECT_EQ(exact->size, 2048u);  // padded by a whole 2048 bytes more, none of them its data
  auto m = unpack_file(vendor("maxlinear-v2.bin"));
  const Container& ml = m.only("maxlinear_uimage");
  const FileRecord* extra = m.file(ml.id, "part-2-type-77.bin");
  ASSERT_NE(extra, nullptr);
  EXPECT_EQ(extra->size, 6u);
}

TEST(VendorHeaders, AmbarellaAndMaxlinearHostile) {
  for (const char* name : {"amba-badmagic.romfs", "maxlinear-text.txt", "maxlinear-count.bin"}) {
    auto u = unpack_file(vendor(std::string("hostile/") + name));
    EXPECT_TRUE(u.containers("ambarella_romfs").empty()) << name;
    EXPECT_TRUE(u.containers("maxlinear_uimage").empty()) << name;
  }
  for (const char* name : {"amba-huge.romfs", "amba-count.romfs", "maxlinear-huge.bin"}) {
    auto u = unpack_file(vendor(std::string("hostile/") + name));
    ASSERT_EQ(u.tree.containers.empty(), false) << name;
    EXPECT_FALSE(u.tree.containers.front().complete) << name;
    EXPECT_FALSE(u.warnings("format-error").empty()) << name;
  }
}

// fact_extractor's public test images, when ../shared is present.
TEST(VendorHeaders, AmbarellaAndMaxlinearPublicVectors) {
  const fs::path dir = shared_vectors_dir();
  if (dir.empty()) GTEST_SKIP() << "../shared/vectors/formats not present";
  const fs::path amba = dir / "fact_extractor/ambarella__ambarella_rom.fs",
                 ml = dir / "fact_extractor/maxlinear__maxlinear-uimage-v2.bin";
  if (!fs::exists(amba) || !fs::exists(ml)) GTEST_SKIP() << "vectors not present";
  auto a = unpack_file(amba);
  const Container& romfs = a.only("ambarella_romfs");
  EXPECT_EQ(a.files_of(romfs.id).size(), 4u);
  ASSERT_NE(a.file(romfs.id, "SuperViewWarpTable_4kp30_v.bin"), nullptr);
  EXPECT_EQ(a.tree.coverage.understood, a.tree.coverage.bytes);
  auto m = unpack_file(ml);
  const Container& c = m.only("maxlinear_uimage");
  for (const char* part : {"atomkernel.img", "atomrootfs.hsqs", "armkernel.img", "armrootfs.hsqs"})
    EXPECT_NE(m.file(c.id, part), nullptr) << part;
  EXPECT_EQ(m.tree.coverage.understood, m.tree.coverage.bytes);
}

// A Bosch image whose second section is encrypted under a wrapped key: the obfuscated section
// is read, the encrypted one is an encrypted region claimed by bosch_fw.
TEST(VendorHeaders, BoschEncryptedSectionsAndHostileRecords) {
  auto u = unpack_file(vendor("bosch-encrypted.fw"));
  const Container& ct = u.only("bosch_fw");
  ASSERT_NE(u.file(ct.id, "section-0/notes.txt"), nullptr);
  const auto enc = find_encrypted_regions(u.tree);
  ASSERT_EQ(enc.size(), 1u);
  EXPECT_EQ(enc[0].claimed_by, "bosch_fw");
  EXPECT_FALSE(enc[0].region->understood);
  EXPECT_TRUE(u.containers("squashfs").empty());
  auto huge = unpack_file(vendor("hostile/bosch-huge.fw"));
  EXPECT_FALSE(huge.warnings("format-error").empty());
  bool cut = false;
  for (const auto& f : huge.tree.files) cut |= f.truncated;
  EXPECT_TRUE(cut);
  auto back = unpack_file(vendor("hostile/bosch-backwards.fw"));
  EXPECT_FALSE(back.warnings("format-error").empty());
  // fact_extractor's public test image (BoschFirmwareTool's format), when ../shared is present.
  const fs::path dir = shared_vectors_dir();
  if (dir.empty()) GTEST_SKIP() << "../shared/vectors/formats not present";
  const fs::path img = dir / "fact_extractor/boschtool__test.fw";
  if (!fs::exists(img)) GTEST_SKIP() << img << " not present";
  auto v = unpack_file(img);
  const Container& b = v.only("bosch_fw");
  const FileRecord* one = v.file(b.id, "test_file_1.txt");
  ASSERT_NE(one, nullptr);
  EXPECT_TRUE(read_text(v.out() / one->extracted).starts_with("this is a test file!"));
  EXPECT_NE(v.file(b.id, "test_file_2.txt"), nullptr);
  EXPECT_TRUE(v.tree.warnings.empty());
  EXPECT_EQ(v.tree.coverage.understood, v.tree.coverage.bytes);
}

TEST(VendorHeaders, ZyxelRasRootfsAndKernelBehindTheHeader) {
  auto u = unpack_file(vendor("zyxel-ras.bin"));
  const Container& ct = u.only("zyxel_ras");
  EXPECT_TRUE(ct.complete);
  EXPECT_EQ(ct.length, u.tree.image.size);
  EXPECT_NE(ct.description.find("\"V1.00(ABCS.0)C0\", 64 KiB header"), std::string::npos)
      << ct.description;
  const FileRecord* k = u.file(ct.id, "kernel.bin");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->sha256, file_sha(vendor("kernel.bin.gz")));
  const FileRecord* r = u.file(ct.id, "rootfs.bin");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->size, fs::file_size(vendor("rootfs.squashfs")) + 5000);  // padded with zeros
  expect_rootfs(u);
  EXPECT_TRUE(u.warnings("crc-mismatch").empty());
  // No magic of its own: 0xff padding alone, or a header whose checksum is off, is no image.
  TempDir scratch;
  std::string bytes = read_text(vendor("zyxel-ras-nand.bin"));
  bytes[40] = char(bytes[40] ^ 1);
  const auto bad = scratch.path / "bad-header.bin";
  std::ofstream(bad, std::ios::binary) << bytes;
  EXPECT_TRUE(unpack_file(bad).containers("zyxel_ras").empty());
  const auto ff = scratch.path / "erased.bin";
  std::ofstream(ff, std::ios::binary) << std::string(0x20000, '\xff');
  EXPECT_TRUE(unpack_file(ff).containers("zyxel_ras").empty());
}

/// The Senao/EnGenius payload of `file`, decoded: firmware.bin's bytes and the description.
std::pair<std::string, std::string> senao_payload(const fs::path& file) {
  auto u = unpack_file(file);
  const Container& ct = u.only("engenius");
  EXPECT_EQ(ct.offset, 0u);
  EXPECT_EQ(ct.length, u.tree.image.size);
  const FileRecord* fw = u.file(ct.id, "firmware.bin");
  if (!fw) return {"", ct.description};
  return {read_text(u.out() / fw->extracted), ct.description};
}

TEST(VendorHeaders, SenaoKeyPhaseAndLayouts) {
  // No zero run shows the key: the phase that starts the payload with a uImage header.
  auto [nozero, how] = senao_payload(vendor("engenius-nozero.bin"));
  EXPECT_EQ(nozero.size(), 3004u);
  EXPECT_TRUE(nozero.starts_with("\x27\x05\x19\x56"));
  EXPECT_NE(how.find("phase from the payload's header"), std::string::npos) << how;
  // Neither: the documented phase (the schedule from the payload's first byte).
  auto [plain, how2] = senao_payload(vendor("engenius-plain.bin"));
  EXPECT_TRUE(plain.starts_with("foobar"));
  EXPECT_NE(how2.find("documented phase"), std::string::npos) << how2;
  // A long v1 header with another regulatory domain: still the long header (its model named).
  auto [us, how_us] = senao_payload(vendor("engenius-us.bin"));
  EXPECT_TRUE(us.starts_with("foobar"));
  EXPECT_NE(how_us.find("v1 for ENS202EXT"), std::string::npos) << how_us;
  // v2, long header (magic at 0xB4), key 0x1688; the short one reaches the root filesystem.
  auto [v2, how3] = senao_payload(vendor("senao-v2-long.bin"));
  EXPECT_EQ(v2.size(), 106u);
  EXPECT_TRUE(v2.starts_with("foobar"));
  EXPECT_NE(how3.find("v2 (long header)"), std::string::npos) << how3;
  auto u = unpack_file(vendor("senao-v2.bin"));
  EXPECT_NE(u.only("engenius").description.find("v2 (short header)"), std::string::npos);
  expect_rootfs(u);
  // fact_extractor's public Senao v2 image (44 bytes of "foobar..." behind a short header).
  const fs::path dir = shared_vectors_dir();
  if (dir.empty()) GTEST_SKIP() << "../shared/vectors/formats not present";
  const fs::path img = dir / "fact_extractor/senao__testfw_1.enc";
  if (!fs::exists(img)) GTEST_SKIP() << img << " not present";
  auto [vec, how4] = senao_payload(img);
  EXPECT_EQ(vec.size(), 44u);
  EXPECT_TRUE(vec.starts_with("foobar")) << how4;
}

// fact_extractor's other Senao layouts: the v1 short header, v2 with its magic at 0x11C, and v2
// whose header names its own key ("3047" version text, the key where the magic would be). Each
// reaches the root filesystem; the same weak marks over random bytes make no container.
TEST(VendorHeaders, SenaoShortAndOwnKeyLayouts) {
  for (const auto& [file, layout] :
       {std::pair{"senao-v1-short.bin", "v1 (short header)"},
        std::pair{"senao-v2-verylong.bin", "v2 (very long header)"},
        std::pair{"senao-v2-ownkey.bin", "v2 (long header, key from the header)"},
        std::pair{"senao-v2-ownkey-verylong.bin", "v2 (very long header, key from the header)"}}) {
    SCOPED_TRACE(file);
    auto u = unpack_file(vendor(file));
    const Container& ct = u.only("engenius");
    EXPECT_NE(ct.description.find(layout), std::string::npos) << ct.description;
    expect_rootfs(u);
  }
  for (const char* file : {"hostile/senao-weak-random.bin", "hostile/senao-3047-random.bin"})
    EXPECT_TRUE(unpack_file(vendor(file)).containers("engenius").empty()) << file;
}

TEST(VendorHeaders, DraytekMagicAloneIsNoImage) {
  // "2RDH" in release notes, and a header whose parts run past the total it states.
  EXPECT_TRUE(unpack_file(vendor("hostile/draytek-notes.txt")).containers("draytek").empty());
  EXPECT_TRUE(unpack_file(vendor("hostile/draytek-huge.bin")).containers("draytek").empty());
}

TEST(VendorHeaders, ArcadyanMagicAloneIsNoImage) {
  EXPECT_TRUE(unpack_file(vendor("hostile/arcadyan-random.bin")).containers("arcadyan").empty());
}

TEST(VendorHeaders, ArcadyanPublicVector) {
  // binwalk's test image: one obfuscated stream at offset 0, a 2,813,252-byte MIPS kernel.
  const fs::path dir = shared_vectors_dir();
  if (dir.empty()) GTEST_SKIP() << "../shared/vectors/formats not present";
  const fs::path img = dir / "binwalk/arcadyan.bin";
  if (!fs::exists(img)) GTEST_SKIP() << img << " not present";
  auto u = unpack_file(img);
  const Container& ct = u.only("arcadyan");
  EXPECT_EQ(ct.offset, 0u);
  EXPECT_TRUE(ct.complete);
  const FileRecord* k = u.file(ct.id, "decompressed");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->size, 2813252u);
  EXPECT_FALSE(k->truncated);
}

TEST(VendorHeaders, DraytekPublicVector) {
  // fact_extractor's Vigor 167 test image: a 4 KiB squashfs behind the header, no kernel.
  const fs::path dir = shared_vectors_dir();
  if (dir.empty()) GTEST_SKIP() << "../shared/vectors/formats not present";
  const fs::path img = dir / "fact_extractor/draytek_vigor_167__valid_draytekvigor167_image.bin";
  if (!fs::exists(img)) GTEST_SKIP() << img << " not present";
  auto u = unpack_file(img);
  const Container& ct = u.only("draytek");
  EXPECT_TRUE(ct.complete);
  EXPECT_EQ(ct.length, u.tree.image.size);
  EXPECT_NE(ct.description.find("kernel 0 bytes, root filesystem 4096 bytes"), std::string::npos)
      << ct.description;
  const FileRecord* root = u.file(ct.id, "rootfs");
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->size, 4096u);
  ASSERT_FALSE(u.containers("squashfs").empty()) << "the root filesystem was not opened";
  EXPECT_EQ(u.only("squashfs").parent, ct.id);
  for (const auto& w : u.tree.warnings) ADD_FAILURE() << w.code << ": " << w.message;
}

TEST(NestedImages, ImageNamedMemberIsCarvedWithoutDeep) {
  auto u = unpack_file(vendor("nested.zip"));
  const Container& zip = u.only("zip");
  const Container& tp = u.only("tplink");
  EXPECT_EQ(tp.parent, zip.id);
  EXPECT_EQ(tp.source, "WNR-fw/firmware.img");
  EXPECT_EQ(tp.offset, 65536u);
  expect_rootfs(u);
}

TEST(NestedImages, PlainMemberStaysAPlainFile) {
  auto u = unpack_file(vendor("plain.zip"));
  ASSERT_EQ(u.tree.containers.size(), 1u);
  for (const auto& r : u.tree.regions) EXPECT_EQ(r.container, 0u) << r.source;
  EXPECT_TRUE(find_encrypted_regions(u.tree).empty());
}

}  // namespace
}  // namespace probity::test
