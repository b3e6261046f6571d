// Never pass what was not seen (issue 11): images probity could not fully read end INCONCLUSIVE
// (exit 3) with the reason named in report.json; a planted back door still fails (exit 1); a
// clean, fully readable image under a policy whose clauses it meets passes (exit 0).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "cli_support.hpp"
#include "probity/vulndb.hpp"

namespace probity::testing {
namespace fs = std::filesystem;

namespace {

struct Scan {
  int exit_code = -1;
  std::set<std::string> reasons;
  std::string result, output;
};

Scan scan(const fs::path& image, const fs::path& out, const std::string& extra = "") {
  RunResult r =
      run_probity("scan '" + image.string() + "' --out '" + out.string() + "' --quiet " + extra);
  Scan s{r.exit_code, {}, "", r.output};
  auto rep = read_json(out / "report.json");
  if (rep.is_discarded() || !rep.contains("verdict")) return s;
  s.result = rep["verdict"]["result"].get<std::string>();
  for (const auto& x : rep["verdict"]["reasons"]) s.reasons.insert(x["code"].get<std::string>());
  return s;
}

/// A policy of one clause over `categories`: what a clean image can meet.
void write_backdoor_policy(const fs::path& p, std::initializer_list<const char*> categories,
                           const std::string& min_severity = "") {
  std::string cats;
  for (const char* c : categories) cats += std::string(cats.empty() ? "" : ", ") + '"' + c + '"';
  std::ofstream(p) << "name = \"back doors only\"\n[[clause]]\nid = \"no-known-backdoor\"\n"
                   << "text = \"No known back-door code.\"\ncategories = [" << cats << "]\n"
                   << (min_severity.empty() ? "" : "min_severity = \"" + min_severity + "\"\n");
}

void write_random(const fs::path& p, std::size_t n) {
  std::mt19937_64 rng(42);
  std::string b(n, '\0');
  for (auto& c : b) c = char(rng());
  std::ofstream(p, std::ios::binary) << b;
}

}  // namespace

TEST(Inconclusive, RandomBytesLikeEncryptedFirmware) {
  Scratch s("inc-random");
  write_random(s.path() / "enc.bin", 1 << 20);
  auto r = scan(s.path() / "enc.bin", s.path() / "o");
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_EQ(r.result, "inconclusive");
  EXPECT_TRUE(r.reasons.contains("no-root-filesystem")) << r.output;
  EXPECT_TRUE(r.reasons.contains("coverage"));
  EXPECT_TRUE(r.reasons.contains("unexplained-bytes"));
  EXPECT_NE(r.output.find("INCONCLUSIVE"), std::string::npos) << "said first, loudly";
  // The manifest says so too: no root filesystem, the megabyte an encrypted-looking region.
  const auto m = read_json(s.path() / "o" / "manifest.json");
  EXPECT_TRUE(m["root_filesystems"].empty()) << m["root_filesystems"].dump();
  ASSERT_EQ(m["encrypted"].size(), 1u) << m["encrypted"].dump();
  EXPECT_EQ(m["encrypted"][0]["size"], 1 << 20);
  EXPECT_GE(m["encrypted"][0]["entropy"].get<double>(), 7.9);
  EXPECT_TRUE(m["encrypted"][0]["claimed_by"].is_null());
}

TEST(Inconclusive, EmptyFile) {
  Scratch s("inc-empty");
  std::ofstream(s.path() / "empty.bin").flush();
  auto r = scan(s.path() / "empty.bin", s.path() / "o");
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_TRUE(r.reasons.contains("empty-input"));
}

TEST(Inconclusive, TruncatedAndFailedContainers) {
  Scratch s("inc-trunc");
  auto r = scan(fixture("hostile/squashfs-truncated.sqfs"), s.path() / "a");
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_TRUE(r.reasons.contains("container-failed")) << r.output;
  r = scan(fixture("hostile/truncated-image.bin"), s.path() / "b");
  EXPECT_EQ(r.exit_code, 3) << r.output;
}

TEST(Inconclusive, RootFilesystemPastTheTotalCap) {
  // 3 MB of incompressible gzip, then the planted image: with --max-total 1M the gzip's output
  // exhausts the cap and the root filesystem is never extracted.
  Scratch s("inc-maxtotal");
  write_random(s.path() / "pad.bin", 3 << 20);
  ASSERT_EQ(
      run_status("gzip -1 -c '" + (s.path() / "pad.bin").string() + "' > '" +
                 (s.path() / "pad.gz").string() + "' && cat '" + (s.path() / "pad.gz").string() +
                 "' '" + fixture("checks/clean.sqfs").string() + "' > '" +
                 (s.path() / "img.bin").string() + "'"),
      0);
  auto r = scan(s.path() / "img.bin", s.path() / "o", "--max-total 1M");
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_TRUE(r.reasons.contains("cap")) << r.output;
}

TEST(Inconclusive, DepthCapAndFloodsAreNotPasses) {
  Scratch s("inc-depth");
  auto r = scan(fixture("hostile/nested-17.gz"), s.path() / "a");
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_TRUE(r.reasons.contains("cap"));
  EXPECT_TRUE(r.reasons.contains("coverage"));
  // The squashfs behind 20,001 fake gzip headers is found: its private key and empty root
  // password fail the image (fail wins over the flood's inconclusive reasons).
  r = scan(fixture("hostile/candidate-flood.bin"), s.path() / "b");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(r.result, "fail");
}

TEST(Inconclusive, EmptyDatabase) {
  Scratch s("inc-db");
  // A database with the schema and no records: what a failed import leaves behind.
  const fs::path db = s.path() / "empty.db";
  ASSERT_TRUE(VulnDb::open(db, /*read_only=*/false));
  auto r = scan(fixture("checks/clean.sqfs"), s.path() / "o", "--db '" + db.string() + "'");
  EXPECT_TRUE(r.reasons.contains("db-empty")) << r.output;
  EXPECT_NE(r.exit_code, 0);
}

TEST(Inconclusive, AFailedImportLeavesNoDatabaseBehind) {
  Scratch s("inc-import");
  std::ofstream(s.path() / "bad.json") << "{\"vulnerabilities\": [";  // truncated feed
  const fs::path db = s.path() / "new.db";
  RunResult r = run_probity("db import '" + (s.path() / "bad.json").string() + "' --db '" +
                            db.string() + "'");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_FALSE(fs::exists(db)) << "an empty database would make later scans silently blind";
  for (const auto& e : fs::directory_iterator(s.path()))
    EXPECT_EQ(e.path().string().find(".import-"), std::string::npos) << e.path();
}

TEST(Inconclusive, AMissingDataFileIsNotAWeakerPass) {
  Scratch s("inc-data");
  const fs::path data = s.path() / "data";
  fs::copy(PROBITY_SOURCE_DIR "/data", data, fs::copy_options::recursive);
  write_backdoor_policy(s.path() / "p.toml", {"known-backdoor"});
  const std::string args = "scan '" + fixture("checks/clean.sqfs").string() +
                           "' --quiet --policy '" + (s.path() / "p.toml").string() + "' --out ";
  RunResult ok = run_command("PROBITY_DATA_DIR='" + data.string() + "' " + PROBITY_BINARY + " " +
                             args + "'" + (s.path() / "a").string() + "'");
  EXPECT_EQ(ok.exit_code, 0) << "the copy of the data is complete\n" << ok.output;
  fs::remove(data / "credentials" / "default-passwords.txt");
  RunResult r = run_command("PROBITY_DATA_DIR='" + data.string() + "' " + PROBITY_BINARY + " " +
                            args + "'" + (s.path() / "b").string() + "'");
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(r.output.find("data-missing"), std::string::npos) << r.output;
}

TEST(Inconclusive, PlantedBackDoorsStillFail) {
  Scratch s("inc-planted");
  auto r = scan(fixture("checks/planted.sqfs"), s.path() / "o");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(r.result, "fail");
}

TEST(Inconclusive, ACleanReadableImagePassesAPolicyItMeets) {
  Scratch s("inc-pass");
  write_backdoor_policy(s.path() / "p.toml", {"known-backdoor", "remote-access", "account"},
                        "high");
  auto r = scan(fixture("checks/clean.sqfs"), s.path() / "o",
                "--policy '" + (s.path() / "p.toml").string() + "'");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.result, "pass");
  EXPECT_TRUE(r.reasons.empty());
  const auto m = read_json(s.path() / "o" / "manifest.json");
  ASSERT_EQ(m["root_filesystems"].size(), 1u) << m["root_filesystems"].dump();
  EXPECT_EQ(m["root_filesystems"][0]["format"], "squashfs");
  EXPECT_TRUE(m["encrypted"].empty()) << m["encrypted"].dump();
}

