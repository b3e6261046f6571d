// probity scan on real firmware-like images made from Debian armhf packages of two releases
// (tests/fixtures/make-release-images.sh): every product shipped is found with its exact
// upstream version, nothing else is reported, report.json has its schema, and both SBOMs pass
// the official schemas (tests/validators/validate.mjs).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json read_json(const fs::path& p) {
  std::ifstream f(p);
  if (!f) throw std::runtime_error("cannot read " + p.string());
  return json::parse(f);
}

int run(const std::string& cmd) {
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/// scan's exit code is the verdict: 0 when report.json says pass, 1 when it says fail.
int verdict_exit(const fs::path& out) {
  std::ifstream in(out / "report.json");
  auto r = nlohmann::json::parse(in, nullptr, false);
  if (r.is_discarded() || !r.contains("verdict") || !r["verdict"].is_object()) return -1;
  const auto& result = r["verdict"]["result"];
  return result == "pass" ? 0 : result == "inconclusive" ? 3 : 1;
}

/// The upstream version of a Debian package version: no epoch, no Debian revision, no repack
/// suffix ("1:1.2.13.dfsg-1" -> "1.2.13", "4.6.0+p1-0+deb11u2" -> "4.6.0", "3.0.20-1~deb12u2"
/// -> "3.0.20", "2.9.14+dfsg-1.3~deb12u6" -> "2.9.14").
std::string upstream(std::string v) {
  if (auto c = v.find(':'); c != std::string::npos) v = v.substr(c + 1);
  if (auto d = v.rfind('-'); d != std::string::npos) v = v.substr(0, d);
  for (const char* cut : {"+", "~", ".dfsg"})
    if (auto p = v.find(cut); p != std::string::npos) v = v.substr(0, p);
  return v;
}

class ReleaseImage : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const fs::path dir = fs::path(PROBITY_FIXTURES_DIR) / "releases";
    image_ = dir / (GetParam() + ".squashfs");
    expected_ = dir / (GetParam() + ".expected.json");
    ASSERT_TRUE(fs::exists(image_) && fs::exists(expected_))
        << "missing " << image_ << ": run `make fixtures` (tests/fixtures/make-all.sh)";
    // One directory per test: ctest runs the tests of this suite in parallel processes.
    std::string name = testing::UnitTest::GetInstance()->current_test_info()->name();
    std::ranges::replace(name, '/', '-');
    out_ = fs::path(testing::TempDir()) / ("probity-scan-" + name);
    fs::remove_all(out_);
    const int rc = run(std::string(PROBITY_BINARY) + " scan " + image_.string() + " --out " +
                       out_.string() + " --quiet");
    ASSERT_TRUE(rc == 0 || rc == 1 || rc == 3) << rc;
    ASSERT_EQ(rc, verdict_exit(out_));
  }
  fs::path image_, expected_, out_;
};

TEST_P(ReleaseImage, EveryProductFoundWithItsExactVersionAndNothingElse) {
  std::map<std::string, std::set<std::string>> want;
  const json expected = read_json(expected_);
  for (const auto& p : expected["packages"])
    want[p["product"].get<std::string>()].insert(upstream(p["version"].get<std::string>()));
  ASSERT_GE(want.size(), 20u);
  const json report = read_json(out_ / "report.json");
  std::map<std::string, std::set<std::string>> got;
  for (const auto& c : report["components"])
    got[c["name"].get<std::string>()].insert(c["version"].get<std::string>());
  for (const auto& [product, versions] : want)
    EXPECT_EQ(got[product], versions) << "product " << product;
  for (const auto& [product, versions] : got)
    EXPECT_TRUE(want.contains(product))
        << "reported but not shipped: " << product << " " << *versions.begin();
}

