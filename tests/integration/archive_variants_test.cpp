// Archive variants the public format vectors showed probity mishandling (issue 10, item 7;
// tests/fixtures/make-archive-variants.py): a sparse tar member ending in a hole, a cpio crc
// archive with a changed payload, a zip whose "version needed" carries the host byte, an
// old-binary cpio after 128 bytes of garbage, a tar header checksum with leading spaces; v7 tar,
// password-protected zip and 7z, ARJ (stored, compressed, garbled, hostile).
// Expected members (names, sizes, sha256) come from the fixture script's expected.json.
#include <gtest/gtest.h>

#include <filesystem>

#include "cli_support.hpp"

namespace probity::testing {
namespace fs = std::filesystem;

namespace {

const nlohmann::json& expected() {
  static const nlohmann::json kExpected = read_json(fixture("variants/expected.json"));
  return kExpected;
}

/// Unpacks fixture `name` and returns its manifest (empty when the fixtures are missing).
nlohmann::json unpack(const Scratch& s, const std::string& name) {
  const fs::path out = s.path() / "out";
  RunResult r = run_probity("unpack '" + fixture("variants/" + name).string() + "' --out '" +
                            out.string() + "' --quiet");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return read_json(out / "manifest.json");
}

/// The containers of format `id` in a manifest.
std::vector<nlohmann::json> containers(const nlohmann::json& m, const std::string& id) {
  std::vector<nlohmann::json> out;
  for (const auto& c : m["containers"])
    if (c["format"] == id) out.push_back(c);
  return out;
}

/// The manifest's encrypted regions claimed by format `id`.
std::vector<nlohmann::json> encrypted_by(const nlohmann::json& m, const std::string& id) {
  std::vector<nlohmann::json> out;
  for (const auto& e : m["encrypted"])
    if (e.value("claimed_by", "") == id) out.push_back(e);
  return out;
}

/// The regular files of a manifest.
std::size_t regular_files(const nlohmann::json& m) {
  std::size_t n = 0;
  for (const auto& f : m["files"])
    if (f["type"] == "file") ++n;
  return n;
}

/// Every expected member is in the manifest with its size and sha256 (a hard link: its
/// target's, in the same container).
void expect_members(const nlohmann::json& m, const std::string& name) {
  auto record = [&](const nlohmann::json& path) -> const nlohmann::json* {
    for (const auto& f : m["files"])
      if (f["path"] == path) return &f;
    return nullptr;
  };
  for (const auto& want : expected()[name]["members"]) {
    const nlohmann::json* got = record(want["name"]);
    if (got && (*got)["type"] == "hardlink") got = record((*got)["link"]);
    if (got && (*got)["type"] != "file") got = nullptr;
    ASSERT_NE(got, nullptr) << name << ": " << want["name"] << " missing from " << m["files"];
    EXPECT_EQ((*got)["size"], want["size"]) << name << ": " << want["name"];
    EXPECT_EQ((*got)["sha256"], want["sha256"]) << name << ": " << want["name"];
  }
}

std::vector<nlohmann::json> warnings(const nlohmann::json& m, const std::string& code) {
  std::vector<nlohmann::json> out;
  for (const auto& w : m["warnings"])
    if (w["code"] == code) out.push_back(w);
  return out;
}

class ArchiveVariants : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(fixture("variants/expected.json")))
      GTEST_SKIP() << "run tests/fixtures/make-all.sh (make-archive-variants.py) first";
  }
};

}  // namespace

TEST_F(ArchiveVariants, SparseTarMemberKeepsItsTrailingHole) {
  for (const std::string name : {"sparse-tail-gnu.tar", "sparse-tail-pax.tar"}) {
    Scratch s("variants-sparse");
    expect_members(unpack(s, name), name);
  }
}

