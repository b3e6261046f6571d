// probity scan end to end on the planted and clean images (tests/fixtures/make-checks.sh): the
// verdict and exit code, SARIF validated by the official SARIF 2.1.0 schema, report.html in
// headless Chromium, suppressions exported as CycloneDX VEX (validated), stable finding ids.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "cli_support.hpp"

namespace probity::testing {
namespace fs = std::filesystem;

namespace {

const fs::path kValidators = fs::path(PROBITY_SOURCE_DIR) / "tests" / "validators";

int node(const std::string& args) {
  return run_status("node " + args);
}

}  // namespace

class ScanPolicy : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(fixture("checks/planted.sqfs"))) << "run make fixtures";
    scratch_.emplace(::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  RunResult scan(const std::string& image, const fs::path& out, const std::string& extra = "") {
    return run_probity("scan '" + fixture(image).string() + "' --out '" + out.string() +
                       "' --quiet " + extra);
  }
  std::optional<Scratch> scratch_;
};

TEST_F(ScanPolicy, PlantedImageFailsWithValidSarifAndHtml) {
  const auto out = scratch_->path() / "planted";
  RunResult r = scan("checks/planted.sqfs", out);
  ASSERT_EQ(r.exit_code, 1) << "planted back doors must fail the default policy\n" << r.output;
  auto report = read_json(out / "report.json");
  EXPECT_EQ(report["verdict"]["result"], "fail");
  std::set<std::string> failed;
  for (const auto& c : report["verdict"]["clauses"])
    if (c["result"] == "fail") failed.insert(c["id"].get<std::string>());
  EXPECT_TRUE(failed.contains("no-extra-root"));
  EXPECT_TRUE(failed.contains("no-unauthenticated-remote-access"));
  EXPECT_TRUE(failed.contains("no-private-keys"));
  EXPECT_TRUE(failed.contains("no-known-backdoor"));
  // Every finding a failed clause names exists in the report.
  std::set<std::string> ids;
  for (const auto& f : report["findings"]) ids.insert(f["id"].get<std::string>());
  for (const auto& c : report["verdict"]["clauses"])
    for (const auto& id : c["findings"]) EXPECT_TRUE(ids.contains(id.get<std::string>())) << id;
  // SARIF: the official schema, one result per finding.
  EXPECT_EQ(node("'" + (kValidators / "validate.mjs").string() + "' sarif '" +
                 (out / "findings.sarif").string() + "'"),
            0);
  auto sarif = read_json(out / "findings.sarif");
  EXPECT_EQ(sarif["runs"][0]["results"].size(), report["findings"].size());
  // report.html renders the same report in a real browser.
  EXPECT_EQ(
      node("'" PROBITY_SOURCE_DIR "/tests/browser/render.mjs' '" + (out / "report.html").string() +
           "' '" + (scratch_->path() / "r.png").string() + "'"),
      0);
}

TEST_F(ScanPolicy, FindingIdsAreStableAcrossRuns) {
  std::vector<std::set<std::string>> runs;
  for (int i = 0; i < 2; ++i) {
    const auto out = scratch_->path() / ("run" + std::to_string(i));
    scan("checks/planted.sqfs", out);
    std::set<std::string> ids;
    const auto report = read_json(out / "report.json");  // kept alive for the loop
    for (const auto& f : report["findings"]) ids.insert(f["id"].get<std::string>());
    runs.push_back(ids);
  }
  EXPECT_EQ(runs[0], runs[1]);
  EXPECT_GT(runs[0].size(), 10u);
}