TEST_P(ReleaseImage, ReportHasItsSchema) {
  const json r = read_json(out_ / "report.json");
  EXPECT_EQ(r["schema"], "probity-report");
  EXPECT_EQ(r["schema_version"], 1);
  EXPECT_EQ(r["image"]["size"].get<std::uint64_t>(), fs::file_size(image_));
  EXPECT_EQ(r["image"]["sha256"].get<std::string>().size(), 64u);
  ASSERT_TRUE(r["files"].is_array());
  EXPECT_GT(r["files"].size(), 100u);
  EXPECT_TRUE(r["vulnerabilities"].is_array());
  EXPECT_TRUE(r.contains("db_snapshot"));
  std::set<std::string> paths;
  for (const auto& f : r["files"]) paths.insert(f["path"].get<std::string>());
  for (const auto& c : r["components"]) {
    EXPECT_TRUE(c["purl"].get<std::string>().starts_with("pkg:")) << c.dump();
    EXPECT_TRUE(c["cpe"].get<std::string>().starts_with("cpe:2.3:")) << c.dump();
    ASSERT_FALSE(c["evidence"].empty()) << c.dump();
    for (const auto& e : c["evidence"]) {
      EXPECT_TRUE(paths.contains(e["path"].get<std::string>())) << e.dump();
      EXPECT_TRUE(e["offset"].is_number_unsigned()) << e.dump();
    }
  }
  EXPECT_TRUE(fs::exists(out_ / "manifest.json"));
}

TEST_P(ReleaseImage, SbomsPassTheOfficialSchemas) {
  const fs::path validators = fs::path(PROBITY_SOURCE_DIR) / "tests" / "validators";
  ASSERT_TRUE(fs::exists(validators / "node_modules" / "@cyclonedx" / "cyclonedx-library"))
      << "run tests/validators/install.sh (make fixtures does)";
  for (const auto& [kind, file] :
       {std::pair{"cdx", "sbom.cdx.json"}, std::pair{"spdx", "sbom.spdx.json"}}) {
    EXPECT_EQ(run("node " + (validators / "validate.mjs").string() + " " + kind + " " +
                  (out_ / file).string() + " >/dev/null"),
              0)
        << kind << " validation failed for " << (out_ / file);
  }
  const json cdx = read_json(out_ / "sbom.cdx.json");
  const json report = read_json(out_ / "report.json");
  EXPECT_EQ(cdx["metadata"]["component"]["type"], "firmware");
  EXPECT_EQ(cdx["metadata"]["component"]["hashes"][0]["content"], report["image"]["sha256"]);
  EXPECT_EQ(cdx["components"].size(), report["components"].size());
  const json spdx = read_json(out_ / "sbom.spdx.json");
  EXPECT_EQ(spdx["packages"].size(), report["components"].size() + 1);
}

INSTANTIATE_TEST_SUITE_P(Debian, ReleaseImage, testing::Values("bullseye", "bookworm"));

TEST(ScanCli, UnreadableInputIsUsageError) {
  const fs::path out = fs::path(testing::TempDir()) / "probity-scan-missing";
  fs::remove_all(out);
  EXPECT_EQ(run(std::string(PROBITY_BINARY) + " scan /nonexistent/image.bin --out " + out.string() +
                " --quiet 2>/dev/null"),
            2);
  EXPECT_EQ(run(std::string(PROBITY_BINARY) + " scan 2>/dev/null"), 2);
}

TEST(ScanCli, SbomSerialsAreUniquePerDocument) {
  // Two scans of one image: same components, different serial numbers and namespaces.
  const fs::path img = fs::path(PROBITY_FIXTURES_DIR) / "releases" / "bookworm.squashfs";
  ASSERT_TRUE(fs::exists(img)) << "run `make fixtures`";
  std::vector<json> cdx, spdx;
  for (int i = 0; i < 2; ++i) {
    const fs::path out =
        fs::path(testing::TempDir()) / ("probity-scan-serial-" + std::to_string(i));
    fs::remove_all(out);
    const int rc = run(std::string(PROBITY_BINARY) + " scan " + img.string() + " --out " +
                       out.string() + " --quiet");
    ASSERT_TRUE(rc == 0 || rc == 1 || rc == 3) << rc;
    ASSERT_EQ(rc, verdict_exit(out));
    cdx.push_back(read_json(out / "sbom.cdx.json"));
    spdx.push_back(read_json(out / "sbom.spdx.json"));
  }
  EXPECT_NE(cdx[0]["serialNumber"], cdx[1]["serialNumber"]);
  EXPECT_NE(spdx[0]["documentNamespace"], spdx[1]["documentNamespace"]);
  EXPECT_EQ(cdx[0]["components"], cdx[1]["components"]);
}

}  // namespace
