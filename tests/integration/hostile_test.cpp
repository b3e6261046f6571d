// Hostile inputs (tests/fixtures/make-hostile.py): every escape variant, bombs, corrupt and
// truncated images. Each run must exit 0, write nothing outside its output directory, and name
// every refusal in the manifest.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "cli_support.hpp"

namespace probity::testing {
namespace fs = std::filesystem;

namespace {

/// Paths an escaping archive would create (the fixtures name these).
const char* const kSentinels[] = {
    "/tmp/probity-escape.txt", "/etc/probity-owned", "/tmp/escape.txt",
    "/tmp/zip-escape.txt",     "/abs-zip.txt",       "/abs-cpio.txt"};

class HostileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* s : kSentinels) fs::remove(s);
    scratch_.emplace(::testing::UnitTest::GetInstance()->current_test_info()->name());
    out_ = scratch_->path() / "a" / "b" / "out";
    fs::create_directories(out_.parent_path());
  }

  /// Unpacks a hostile fixture; asserts exit 0 and containment; returns the manifest.
  nlohmann::json unpack(const std::string& name, const std::string& extra = "") {
    const fs::path in = fixture("hostile/" + name);
    EXPECT_TRUE(fs::exists(in)) << "fixture missing: " << in << " (run make fixtures)";
    RunResult r =
        run_probity("unpack '" + in.string() + "' --out '" + out_.string() + "' --quiet " + extra);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    expect_contained();
    return read_json(out_ / "manifest.json");
  }

  /// Nothing exists in the scratch directory but the output directory's ancestors and
  /// contents, and no sentinel exists anywhere.
  void expect_contained() {
    for (auto it = fs::recursive_directory_iterator(scratch_->path());
         it != fs::recursive_directory_iterator(); ++it) {
      const fs::path p = it->path();
      const auto rel = p.lexically_relative(out_);
      const bool inside = !rel.empty() && *rel.begin() != "..";
      const bool ancestor =
          p == scratch_->path() / "a" || p == scratch_->path() / "a" / "b" || p == out_;
      EXPECT_TRUE(inside || ancestor) << "written outside the output directory: " << p;
    }
    for (const char* s : kSentinels)
      EXPECT_FALSE(fs::exists(fs::symlink_status(s))) << "escape: " << s << " exists";
  }

  static std::set<std::string> warning_entries(const nlohmann::json& m, const std::string& code) {
    std::set<std::string> out;
    for (const auto& w : m["warnings"])
      if (w["code"] == code) out.insert(w["entry"].get<std::string>());
    return out;
  }

  static const nlohmann::json* file(const nlohmann::json& m, const std::string& path) {
    for (const auto& f : m["files"])
      if (f["path"] == path) return &f;
    return nullptr;
  }

  std::optional<Scratch> scratch_;
  fs::path out_;
};

}  // namespace

TEST_F(HostileTest, DotDotEntriesAreRefusedAndNamed) {
  auto m = unpack("tar-dotdot.tar");
  auto refused = warning_entries(m, "path-escape");
  EXPECT_TRUE(refused.contains("../../escape.txt"));
  EXPECT_TRUE(refused.contains("a/../../escape2.txt"));
}

TEST_F(HostileTest, AbsolutePathsLandInsideTheContainerRoot) {
  auto m = unpack("tar-absolute.tar");
  EXPECT_TRUE(warning_entries(m, "absolute-path").contains("/tmp/probity-escape.txt"));
  const auto* f = file(m, "tmp/probity-escape.txt");
  ASSERT_NE(f, nullptr);
  EXPECT_TRUE(fs::exists(out_ / (*f)["extracted"].get<std::string>()));
}

TEST_F(HostileTest, NeverWritesThroughASymlink) {
  auto m = unpack("tar-symlink-write-through.tar");
  EXPECT_TRUE(warning_entries(m, "write-refused").contains("link/probity-escape.txt"));
  EXPECT_TRUE(warning_entries(m, "symlink-escape").contains("up"));
  // The link itself is recorded with its target.
  const auto* link = file(m, "link");
  ASSERT_NE(link, nullptr);
  EXPECT_EQ((*link)["type"], "symlink");
  EXPECT_EQ((*link)["link"], "/tmp");
}

TEST_F(HostileTest, HardLinksOutAreRefused) {
  auto m = unpack("tar-hardlink-out.tar");
  EXPECT_EQ(warning_entries(m, "hardlink-escape").size(), 2u);
}