TEST_F(ScanPolicy, SuppressionsAreMarkedExportedAsVexAndCanFlipAClause) {
  const auto first = scratch_->path() / "first";
  scan("checks/planted.sqfs", first);
  auto report = read_json(first / "report.json");
  // Suppress every finding that breaks no-private-keys, as a reviewer would.
  std::string toml;
  std::vector<std::string> suppressed;
  for (const auto& c : report["verdict"]["clauses"])
    if (c["id"] == "no-private-keys")
      for (const auto& id : c["findings"]) {
        suppressed.push_back(id.get<std::string>());
        toml += "[[suppress]]\nid = \"" + id.get<std::string>() +
                "\"\nstate = \"accepted\"\nby = \"Test Lab\"\ndetail = \"test key\"\n\n";
      }
  ASSERT_FALSE(suppressed.empty());
  const auto file = scratch_->path() / "suppress.toml";
  std::ofstream(file) << toml;
  const auto second = scratch_->path() / "second";
  scan("checks/planted.sqfs", second, "--suppressions '" + file.string() + "'");
  auto after = read_json(second / "report.json");
  for (const auto& c : after["verdict"]["clauses"])
    if (c["id"] == "no-private-keys") {
      EXPECT_EQ(c["result"], "pass") << c.dump();
    }
  int marked = 0;
  for (const auto& f : after["findings"]) marked += f.contains("suppression");
  EXPECT_EQ(marked, int(suppressed.size())) << "suppressed findings stay in the report, marked";
  ASSERT_TRUE(fs::exists(second / "vex.cdx.json"));
  EXPECT_EQ(node("'" + (kValidators / "validate.mjs").string() + "' cdx '" +
                 (second / "vex.cdx.json").string() + "'"),
            0);
}

TEST_F(ScanPolicy, BadPolicyOrSuppressionsAreUsageErrors) {
  const auto bad = scratch_->path() / "bad.toml";
  std::ofstream(bad) << "[[clause]]\nid='x'\ntext='y'\ncategories=['acount']\n";
  EXPECT_EQ(scan("checks/clean.sqfs", scratch_->path() / "o1", "--policy '" + bad.string() + "'")
                .exit_code,
            2);
  EXPECT_EQ(
      scan("checks/clean.sqfs", scratch_->path() / "o2", "--suppressions '" + bad.string() + "'")
          .exit_code,
      2)
      << "a suppressions file without [[suppress]] entries but with junk is refused";
}

TEST_F(ScanPolicy, CleanImageHasNoBackdoorFindings) {
  const auto out = scratch_->path() / "clean";
  RunResult r = scan("checks/clean.sqfs", out);
  ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1 || r.exit_code == 3) << r.output;
  auto report = read_json(out / "report.json");
  for (const auto& c : report["verdict"]["clauses"])
    if (c["id"] == "no-known-backdoor" || c["id"] == "no-unauthenticated-remote-access" ||
        c["id"] == "no-extra-root") {
      EXPECT_EQ(c["result"], "pass") << c.dump();
    }
}

