// Containment regressions (tests/fixtures/make-hostile.py, "link chains" and "caps that could
// hide content"): a symlink chain that is inside lexically and outside physically, a file
// replaced by a same-named link, a flood of fake magics before a real filesystem, nesting past
// the depth cap, a gzip of 620,000 gzip members and a tar of a million files. Each asserts the
// safe outcome: no read or write outside the tree (a host canary whose contents must never
// appear in any output), the hidden filesystem found or counted as not understood, peak RSS
// under the unpacker's memory cap.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "cli_support.hpp"
#include "probity/limits.hpp"

namespace probity::testing {
namespace fs = std::filesystem;

namespace {

/// The canary files the chain links point at on the host (CANARY_DIR in make-hostile.py).
class Canary {
 public:
  Canary() {
    std::random_device rd;
    token_ = "probity-canary-" + std::to_string(rd()) + std::to_string(rd());
    fs::create_directories(kDir);
    for (const char* leaf : {"secret", "shadow", "os-release"}) {
      std::ofstream(fs::path(kDir) / leaf)
          << (std::string(leaf) == "os-release" ? "ID=canary\nVERSION_ID=" + token_ + "\n"
                                                : "root:" + token_ + ":0:0:::\n");
    }
  }
  ~Canary() { fs::remove_all(kDir); }
  Canary(const Canary&) = delete;
  Canary& operator=(const Canary&) = delete;
  [[nodiscard]] const std::string& token() const { return token_; }

  /// No file below `dir` and no text in `output` holds the canary's token.
  void expect_absent(const fs::path& dir, const std::string& output) const {
    EXPECT_EQ(output.find(token_), std::string::npos) << "the host canary was printed";
    for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator();
         ++it) {
      std::error_code ec;
      if (!it->is_regular_file(ec) || it->is_symlink(ec)) continue;
      std::ifstream in(it->path(), std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      EXPECT_EQ(ss.str().find(token_), std::string::npos)
          << "the host canary's contents are in " << it->path();
    }
  }

  static constexpr const char* kDir = "/tmp/probity-canary";

