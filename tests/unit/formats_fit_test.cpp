// The fit format on FIT images made by mkimage (tests/fixtures/make-formats.sh).
#include <gtest/gtest.h>

#include "formats_fixture.hpp"

namespace probity::test {
namespace {

void expect_fit_images(const Unpacked& u) {
  const Container& fit = u.only("fit");
  EXPECT_EQ(fit.offset, 0u);
  std::set<std::string> names;
  for (const FileRecord* f : u.files_of(fit.id)) names.insert(f->path);
  EXPECT_EQ(names, (std::set<std::string>{"kernel-1", "fdt-1", "ramdisk-1", "fit.dts"}));
  const auto* k = u.file(fit.id, "kernel-1");
  const auto* d = u.file(fit.id, "fdt-1");
  const auto* r = u.file(fit.id, "ramdisk-1");
  ASSERT_TRUE(k && d && r);
  EXPECT_EQ(k->sha256, file_sha(fixture("kernel.bin.gz")));
  EXPECT_EQ(d->sha256, file_sha(fixture("board.dtb")));
  EXPECT_EQ(r->sha256, file_sha(fixture("ramdisk.bin")));
  EXPECT_EQ(file_sha(u.out() / k->extracted), k->sha256);
  // The header facts and the verified hashes are in the container description.
  EXPECT_NE(fit.description.find("Probity test FIT"), std::string::npos) << fit.description;
  EXPECT_NE(fit.description.find("kernel-1: type=kernel os=linux arch=arm compression=gzip"),
            std::string::npos)
      << fit.description;
  EXPECT_NE(fit.description.find("default configuration conf-1"), std::string::npos);
  if (u.tree.image.name != "fit-signed.itb") {
    EXPECT_NE(fit.description.find("unsigned"), std::string::npos);
  }
  // The gzip kernel was carved again and decompressed to the original bytes.
  const Container& gz = u.only("gzip");
  const auto* dec = u.file(gz.id, "decompressed");
  ASSERT_NE(dec, nullptr);
  EXPECT_EQ(dec->sha256, file_sha(fixture("kernel.bin")));
  // The embedded dtb is decompiled once (no recursion into devicetree.dtb).
  EXPECT_EQ(u.containers("fdt").size(), 1u);
  const std::string dts = read_text(u.out() / u.file(fit.id, "fit.dts")->extracted);
  EXPECT_NE(dts.find("algo = \"sha256\";"), std::string::npos) << dts;
}

TEST(FormatFit, InlineDataImagesAndHashes) {
  auto u = unpack_file(fixture("fit.itb"));
  expect_fit_images(u);
  EXPECT_TRUE(u.warnings("crc-mismatch").empty());
  const Container& fit = u.only("fit");
  for (const Warning* w : u.warnings("format-error")) EXPECT_NE(w->container, fit.id) << w->message;
  EXPECT_EQ(fit.length, u.tree.image.size);
  // crc32 and sha1 of the kernel, sha256 of the others: all four checked and matching.
  std::size_t ok = 0;
  for (auto pos = fit.description.find(" ok"); pos != std::string::npos;
       pos = fit.description.find(" ok", pos + 1))
    ++ok;
  EXPECT_EQ(ok, 4u) << fit.description;
  EXPECT_NE(fit.description.find("crc32="), std::string::npos);
}

TEST(FormatFit, ExternalDataAfterTheTree) {
  auto u = unpack_file(fixture("fit-external.itb"));
  expect_fit_images(u);
  EXPECT_TRUE(u.warnings("crc-mismatch").empty());
  EXPECT_EQ(u.only("fit").length, u.tree.image.size);
}

TEST(FormatFit, SignedConfigurationIsRecorded) {
  auto u = unpack_file(fixture("fit-signed.itb"));
  expect_fit_images(u);
  const Container& fit = u.only("fit");
  EXPECT_NE(fit.description.find("1 signature nodes"), std::string::npos) << fit.description;
  EXPECT_NE(fit.description.find("conf-1: signature(sha256,rsa2048, key \"dev\""),
            std::string::npos)
      << fit.description;
  EXPECT_TRUE(u.warnings("crc-mismatch").empty());
}

TEST(FormatFit, ModifiedPayloadIsAHashMismatch) {
  auto u = unpack_file(fixture("fit-corrupt.itb"));
  auto w = u.warnings("crc-mismatch");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0]->entry, "ramdisk-1");
  const Container& fit = u.only("fit");
  EXPECT_NE(fit.description.find("MISMATCH"), std::string::npos);
  EXPECT_NE(u.file(fit.id, "ramdisk-1")->sha256, file_sha(fixture("ramdisk.bin")));
  EXPECT_EQ(u.file(fit.id, "kernel-1")->sha256, file_sha(fixture("kernel.bin.gz")));
}

TEST(FormatFit, TruncatedExternalDataWarnsAndKeepsWhatIsThere) {
  auto u = unpack_file(fixture("fit-truncated.itb"));
  const Container& fit = u.only("fit");
  EXPECT_GE(u.warnings("format-error").size(), 1u);
  EXPECT_EQ(u.file(fit.id, "ramdisk-1"), nullptr);  // entirely past the end
  const auto* k = u.file(fit.id, "kernel-1");
  ASSERT_NE(k, nullptr);
  EXPECT_LT(k->size, std::filesystem::file_size(fixture("kernel.bin.gz")));
  EXPECT_TRUE(u.warnings("crc-mismatch").empty());  // incomplete data is not a mismatch
}

TEST(FormatFit, EveryPrefixIsHandled) {
  TempDir scratch;
  const auto img = fixture("fit.itb");
  for (std::size_t keep : {1u, 40u, 100u, 300u, 1000u, 4000u, 40000u}) {
    auto u = unpack_prefix(img, keep, scratch);
    EXPECT_EQ(u.tree.image.size, keep);
  }
}

}  // namespace
}  // namespace probity::test
