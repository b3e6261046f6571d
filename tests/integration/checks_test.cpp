// Golden tests of the checks stage on the fixtures of tests/fixtures/make-checks.sh: a rootfs of
// real Debian armhf binaries with planted indicators of every category (all must be found, by
// rule and path) and the same rootfs without plants (no high-severity back-door finding).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include "probity/checks.hpp"
#include "probity/unpack.hpp"

namespace probity {
namespace fs = std::filesystem;
namespace {

const fs::path kDir = fs::path(PROBITY_FIXTURES_DIR) / "checks";

struct Scan {
  ArtifactTree tree;
  std::vector<Finding> findings;
  HardeningStats stats;
};

Scan scan(const std::string& image, const CheckOptions& opt = {}) {
  const fs::path out =
      fs::temp_directory_path() / ("probity-checks-" + std::to_string(getpid()) + "-" + image);
  fs::remove_all(out);
  Scan s;
  auto t = unpack(kDir / image, out, UnpackOptions{});
  EXPECT_TRUE(t) << (t ? "" : t.error().to_string());
  if (!t) return s;
  s.tree = std::move(*t);
  s.findings = run_checks(s.tree, out, opt, &s.stats);
  fs::remove_all(out);
  if (std::getenv("PROBITY_DUMP_FINDINGS"))
    for (const auto& f : s.findings)
      std::cerr << image << " " << to_string(f.severity) << " " << f.rule << " " << f.path << " ["
                << f.id << "] " << f.message << " | " << f.evidence.excerpt << "\n";
  return s;
}

bool backdoor_category(const std::string& c) {
  return c == "account" || c == "credentials" || c == "remote-access" || c == "private-key" ||
         c == "known-backdoor";
}

TEST(ChecksGolden, EveryPlantedIndicatorIsFound) {
  std::ifstream in(kDir / "planted.txt");
  ASSERT_TRUE(in) << "run tests/fixtures/make-checks.sh " << kDir;
  Scan s = scan("planted.sqfs");
  ASSERT_FALSE(s.findings.empty());
  std::set<std::pair<std::string, std::string>> have;
  for (const auto& f : s.findings) have.emplace(f.rule, f.path);
  std::string rule, path;
  int n = 0;
  while (in >> rule >> path) {
    in.ignore(1 << 20, '\n');
    ++n;
    EXPECT_TRUE(have.contains({rule, path}))
        << "planted " << rule << " in " << path << " not found";
  }
  EXPECT_GT(n, 30);
  // Ids are unique and well formed.
  std::set<std::string> ids;
  for (const auto& f : s.findings) {
    EXPECT_TRUE(ids.insert(f.id).second) << f.id << " " << f.rule << " " << f.path;
    EXPECT_EQ(f.id.size(), 16u);
  }
}

TEST(ChecksGolden, CorrelationMakesOneCriticalBackdoor) {
  Scan s = scan("planted.sqfs");
  bool root = false;
  for (const auto& f : s.findings) {
    if (f.rule == "default-password")
      ADD_FAILURE() << "uncorrelated default password: " << f.message;
    if (f.rule == "backdoor-login" && f.evidence.excerpt.starts_with("root:")) {
      root = true;
      EXPECT_EQ(f.severity, Severity::kCritical);
      EXPECT_NE(f.message.find("xc3511"), std::string::npos) << f.message;
      EXPECT_NE(f.message.find("telnetd"), std::string::npos) << f.message;
      std::set<std::string> rel(f.evidence.related.begin(), f.evidence.related.end());
      EXPECT_TRUE(rel.contains("etc/inetd.conf")) << f.message;
    }
  }
  EXPECT_TRUE(root);
}

TEST(ChecksGolden, CleanDebianImageHasNoHighBackdoorFinding) {
  Scan s = scan("clean.sqfs");
  for (const auto& f : s.findings)
    if (backdoor_category(f.category)) {
      EXPECT_LT(f.severity, Severity::kHigh)
          << f.rule << " " << f.path << ": " << f.message << " | " << f.evidence.excerpt;
    }
  EXPECT_GT(s.stats.binaries, 20u);
  EXPECT_GT(s.stats.nx, 0u);
}

TEST(ChecksGolden, IdsAreStableAcrossImagesAndRuns) {
  Scan a = scan("clean.sqfs");
  Scan b = scan("planted.sqfs");
  Scan a2 = scan("clean.sqfs");
  ASSERT_EQ(a.findings.size(), a2.findings.size());
  for (std::size_t i = 0; i < a.findings.size(); ++i)
    EXPECT_EQ(a.findings[i].id, a2.findings[i].id);
  // A finding about an unchanged Debian binary keeps its id in the other image.
  std::map<std::pair<std::string, std::string>, std::string> ids;
  for (const auto& f : b.findings) ids[{f.rule, f.path}] = f.id;
  int shared = 0;
  for (const auto& f : a.findings)
    if (f.category == "hardening" && !f.path.empty()) {
      auto it = ids.find({f.rule, f.path});
      ASSERT_NE(it, ids.end()) << f.rule << " " << f.path;
      EXPECT_EQ(it->second, f.id);
      ++shared;
    }
  EXPECT_GT(shared, 5);
}

TEST(ChecksGolden, AllowlistFlagsEndpointsOutsideIt) {
  CheckOptions opt;
  opt.allowed_domains = {"debian.org", "vendor-fw.com"};
  opt.allowed_networks = {"45.33.32.0/24"};
  Scan s = scan("planted.sqfs", opt);
  bool cn = false, ip_flagged = false;
  for (const auto& f : s.findings) {
    if (f.path != "etc/config/cloud.conf") continue;
    if (f.rule == "endpoint-not-allowlisted" &&
        f.message.find("vendorcloud.cn") != std::string::npos)
      cn = true;
    if (f.rule == "endpoint-not-allowlisted" && f.message.find("45.33.32.156") != std::string::npos)
      ip_flagged = true;
  }
  EXPECT_TRUE(cn);
  EXPECT_FALSE(ip_flagged);
}

TEST(ChecksGolden, GeoIpCountriesJudgeIpLiterals) {
  CheckOptions opt;
  opt.geoip_db = kDir / "geo.mmdb";
  opt.allowed_countries = {"US"};
  Scan s = scan("planted.sqfs", opt);
  bool us_flagged = false, cn_flagged = false;
  for (const auto& f : s.findings) {
    EXPECT_NE(f.rule, "geoip-error") << f.message;
    if (f.rule != "endpoint-not-allowlisted") continue;
    if (f.message.find("45.33.32.156") != std::string::npos) us_flagged = true;
    if (f.message.find("1.2.3.4 (public, CN)") != std::string::npos) cn_flagged = true;
  }
  EXPECT_FALSE(us_flagged);
  EXPECT_TRUE(cn_flagged);
}

TEST(ChecksGolden, MissingGeoIpDatabaseIsReported) {
  CheckOptions opt;
  opt.geoip_db = kDir / "no-such.mmdb";
  opt.allowed_countries = {"US"};
  Scan s = scan("clean.sqfs", opt);
  bool reported = false;
  for (const auto& f : s.findings) reported = reported || f.rule == "geoip-error";
  EXPECT_TRUE(reported);
}

}  // namespace
}  // namespace probity
