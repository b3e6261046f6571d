#include <gtest/gtest.h>

#include "probity/outputs.hpp"

namespace probity {
namespace {

Report sample() {
  Report r;
  r.tree.image = {"/tmp/fw.bin", "fw.bin", std::string(64, 'a'), 1234};
  Finding f;
  f.id = "0123456789abcdef";
  f.rule = "telnetd-shell";
  f.category = "remote-access";
  f.severity = Severity::kCritical;
  f.path = "etc/init.d/rcS";
  f.message = "telnetd -l /bin/sh started at boot";
  f.evidence.excerpt = "telnetd -l /bin/sh";
  f.evidence.offset = 120;
  f.evidence.related = {"etc/inittab"};
  r.findings.push_back(f);
  f.id = "fedcba9876543210";
  f.rule = "hardening-no-pie";
  f.category = "hardening";
  f.severity = Severity::kLow;
  f.path = "usr/sbin/my daemon";
  f.suppression = Suppression{"accepted", "", "Lab", "legacy binary", ""};
  r.findings.push_back(f);
  return r;
}

}  // namespace

TEST(Sarif, OneResultPerFindingWithStableFingerprint) {
  auto s = sarif_json(sample());
  ASSERT_EQ(s["version"], "2.1.0");
  const auto& run = s["runs"][0];
  EXPECT_EQ(run["tool"]["driver"]["rules"].size(), 2u);
  ASSERT_EQ(run["results"].size(), 2u);
  const auto& r0 = run["results"][0];
  EXPECT_EQ(r0["level"], "error");
  EXPECT_EQ(r0["partialFingerprints"]["probityFindingId/v1"], "0123456789abcdef");
  EXPECT_EQ(r0["locations"][0]["physicalLocation"]["region"]["byteOffset"], 120);
  EXPECT_EQ(r0["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "etc/inittab");
  const auto& r1 = run["results"][1];
  EXPECT_EQ(r1["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "usr/sbin/my%20daemon");
  EXPECT_EQ(r1["suppressions"][0]["kind"], "external");
  EXPECT_EQ(run["tool"]["driver"]["rules"][r1["ruleIndex"].get<int>()]["id"], "hardening-no-pie");
}

TEST(Vex, OnlySuppressedItemsWithCycloneDxStates) {
  auto v = vex_json(sample());
  EXPECT_EQ(v["specVersion"], "1.6");
  ASSERT_EQ(v["vulnerabilities"].size(), 1u);
  EXPECT_EQ(v["vulnerabilities"][0]["analysis"]["state"], "exploitable");
  EXPECT_EQ(v["vulnerabilities"][0]["analysis"]["response"][0], "will_not_fix");
}

}  // namespace probity