TEST(Inconclusive, FailOnIsACiGate) {
  Scratch s("inc-failon");
  write_backdoor_policy(s.path() / "p.toml", {"known-backdoor"});
  const std::string policy = "--policy '" + (s.path() / "p.toml").string() + "'";
  auto r = scan(fixture("checks/clean.sqfs"), s.path() / "a", policy);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = scan(fixture("checks/clean.sqfs"), s.path() / "b", policy + " --fail-on info");
  EXPECT_EQ(r.exit_code, 1) << "a finding or CVE at or above info exists\n" << r.output;
  EXPECT_EQ(r.result, "fail");
  EXPECT_EQ(
      run_probity("scan x --out '" + (s.path() / "c").string() + "' --fail-on severe").exit_code,
      2);
}

TEST(Inconclusive, EvidenceTermsAreValidated) {
  Scratch s("inc-bad");
  for (const char* bad :
       {"min_coverage = 1.5", "min_coverage = nan", "max_unexplained_bytes = -1", "bogus = 1"}) {
    std::ofstream(s.path() / "p.toml", std::ios::trunc)
        << "name = \"x\"\n[evidence]\n"
        << bad << "\n[[clause]]\nid = \"a\"\ntext = \"a\"\ncategories = [\"account\"]\n";
    RunResult r = run_probity("scan '" + fixture("checks/clean.sqfs").string() + "' --out '" +
                              (s.path() / "o").string() + "' --quiet --policy '" +
                              (s.path() / "p.toml").string() + "'");
    EXPECT_EQ(r.exit_code, 2) << bad << "\n" << r.output;
    fs::remove_all(s.path() / "o");
  }
}