// The same keys in two images (tests/fixtures/make-checks.sh: sibling.sqfs shares three of
// planted.sqfs's keys) become fleet-wide-key findings once both were scanned with one index; an
// image with no shared key, or the same image scanned again, raises none.
TEST_F(ScanPolicy, FleetWideKeysAreJoinedAcrossImages) {
  const auto index = scratch_->path() / "fleet.db";
  const std::string flag = "--fleet-index '" + index.string() + "'";
  auto fleet = [](const nlohmann::json& report) {
    std::map<std::string, nlohmann::json> out;
    for (const auto& f : report["findings"])
      if (f["rule"] == "fleet-wide-key") out[f["path"].get<std::string>()] = f;
    return out;
  };
  RunResult r = scan("checks/planted.sqfs", scratch_->path() / "a", flag);
  ASSERT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(fleet(read_json(scratch_->path() / "a" / "report.json")).empty());
  r = scan("checks/clean.sqfs", scratch_->path() / "c", flag);
  ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1 || r.exit_code == 3) << r.output;
  EXPECT_TRUE(fleet(read_json(scratch_->path() / "c" / "report.json")).empty());

  r = scan("checks/sibling.sqfs", scratch_->path() / "b", flag);
  ASSERT_EQ(r.exit_code, 1) << r.output;
  auto report = read_json(scratch_->path() / "b" / "report.json");
  auto shared = fleet(report);
  EXPECT_EQ(shared.size(), 3u);
  for (const char* path :
       {"etc/dropbear/id_ed25519", "etc/ssl/private/server.key", "root/.ssh/authorized_keys"}) {
    ASSERT_TRUE(shared.contains(path)) << path;
    const auto& f = shared[path];
    EXPECT_EQ(f["category"],
              std::string(path).ends_with("authorized_keys") ? "remote-access" : "private-key");
    EXPECT_EQ(f["severity"], "critical");
    ASSERT_EQ(f["evidence"]["related"].size(), 1u) << f.dump();
    const std::string related = f["evidence"]["related"][0];
    EXPECT_NE(related.find("planted.sqfs"), std::string::npos) << related;
    EXPECT_NE(related.find(path), std::string::npos) << related;
    EXPECT_FALSE(f["evidence"]["fingerprint"].get<std::string>().empty());
  }
  // The policy clause of their category lists them.
  for (const auto& c : report["verdict"]["clauses"]) {
    if (c["id"] != "no-private-keys" && c["id"] != "no-unauthenticated-remote-access") continue;
    for (const auto& [path, f] : shared) {
      if ((f["category"] == "private-key") != (c["id"] == "no-private-keys")) continue;
      EXPECT_NE(std::find(c["findings"].begin(), c["findings"].end(), f["id"]), c["findings"].end())
          << path;
    }
  }

  // Scanning planted again now finds the sibling; rescanning the sibling adds no second copy of
  // itself and keeps the ids.
  r = scan("checks/planted.sqfs", scratch_->path() / "a2", flag);
  auto again = fleet(read_json(scratch_->path() / "a2" / "report.json"));
  EXPECT_EQ(again.size(), 3u);
  for (const auto& [path, f] : again)
    EXPECT_NE(f["evidence"]["related"][0].get<std::string>().find("sibling.sqfs"),
              std::string::npos);
  r = scan("checks/sibling.sqfs", scratch_->path() / "b2", flag);
  auto twice = fleet(read_json(scratch_->path() / "b2" / "report.json"));
  ASSERT_EQ(twice.size(), 3u);
  for (const auto& [path, f] : twice) {
    EXPECT_EQ(f["evidence"]["related"].size(), 1u) << f.dump();
    EXPECT_EQ(f["id"], shared[path]["id"]);
  }
}

TEST_F(ScanPolicy, BadFleetIndexIsAUsageError) {
  const auto bad = scratch_->path() / "not-an-index";
  std::ofstream(bad) << "this is not SQLite";
  RunResult r =
      scan("checks/clean.sqfs", scratch_->path() / "x", "--fleet-index '" + bad.string() + "'");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("fleet"), std::string::npos) << r.output;
}

}  // namespace probity::testing

namespace probity::testing {

// scan takes the same caps as unpack (a hostile image must be as bounded in a scan).
TEST(ScanCaps, UnpackCapsApplyToScan) {
  Scratch s("scan-caps");
  RunResult r =
      run_probity("scan '" + fixture("hostile/zeros-2g.gz").string() + "' --out '" +
                  (s.path() / "o").string() + "' --quiet --max-ratio 1000000 --max-total 8M");
  EXPECT_EQ(r.exit_code, 3) << "a cap hit leaves the image not fully seen\n" << r.output;
  auto m = read_json(s.path() / "o" / "report.json");
  bool capped = false;
  for (const auto& w : m["warnings"]) capped |= w["code"] == "cap-total";
  EXPECT_TRUE(capped) << m["warnings"].dump();
  EXPECT_EQ(run_probity("scan x --out y --max-total 12Q").exit_code, 2) << "bad size suffix";
}

}  // namespace probity::testing
