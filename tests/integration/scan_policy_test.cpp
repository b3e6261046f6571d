// probity scan end to end on the planted and clean images (tests/fixtures/make-checks.sh): the
// verdict and exit code, SARIF validated by the official SARIF 2.1.0 schema, report.html in
// headless Chromium, suppressions exported as CycloneDX VEX (validated), stable finding ids.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
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
  ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.output;
  auto report = read_json(out / "report.json");
  for (const auto& c : report["verdict"]["clauses"])
    if (c["id"] == "no-known-backdoor" || c["id"] == "no-unauthenticated-remote-access" ||
        c["id"] == "no-extra-root") {
      EXPECT_EQ(c["result"], "pass") << c.dump();
    }
}

}  // namespace probity::testing

namespace probity::testing {

// scan takes the same caps as unpack (a hostile image must be as bounded in a scan).
TEST(ScanCaps, UnpackCapsApplyToScan) {
  Scratch s("scan-caps");
  RunResult r =
      run_probity("scan '" + fixture("hostile/zeros-2g.gz").string() + "' --out '" +
                  (s.path() / "o").string() + "' --quiet --max-ratio 1000000 --max-total 8M");
  ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.output;
  auto m = read_json(s.path() / "o" / "report.json");
  bool capped = false;
  for (const auto& w : m["warnings"]) capped |= w["code"] == "cap-total";
  EXPECT_TRUE(capped) << m["warnings"].dump();
  EXPECT_EQ(run_probity("scan x --out y --max-total 12Q").exit_code, 2) << "bad size suffix";
}

}  // namespace probity::testing
