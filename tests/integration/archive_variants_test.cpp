// Archive variants the public format vectors showed probity mishandling (issue 10, item 7;
// tests/fixtures/make-archive-variants.py): a sparse tar member ending in a hole, a cpio crc
// archive with a changed payload, a zip whose "version needed" carries the host byte, an
// old-binary cpio after 128 bytes of garbage, a tar header checksum with leading spaces.
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

}  // namespace probity::testing