TEST_F(HostileTest, DeviceNodesAreRecordedNeverCreated) {
  auto m = unpack("tar-devices.tar");
  EXPECT_EQ(warning_entries(m, "device-node").size(), 3u);
  for (const auto& e : fs::recursive_directory_iterator(out_)) {
    EXPECT_FALSE(fs::is_character_file(e.symlink_status())) << e.path();
    EXPECT_FALSE(fs::is_block_file(e.symlink_status())) << e.path();
    EXPECT_FALSE(fs::is_fifo(e.symlink_status())) << e.path();
  }
  const auto* mem = file(m, "dev/mem");
  ASSERT_NE(mem, nullptr);
  EXPECT_EQ((*mem)["type"], "char-device");
}

TEST_F(HostileTest, SetuidIsRecordedNotApplied) {
  auto m = unpack("tar-setuid.tar");
  int setuid_records = 0;
  for (const auto& f : m["files"]) {
    if (f.value("setuid", false) || f.value("setgid", false)) {
      ++setuid_records;
      const auto mode = std::stoi(f["mode"].get<std::string>(), nullptr, 8);
      EXPECT_NE(mode & 06000, 0) << f.dump();
      const auto st = fs::status(out_ / f["extracted"].get<std::string>());
      EXPECT_EQ(st.permissions() & (fs::perms::set_uid | fs::perms::set_gid), fs::perms::none);
    }
  }
  EXPECT_GE(setuid_records, 1);
}

TEST_F(HostileTest, DuplicateNameReplacesTheLinkNotItsTarget) {
  auto m = unpack("tar-duplicate.tar");
  expect_contained();
  EXPECT_FALSE(m["files"].empty());
}

TEST_F(HostileTest, ZipSlipAndCpioDotDot) {
  auto z = unpack("zip-slip.zip");
  EXPECT_TRUE(warning_entries(z, "path-escape").contains("../../zip-escape.txt"));
  fs::remove_all(out_);
  auto c = unpack("cpio-newc-dotdot.cpio");
  EXPECT_TRUE(warning_entries(c, "path-escape").contains("../escape-cpio.txt"));
}

TEST_F(HostileTest, TwoGigabytesOfZerosStopAtTheRatioCap) {
  auto m = unpack("zeros-2g.gz");
  EXPECT_FALSE(warning_entries(m, "cap-ratio").empty()) << m["warnings"].dump();
  // The cap fires soon after the ratio floor: far below the 2 GiB the stream holds.
  EXPECT_LT(m["stats"]["bytes_written"].get<std::uint64_t>(), 128ull << 20);
}

TEST_F(HostileTest, TotalCapIsOverridable) {
  auto m = unpack("zeros-2g.gz", "--max-ratio 1000000 --max-total 16M");
  EXPECT_FALSE(warning_entries(m, "cap-total").empty()) << m["warnings"].dump();
  EXPECT_LE(m["stats"]["bytes_written"].get<std::uint64_t>(), (16ull << 20) + (256u << 10));
}

TEST_F(HostileTest, NestingDepthIsCapped) {
  auto m = unpack("nested-depth.gz", "--max-depth 5");
  EXPECT_FALSE(warning_entries(m, "cap-depth").empty());
  std::uint32_t deepest = 0;
  for (const auto& c : m["containers"])
    deepest = std::max(deepest, c["depth"].get<std::uint32_t>());
  EXPECT_EQ(deepest, 5u);
}

TEST_F(HostileTest, CorruptSquashfsKeepsWhatIsReadable) {
  auto good = unpack("squashfs-good.sqfs");
  ASSERT_TRUE(good["warnings"].empty()) << good["warnings"].dump();
  const auto good_files = good["files"].size();
  fs::remove_all(out_);
  auto bad = unpack("squashfs-corrupt.sqfs");
  EXPECT_FALSE(bad["warnings"].empty());
  EXPECT_EQ(bad["files"].size(), good_files) << "the directory tree is intact; only data is bad";
}

TEST_F(HostileTest, TruncatedAndBadSuperblockSquashfs) {
  auto t = unpack("squashfs-truncated.sqfs");
  EXPECT_FALSE(t["warnings"].empty());
  fs::remove_all(out_);
  auto b = unpack("squashfs-badsuper.sqfs");
  EXPECT_FALSE(b["warnings"].empty());
  // The refused filesystem is never reported complete; the gzip blocks past its bad
  // superblock are still carved as bare zlib streams (one bad region never stops the rest).
  bool squashfs = false, zlib = false;
  for (const auto& c : b["containers"]) {
    if (c["format"] == "squashfs") {
      squashfs = true;
      EXPECT_FALSE(c["complete"].get<bool>());
    }
    zlib |= c["format"] == "zlib";
  }
  EXPECT_TRUE(squashfs);
  EXPECT_TRUE(zlib) << b["containers"].dump();
}