TEST_F(ArchiveVariants, CpioCrcChecksumIsVerified) {
  Scratch good("variants-crc-good");
  const auto mg = unpack(good, "crc-good.cpio");
  expect_members(mg, "crc-good.cpio");
  EXPECT_TRUE(warnings(mg, "crc-mismatch").empty()) << mg["warnings"];

  Scratch bad("variants-crc-bad");
  const auto mb = unpack(bad, "crc-bad.cpio");
  // The changed file still comes out (as stored), and the mismatch names it.
  expect_members(mb, "crc-bad.cpio");
  const auto w = warnings(mb, "crc-mismatch");
  ASSERT_EQ(w.size(), 1u) << mb["warnings"];
  EXPECT_EQ(w[0]["entry"], expected()["crc-bad.cpio"]["bad"]);
}

TEST_F(ArchiveVariants, ZipWithHostByteInVersionNeededIsRead) {
  Scratch s("variants-zip");
  const auto m = unpack(s, "zip-host-version.zip");
  expect_members(m, "zip-host-version.zip");
}

TEST_F(ArchiveVariants, NewcHardLinksAllHaveTheData) {
  Scratch s("variants-newc-links");
  const auto m = unpack(s, "hardlinks.newc.cpio");
  expect_members(m, "hardlinks.newc.cpio");
  // And on disk: every name holds the bytes.
  for (const auto& f : m["files"]) {
    if (f["type"] == "dir") continue;
    const fs::path p = s.path() / "out" / f["extracted"].get<std::string>();
    EXPECT_TRUE(fs::is_regular_file(p)) << p;
  }
}

TEST_F(ArchiveVariants, TarChecksumWithLeadingSpacesIsAccepted) {
  Scratch s("variants-tar-space");
  expect_members(unpack(s, "tar-space-chksum.tar"), "tar-space-chksum.tar");
}

TEST_F(ArchiveVariants, OldBinaryCpioIsCarvedAtAnOffset) {
  Scratch s("variants-cpio-bin");
  const auto m = unpack(s, "cpio-bin-at-128.bin");
  expect_members(m, "cpio-bin-at-128.bin");
  bool found = false;
  for (const auto& c : m["containers"])
    if (c["format"] == "cpio" && c["offset"] == expected()["cpio-bin-at-128.bin"]["offset"])
      found = true;
  EXPECT_TRUE(found) << m["containers"];
}

TEST_F(ArchiveVariants, V7TarWithoutUstarMagicIsRead) {
  Scratch s("variants-v7");
  const auto m = unpack(s, "v7.tar");
  expect_members(m, "v7.tar");
  ASSERT_EQ(containers(m, "tar_v7").size(), 1u) << m["containers"];
  EXPECT_EQ(containers(m, "tar_v7")[0]["length"], 10240) << "span includes the record padding";

  // One changed name byte: the checksum no longer adds up, so it is no tar at all.
  Scratch bad("variants-v7-bad");
  const auto mb = unpack(bad, "v7-bad-chksum.tar");
  EXPECT_TRUE(containers(mb, "tar_v7").empty()) << mb["containers"];
  EXPECT_EQ(regular_files(mb), 0u) << mb["files"];
}

TEST_F(ArchiveVariants, ZipWithADefaultPasswordIsOpened) {
  Scratch s("variants-zip-pw");
  const auto m = unpack(s, "zip-password.zip");
  expect_members(m, "zip-password.zip");
  EXPECT_TRUE(m["encrypted"].empty()) << m["encrypted"];
}

TEST_F(ArchiveVariants, ZipWithAnUnknownPasswordIsEncryptedNeverSkipped) {
  Scratch s("variants-zip-unknown-pw");
  const auto m = unpack(s, "zip-unknown-password.zip");
  EXPECT_FALSE(warnings(m, "encrypted").empty()) << m["warnings"];
  EXPECT_EQ(encrypted_by(m, "zip").size(), 1u) << m["encrypted"];
  for (const auto& f : m["files"]) {
    if (f["type"] == "file") {
      EXPECT_TRUE(f.value("truncated", false)) << f;
    }
  }
}