TEST(Inconclusive, AGeoipFileThatIsNotAMaxMindDbIsRefused) {
  Scratch s("inc-geoip");
  std::ofstream(s.path() / "fake.mmdb") << "not a MaxMind database\n";
  auto r = scan(fixture("checks/clean.sqfs"), s.path() / "o",
                "--geoip '" + (s.path() / "fake.mmdb").string() + "'");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("fake.mmdb"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("MaxMind"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(s.path() / "o")) << "refused before unpacking";
  // The fixture's real MaxMind-format database is accepted.
  r = scan(fixture("checks/clean.sqfs"), s.path() / "o2",
           "--geoip '" + fixture("checks/geo.mmdb").string() + "'");
  EXPECT_NE(r.exit_code, 2) << r.output;
}

// Coverage inside an extracted blob (a decompressed kernel holding a filesystem): its plain gaps
// are bytes of an extracted file that every check reads, so they count; a dense gap (encrypted
// or compressed by nothing probity decodes) does not, and is listed with what claimed it.
TEST(Inconclusive, PlainGapsInsideAStreamCountDenseOnesDoNot) {
  Scratch s("inc-gaps");
  std::ifstream in(fixture("checks/clean.sqfs"), std::ios::binary);
  const std::string sq((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string code;  // text-like bytes: low entropy, no format
  for (int i = 0; code.size() < (256u << 10); ++i) code += "mov r" + std::to_string(i % 13) + "\n";
  std::mt19937_64 rng(7);
  std::string dense(256u << 10, '\0');
  for (auto& c : dense) c = char(rng());
  std::ofstream(s.path() / "plain.bin", std::ios::binary) << code << sq << code;
  std::ofstream(s.path() / "dense.bin", std::ios::binary) << code << sq << dense;
  for (const char* n : {"plain", "dense"})
    ASSERT_EQ(run_status("gzip -9 -n '" + (s.path() / (std::string(n) + ".bin")).string() + "'"),
              0);
  for (const char* n : {"plain", "dense"})
    ASSERT_EQ(run_probity("unpack '" + (s.path() / (std::string(n) + ".bin.gz")).string() +
                          "' --quiet --out '" + (s.path() / n).string() + "'")
                  .exit_code,
              0);
  const auto plain = read_json(s.path() / "plain" / "manifest.json");
  EXPECT_EQ(plain["coverage"]["understood"], plain["coverage"]["bytes"]) << plain["regions"].dump();
  EXPECT_TRUE(plain["encrypted"].empty());
  const auto dense_m = read_json(s.path() / "dense" / "manifest.json");
  EXPECT_LT(dense_m["coverage"]["understood"].get<std::uint64_t>(),
            dense_m["coverage"]["bytes"].get<std::uint64_t>())
      << dense_m["regions"].dump();
  ASSERT_EQ(dense_m["encrypted"].size(), 1u) << dense_m["encrypted"].dump();
  EXPECT_EQ(dense_m["encrypted"][0]["claimed_by"], "gzip");
  EXPECT_EQ(dense_m["encrypted"][0]["size"], 256u << 10);
}

}  // namespace probity::testing