 private:
  std::string token_;
};

std::set<std::string> warning_entries(const nlohmann::json& m, const std::string& code) {
  std::set<std::string> out;
  for (const auto& w : m["warnings"])
    if (w["code"] == code) out.insert(w["entry"].get<std::string>());
  return out;
}

/// Every symlink on disk under `out` resolves (through the host's kernel) inside `out`.
void expect_links_inside(const fs::path& out) {
  const fs::path root = fs::canonical(out);
  for (auto it = fs::recursive_directory_iterator(out); it != fs::recursive_directory_iterator();
       ++it) {
    if (!it->is_symlink()) continue;
    std::error_code ec;
    const fs::path to = fs::weakly_canonical(it->path(), ec);
    if (ec) continue;  // a loop or an unreadable link leads nowhere
    const auto rel = to.lexically_relative(root);
    EXPECT_TRUE(!rel.empty() && *rel.begin() != "..")
        << it->path() << " leads outside the output directory, to " << to;
  }
}

/// Runs probity under /usr/bin/time; returns the result and sets the peak RSS in KiB.
RunResult run_measured(const std::string& args, std::uint64_t& rss_kib) {
  RunResult r =
      run_command("/usr/bin/time -f 'maxrss_kib=%M' " + std::string(PROBITY_BINARY) + " " + args);
  const auto at = r.output.rfind("maxrss_kib=");
  rss_kib = at == std::string::npos ? ~0ull : std::stoull(r.output.substr(at + 11));
  return r;
}

constexpr std::uint64_t kRssCapKib = 512 * 1024;  // the unpacker's stated cap, docs/architecture.md

class ChainLink : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(ChainLink, IsNeverCreatedNorFollowed) {
  const fs::path in = fixture("hostile/chain-link." + GetParam());
  if (GetParam() == "jffs2" && !fs::exists(in)) GTEST_SKIP() << "no mkfs.jffs2";
  ASSERT_TRUE(fs::exists(in)) << in;
  Canary canary;
  Scratch s("chain-" + GetParam());
  const fs::path out = s.path() / "out";
  RunResult r = run_probity("unpack '" + in.string() + "' --out '" + out.string() + "' --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto m = read_json(out / "manifest.json");
  const auto escapes = warning_entries(m, "symlink-escape");
  EXPECT_TRUE(escapes.contains("esc")) << m["warnings"].dump();
  EXPECT_TRUE(escapes.contains("etc/passwd")) << m["warnings"].dump();
  EXPECT_TRUE(escapes.contains("etc/os-release")) << m["warnings"].dump();
  expect_links_inside(out);
  canary.expect_absent(s.path(), r.output);

  const bool archive = GetParam() == "tar" || GetParam() == "cpio" || GetParam() == "zip";
  if (archive) {
    // etc/issue: a file, then a link that stays inside and so replaces it on disk; the file's
    // record must not point at the link.
    EXPECT_TRUE(warning_entries(m, "duplicate-entry").contains("etc/issue")) << m.dump();
    for (const auto& f : m["files"]) {
      if (f["path"] != "etc/issue" || f["type"] != "file") continue;
      EXPECT_TRUE(!f.contains("extracted") || f["extracted"].is_null() ||
                  f["extracted"].get<std::string>().empty())
          << f.dump();
    }
  }

  // The whole pipeline: nothing of the host reaches the report or the SBOMs.
  const fs::path scan_out = s.path() / "scan";
  RunResult sc =
      run_probity("scan '" + in.string() + "' --out '" + scan_out.string() + "' --quiet");
  EXPECT_NE(sc.exit_code, 2) << sc.output;
  canary.expect_absent(s.path(), sc.output);
  // The archive's own os-release is what identifies the system, never the host's.
  std::ifstream rep(scan_out / "report.json");
  std::stringstream ss;
  ss << rep.rdbuf();
  EXPECT_EQ(ss.str().find("\"canary\""), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Formats, ChainLink,
                         ::testing::Values("tar", "cpio", "zip", "sqfs", "jffs2"));

TEST(Containment, EquivNeverReadsThroughALink) {
  Canary canary;
  Scratch s("chain-equiv");
  const auto a = fixture("hostile/chain-link.tar"), b = fixture("hostile/chain-link.cpio");
  RunResult r = run_probity("equiv '" + a.string() + "' '" + b.string() + "' --out '" +
                            (s.path() / "eq").string() + "' --quiet");
  EXPECT_NE(r.exit_code, 2) << r.output;
  canary.expect_absent(s.path(), r.output);
}

TEST(Containment, AFloodOfFakeMagicsDoesNotHideAFilesystem) {
  Scratch s("flood");
  const fs::path out = s.path() / "out";
  RunResult r = run_probity("unpack '" + fixture("hostile/candidate-flood.bin").string() +
                            "' --out '" + out.string() + "' --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto m = read_json(out / "manifest.json");
  bool squashfs = false;
  for (const auto& c : m["containers"]) squashfs |= c["format"] == "squashfs";
  EXPECT_TRUE(squashfs) << "the squashfs behind 20,001 fake gzip headers was not found";
  bool flood_named = false;
  for (const auto& w : m["warnings"])
    flood_named |= w["code"] == "cap-candidates" &&
                   w["message"].get<std::string>().find("gzip") != std::string::npos;
  EXPECT_TRUE(flood_named) << m["warnings"].dump();
  bool key = false;
  for (const auto& f : m["files"]) key |= f["path"] == "etc/ssl/device.key";
  EXPECT_TRUE(key);
}

TEST(Containment, AStreamThatRunsOnDoesNotHideAFilesystem) {
  Scratch s("runs-on");
  const fs::path out = s.path() / "out";
  RunResult r = run_probity("unpack '" + fixture("hostile/lzma-runs-on.bin").string() +
                            "' --out '" + out.string() + "' --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto m = read_json(out / "manifest.json");
  std::uint64_t lzma_end = 0, squashfs_at = 0;
  bool squashfs = false;
  for (const auto& c : m["containers"])
    if (c["format"] == "squashfs") {
      squashfs = true;
      squashfs_at = c["offset"].get<std::uint64_t>();
    }
  ASSERT_TRUE(squashfs) << "the LZMA stream without an end marker hid the squashfs after it";
  // The failed stream's understood region ends where the squashfs begins.
  for (const auto& reg : m["regions"])
    if (reg["format"] == "lzma" && reg["container"] == 0)
      lzma_end = reg["offset"].get<std::uint64_t>() + reg["size"].get<std::uint64_t>();
  EXPECT_GT(lzma_end, 0u);
  EXPECT_LE(lzma_end, squashfs_at);
  bool key = false;
  for (const auto& f : m["files"]) key |= f["path"] == "etc/ssl/device.key";
  EXPECT_TRUE(key);
}

TEST(Containment, WhatTheDepthCapHidesIsNotUnderstood) {
  Scratch s("nested17");
  const fs::path out = s.path() / "out";
  RunResult r = run_probity("unpack '" + fixture("hostile/nested-17.gz").string() + "' --out '" +
                            out.string() + "' --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto m = read_json(out / "manifest.json");
  EXPECT_FALSE(warning_entries(m, "cap-depth").empty());
  const auto understood = m["coverage"]["understood"].get<std::uint64_t>();
  const auto bytes = m["coverage"]["bytes"].get<std::uint64_t>();
  EXPECT_LT(understood, bytes) << "a blob past the depth cap was counted as understood";

  // With the cap raised, the squashfs is reached and everything is understood.
  fs::remove_all(out);
  r = run_probity("unpack '" + fixture("hostile/nested-17.gz").string() + "' --out '" +
                  out.string() + "' --quiet --max-depth 20");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  m = read_json(out / "manifest.json");
  EXPECT_EQ(m["coverage"]["understood"], m["coverage"]["bytes"]);
  bool squashfs = false;
  for (const auto& c : m["containers"]) squashfs |= c["format"] == "squashfs";
  EXPECT_TRUE(squashfs);
}

TEST(Containment, SixHundredThousandGzipMembersStayBounded) {
  Scratch s("members");
  std::uint64_t rss = 0;
  RunResult r = run_measured("unpack '" + fixture("hostile/gzip-members.gz").string() +
                                 "' --out '" + (s.path() / "out").string() + "' --quiet",
                             rss);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_LT(rss, kRssCapKib) << "peak RSS in KiB";
  auto m = read_json(s.path() / "out" / "manifest.json");
  EXPECT_LE(warning_entries(m, "cap-candidates").size(), 1u + 1u);
  EXPECT_LE(m["warnings"].size(), 20u * kMaxWarningsPerCode);
}

TEST(Containment, AMillionFilesStayBounded) {
  Scratch s("million");
  std::uint64_t rss = 0;
  RunResult r = run_measured("unpack '" + fixture("hostile/million-files.tar.gz").string() +
                                 "' --out '" + (s.path() / "out").string() + "' --quiet",
                             rss);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_LT(rss, kRssCapKib) << "peak RSS in KiB";
  auto m = read_json(s.path() / "out" / "manifest.json");
  std::uint64_t cap_warnings = 0;
  for (const auto& w : m["warnings"]) cap_warnings += w["code"] == "cap-entries";
  EXPECT_GT(cap_warnings, 0u) << "the entry cap was hit and said so";
  EXPECT_LE(cap_warnings, kMaxWarningsPerCode + 1) << "refusals are summarised with a count";
  EXPECT_LE(fs::file_size(s.path() / "out" / "manifest.json"), 256ull << 20);
}

TEST(Containment, ASparseFileOfOnlyHolesKeepsItsSize) {
  Scratch s("sparse");
  RunResult r = run_probity("unpack '" + fixture("hostile/sparse-holes.tar").string() +
                            "' --out '" + (s.path() / "out").string() + "' --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto m = read_json(s.path() / "out" / "manifest.json");
  const nlohmann::json* holes = nullptr;
  for (const auto& f : m["files"])
    if (f["path"] == "holes.bin") holes = &f;
  ASSERT_NE(holes, nullptr) << m.dump();
  EXPECT_EQ((*holes)["size"], 1048576);
  // sha256 of 1 MiB of zeros
  EXPECT_EQ((*holes)["sha256"], "30e14955ebf1352266dc2ff8067e68104607e750abb9d3b36582b8af909fcb58");
}

}  // namespace probity::testing