TEST_F(HostileTest, TruncatedImageStillYieldsTheKernel) {
  auto m = unpack("truncated-image.bin");
  bool uimage = false;
  for (const auto& c : m["containers"]) uimage |= c["format"] == "uimage";
  EXPECT_TRUE(uimage);
  EXPECT_FALSE(m["warnings"].empty());
}

TEST_F(HostileTest, EmptyFile) {
  auto m = unpack("empty.bin");
  EXPECT_TRUE(m["files"].empty());
  EXPECT_FALSE(warning_entries(m, "empty-input").empty());
}

TEST_F(HostileTest, GarbageBetweenFormatsIsAccountedFor) {
  auto m = unpack("garbage-between.bin");
  auto expected = read_json(fixture("hostile/garbage-between.offsets.json"));
  for (const char* fmt : {"gzip", "tar", "xz"}) {
    bool found = false;
    for (const auto& r : m["regions"])
      if (r["container"] == 0 && r["format"] == fmt) {
        found = true;
        EXPECT_EQ(r["offset"], expected[fmt]["offset"]) << fmt;
        EXPECT_EQ(r["size"], expected[fmt]["size"]) << fmt;
      }
    EXPECT_TRUE(found) << fmt;
  }
  // Every byte of the image is in exactly one top-level region.
  std::uint64_t pos = 0;
  for (const auto& r : m["regions"]) {
    if (r["container"] != 0) continue;
    EXPECT_EQ(r["offset"].get<std::uint64_t>(), pos);
    pos += r["size"].get<std::uint64_t>();
    if (r["format"].is_null()) {
      EXPECT_GT(r["entropy"].get<double>(), 7.0) << "random filler";
    }
  }
  EXPECT_EQ(pos, expected["size"].get<std::uint64_t>());
}

TEST(CliUsage, ExitCodes) {
  Scratch s("usage");
  EXPECT_EQ(
      run_probity("unpack /nonexistent/image.bin --out " + (s.path() / "o").string()).exit_code, 2);
  EXPECT_EQ(run_probity("unpack").exit_code, 2);
  EXPECT_EQ(run_probity("unpack x --bogus-flag").exit_code, 2);
  EXPECT_EQ(run_probity("--help").exit_code, 0);
  // A non-empty output directory is refused: never mix two runs' files.
  fs::create_directories(s.path() / "full");
  std::ofstream(s.path() / "full" / "x") << "x";
  std::ofstream(s.path() / "img") << "hello";
  EXPECT_EQ(run_probity("unpack " + (s.path() / "img").string() + " --out " +
                        (s.path() / "full").string())
                .exit_code,
            2);
}

}  // namespace probity::testing

namespace probity::testing {

TEST(NonUtf8Names, ManifestStaysValidJson) {
  Scratch s("latin1");
  const auto out = s.path() / "out";
  RunResult r = run_probity("unpack '" + fixture("streams/latin1-name.tar").string() + "' --out '" +
                            out.string() + "' --quiet --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto m = read_json(out / "manifest.json");
  ASSERT_FALSE(m.is_discarded());
  ASSERT_EQ(m["files"].size(), 1u);
  EXPECT_NE(m["files"][0]["path"].get<std::string>().find("\xEF\xBF\xBD"), std::string::npos)
      << "the invalid byte is shown as U+FFFD";
}

}  // namespace probity::testing

namespace probity::testing {

// Found by fuzzing: a 164-byte 7z whose header claims 83 million folders made libarchive
// allocate 8.7 GB. The counts are checked against the header's size first.
TEST(Hostile7z, HugeCountsInATinyHeaderAreRefusedCheaply) {
  Scratch s("7z-counts");
  const std::string in =
      PROBITY_SOURCE_DIR "/fuzz/regressions/sevenzip-encoded-header-unpack-size.7z";
  RunResult r =
      run_command("/usr/bin/time -f 'maxrss_kib=%M' " + std::string(PROBITY_BINARY) + " unpack '" +
                  in + "' --out '" + (s.path() / "o").string() + "' --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto at = r.output.find("maxrss_kib=");
  ASSERT_NE(at, std::string::npos) << r.output;
  EXPECT_LT(std::stoul(r.output.substr(at + 11)), 256u * 1024) << "peak RSS in KiB";
  auto m = read_json(s.path() / "o" / "manifest.json");
  bool refused = false;
  for (const auto& w : m["warnings"])
    refused |= w["message"].get<std::string>().find("folders") != std::string::npos;
  EXPECT_TRUE(refused) << m["warnings"].dump();
}

}  // namespace probity::testing