TEST_F(ArchiveVariants, SevenZipWithAPasswordIsEncrypted) {
  // libarchive 3.6 does not decrypt 7z: whatever it says, the archive is not seen.
  Scratch s("variants-7z-pw");
  const fs::path out = s.path() / "out";
  (void)run_probity("unpack '" + fixture("variants/7z-password.7z").string() + "' --out '" +
                    out.string() + "' --quiet");
  const auto m = read_json(out / "manifest.json");
  EXPECT_EQ(encrypted_by(m, "sevenzip").size(), 1u) << m["encrypted"] << m["warnings"];
  EXPECT_FALSE(warnings(m, "encrypted").empty()) << m["warnings"];
}

TEST_F(ArchiveVariants, ArjStoredEntriesAreExtractedAndChecked) {
  Scratch s("variants-arj");
  const auto m = unpack(s, "stored.arj");
  expect_members(m, "stored.arj");
  ASSERT_EQ(containers(m, "arj").size(), 1u) << m["containers"];
  EXPECT_TRUE(containers(m, "arj")[0]["complete"].get<bool>());
  EXPECT_TRUE(warnings(m, "crc-mismatch").empty()) << m["warnings"];

  Scratch bad("variants-arj-bad-data");
  const auto mb = unpack(bad, "arj-bad-data.arj");
  const auto crc = warnings(mb, "crc-mismatch");
  ASSERT_EQ(crc.size(), 1u) << mb["warnings"];
  EXPECT_EQ(crc[0]["entry"], "one.txt");
}

TEST_F(ArchiveVariants, ArjCompressedEntriesAreDecodedAndChecked) {
  Scratch s("variants-arj-m1");
  const auto m = unpack(s, "compressed.arj");
  expect_members(m, "compressed.arj");
  ASSERT_EQ(containers(m, "arj").size(), 1u) << m["containers"];
  EXPECT_TRUE(containers(m, "arj")[0]["complete"].get<bool>());
  EXPECT_TRUE(m["warnings"].empty()) << m["warnings"];

  // A changed byte in the compressed data: the decoder fails or the CRC-32 does not match.
  Scratch bad("variants-arj-bad-lzh");
  const auto mb = unpack(bad, "arj-bad-lzh.arj");
  bool flagged = false;
  for (const auto& w : mb["warnings"])
    flagged |=
        w["entry"] == "dir/two.txt" && (w["code"] == "crc-mismatch" || w["code"] == "format-error");
  EXPECT_TRUE(flagged) << mb["warnings"];
}

TEST_F(ArchiveVariants, ArjMethod4IsNotSeen) {
  Scratch s("variants-arj-m4");
  const auto m = unpack(s, "fastest.arj");
  ASSERT_EQ(containers(m, "arj").size(), 1u) << m["containers"];
  EXPECT_FALSE(containers(m, "arj")[0]["complete"].get<bool>());
  // arj keeps a file that does not shrink stored (one.txt); the long one is method 4.
  bool warned = false;
  for (const auto& w : warnings(m, "format-error")) warned |= w["entry"] == "dir/two.txt";
  EXPECT_TRUE(warned) << m["warnings"];
  for (const auto& f : m["files"]) EXPECT_NE(f["path"], "dir/two.txt") << f;
  EXPECT_LT(m["coverage"]["share"].get<double>(), 0.5)
      << "data no decoder read must not count as understood";
}

TEST_F(ArchiveVariants, ArjGarbledEntriesAreEncrypted) {
  Scratch s("variants-arj-garbled");
  const auto m = unpack(s, "garbled.arj");
  EXPECT_EQ(encrypted_by(m, "arj").size(), 1u) << m["encrypted"];
  EXPECT_GE(warnings(m, "encrypted").size(), 2u) << m["warnings"];
  EXPECT_EQ(regular_files(m), 0u) << m["files"];
}

TEST_F(ArchiveVariants, ArjBrokenHeaderEndsTheArchiveWithAnError) {
  Scratch s("variants-arj-bad-header");
  const auto m = unpack(s, "arj-bad-header.arj");
  ASSERT_EQ(containers(m, "arj").size(), 1u) << m["containers"];
  EXPECT_FALSE(containers(m, "arj")[0]["complete"].get<bool>());
  EXPECT_EQ(regular_files(m), 0u) << m["files"];
}

}  // namespace probity::testing
