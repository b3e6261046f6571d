#include "probity/policy.hpp"

#include <gtest/gtest.h>

namespace probity {
namespace {

Finding finding(std::string id, std::string rule, std::string category, Severity sev) {
  Finding f;
  f.id = std::move(id);
  f.rule = std::move(rule);
  f.category = std::move(category);
  f.severity = sev;
  f.path = "etc/passwd";
  return f;
}

const ClauseResult& clause(const Verdict& v, const std::string& id) {
  for (const auto& c : v.clauses)
    if (c.id == id) return c;
  throw std::runtime_error("no clause " + id);
}

/// A report of an image that was fully seen: a root filesystem, every byte understood, a
/// database with records.
Report seen_report() {
  Report r;
  r.tree.image = {"fw.bin", "fw.bin", std::string(64, 'a'), 4096};
  r.tree.coverage = {4096, 4096};
  r.tree.containers.push_back({1, 0, "", 0, 4096, "squashfs", "", "extracted/1-squashfs", 1, true});
  for (const char* d : {"etc", "bin"}) {
    FileRecord f;
    f.path = d;
    f.container = 1;
    f.type = EntryType::kDir;
    r.tree.files.push_back(f);
  }
  r.tree.regions.push_back({0, "", 0, 4096, "squashfs", true, 7.9});
  r.db_snapshot = "sha256:1";
  r.db_vulnerabilities = 100;
  return r;
}

std::vector<std::string> reason_codes(const Verdict& v) {
  std::vector<std::string> out;
  for (const auto& r : v.reasons) out.push_back(r.code);
  return out;
}

}  // namespace

TEST(Policy, DefaultPolicyLoads) {
  auto p = load_policy(default_policy_path());
  ASSERT_TRUE(p) << p.error().to_string();
  EXPECT_GE(p->clauses.size(), 6u);
  EXPECT_EQ(p->sha256.size(), 64u);
}

TEST(Policy, CleanReportPasses) {
  auto p = load_policy(default_policy_path());
  ASSERT_TRUE(p);
  Report r = seen_report();
  r.findings.push_back(finding("h1", "hardening-no-canary", "hardening", Severity::kLow));
  Verdict v = judge(*p, r);
  EXPECT_TRUE(v.pass) << ::testing::PrintToString(reason_codes(v));
  EXPECT_EQ(v.result, "pass");
  for (const auto& c : v.clauses) EXPECT_TRUE(c.pass) << c.id;
}

TEST(Policy, FindingsAndCvesBreakTheirClauses) {
  auto p = load_policy(default_policy_path());
  ASSERT_TRUE(p);
  Report r;
  r.findings.push_back(finding("a1", "account-extra-uid0", "account", Severity::kHigh));
  r.findings.push_back(finding("a2", "account-service-shell", "account", Severity::kLow));
  r.findings.push_back(finding("n1", "hardening-no-nx", "hardening", Severity::kMedium));
  Vulnerability bad;
  bad.id = "CVE-2016-2842";
  bad.cvss = 9.8;
  Vulnerability mild;
  mild.id = "CVE-2023-0001";
  mild.cvss = 5.3;
  r.vulnerabilities = {bad, mild};
  Verdict v = judge(*p, r);
  EXPECT_FALSE(v.pass);
  EXPECT_EQ(clause(v, "no-extra-root").findings, std::vector<std::string>{"a1"})
      << "a low account finding is below the clause's min_severity";
  EXPECT_EQ(clause(v, "no-critical-cve").vulnerabilities,
            std::vector<std::string>{"CVE-2016-2842"});
  EXPECT_EQ(clause(v, "binaries-nx-pie").findings, std::vector<std::string>{"n1"});
  EXPECT_TRUE(clause(v, "no-private-keys").pass);
}

TEST(Policy, EndOfLifeClause) {
  auto p = parse_policy("[[clause]]\nid='eol'\ntext='no EOL'\nno_eol=true\n", "t");
  ASSERT_TRUE(p);
  Report r = seen_report();
  Component c;
  c.name = "openssl";
  c.version = "1.0.2k";
  c.eol = Eol{"1.0.2", "2019-12-31", true};
  r.components.push_back(c);
  EXPECT_FALSE(judge(*p, r).pass);
  r.components[0].eol->reached = false;
  EXPECT_TRUE(judge(*p, r).pass);
}

TEST(Policy, RejectsMistakes) {
  EXPECT_FALSE(parse_policy("name='x'\n", "t")) << "no clause";
  EXPECT_FALSE(parse_policy("[[clause]]\nid='a'\ntext='t'\ncategories=['acount']\n", "t"))
      << "typo in a category must not silently match nothing";
  EXPECT_FALSE(parse_policy("[[clause]]\nid='a'\ntext='t'\n", "t")) << "checks nothing";
  EXPECT_FALSE(parse_policy(
      "[[clause]]\nid='a'\ntext='t'\nno_eol=true\n[[clause]]\nid='a'\ntext='u'\nno_eol=true\n",
      "t"));
  EXPECT_FALSE(
      parse_policy("[[clause]]\nid='a'\ntext='t'\nmin_severity='severe'\nno_eol=true\n", "t"));
  EXPECT_FALSE(parse_policy("[[clause]]\nid='a'\ntext='t'\nno_eol=true\nmax_cvs=9.0\n", "t"))
      << "a misspelt key must not silently drop a term";
  EXPECT_FALSE(parse_policy("[[clauses]]\nid='a'\ntext='t'\nno_eol=true\n", "t"));
  auto bad = parse_policy("[[clause\n", "bad.toml");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("line 1"), std::string::npos) << bad.error().message;
}

TEST(Suppressions, SuppressedFindingsDoNotCountButStayMarked) {
  auto p = load_policy(default_policy_path());
  ASSERT_TRUE(p);
  Report r = seen_report();
  r.findings.push_back(finding("k1", "private-key-pem", "private-key", Severity::kHigh));
  Vulnerability v;
  v.id = "CVE-2016-2842";
  v.cvss = 9.8;
  r.vulnerabilities.push_back(v);
  auto s = parse_suppressions(R"(
[[suppress]]
id = "k1"
state = "accepted"
by = "J. Evaluator, Test Lab"
detail = "test key for the factory fixture; removed before shipping"

[[suppress]]
id = "CVE-2016-2842"
state = "not_affected"
justification = "code_not_reachable"
by = "J. Evaluator, Test Lab"

[[suppress]]
id = "nothing-matches-this"
state = "false_positive"
by = "x"
detail = "y"
)",
                              "s.toml");
  ASSERT_TRUE(s) << s.error().to_string();
  auto unmatched = apply_suppressions(r, *s);
  EXPECT_EQ(unmatched, std::vector<std::string>{"nothing-matches-this"});
  ASSERT_TRUE(r.findings[0].suppression);
  EXPECT_EQ(r.findings[0].suppression->state, "accepted");
  EXPECT_TRUE(judge(*p, r).pass);
}

TEST(Suppressions, RejectsIncompleteDecisions) {
  EXPECT_FALSE(
      parse_suppressions("[[suppress]]\nid='a'\nstate='ignored'\nby='x'\ndetail='d'\n", "s"));
  EXPECT_FALSE(parse_suppressions("[[suppress]]\nid='a'\nstate='accepted'\ndetail='d'\n", "s"))
      << "who decided is required";
  EXPECT_FALSE(parse_suppressions("[[suppress]]\nid='a'\nstate='not_affected'\nby='x'\n", "s"))
      << "not_affected needs a justification";
  EXPECT_FALSE(
      parse_suppressions("[[supress]]\nid='a'\nstate='accepted'\nby='x'\ndetail='d'\n", "s"))
      << "a misspelt table must not silently suppress nothing";
}

}  // namespace probity

namespace probity {
namespace {

/// One zlib copy at lib/<soname> with one vulnerability per CVE id given.
Report zlib_report(const std::string& version, const std::vector<std::string>& cves) {
  Report r;
  FileRecord f;
  f.path = "lib/arm-linux-gnueabihf/libz.so." + version;
  f.container = 1;
  f.origin = {{"", 0, "squashfs"}};
  r.tree.files.push_back(f);
  Component c;
  c.name = "zlib";
  c.version = version;
  c.evidence.push_back({f.path, 1, 100, "deflate " + version, "signature:zlib"});
  r.components.push_back(c);
  for (const auto& id : cves) {
    Vulnerability v;
    v.id = id;
    v.component = "zlib";
    v.version = version;
    v.cvss = 9.8;
    r.vulnerabilities.push_back(v);
  }
  return r;
}

TEST(ComponentFindings, ACveAnUpgradeDidNotFixKeepsItsId) {
  auto old_findings =
      component_findings(zlib_report("1.2.11", {"CVE-2023-45853", "CVE-2022-37434"}));
  auto new_findings = component_findings(zlib_report("1.2.13", {"CVE-2023-45853"}));
  ASSERT_EQ(old_findings.size(), 2u);
  ASSERT_EQ(new_findings.size(), 1u);
  const Finding& persisting = new_findings[0];
  EXPECT_EQ(persisting.path, "lib/arm-linux-gnueabihf/libz.so.1.2.13");
  int same = 0;
  for (const auto& f : old_findings) same += f.id == persisting.id;
  EXPECT_EQ(same, 1) << "CVE-2023-45853 in 1.2.11 and in 1.2.13 is one problem";
  // Another CVE, or the same CVE in another product, is another id.
  EXPECT_NE(old_findings[0].id, old_findings[1].id);
}

TEST(ComponentFindings, TwoVersionsInOneFileKeepDistinctIds) {
  Report r = zlib_report("1.2.11", {"CVE-2023-45853"});
  Component second = r.components[0];
  second.version = "1.2.12";
  r.components.push_back(second);
  Vulnerability v = r.vulnerabilities[0];
  v.version = "1.2.12";
  r.vulnerabilities.push_back(v);
  auto fs = component_findings(r);
  ASSERT_EQ(fs.size(), 2u);
  EXPECT_NE(fs[0].id, fs[1].id);
}

}  // namespace
TEST(Policy, WhatWasNotSeenIsInconclusiveAndFailWins) {
  auto p = load_policy(default_policy_path());
  ASSERT_TRUE(p);
  auto expect_reason = [&](Report r, const std::string& code) {
    const Verdict v = judge(*p, r);
    EXPECT_FALSE(v.pass) << code;
    EXPECT_EQ(v.result, "inconclusive") << code;
    const auto codes = reason_codes(v);
    EXPECT_NE(std::find(codes.begin(), codes.end(), code), codes.end())
        << code << " not in " << ::testing::PrintToString(codes);
  };
  Report r = seen_report();
  r.tree.files.clear();
  expect_reason(r, "no-root-filesystem");
  r = seen_report();
  r.tree.coverage.understood = 3000;
  expect_reason(r, "coverage");
  r = seen_report();
  r.tree.regions = {{0, "", 0, 1024, "squashfs", true, 7.9}, {0, "", 1024, 3072, "", false, 7.99}};
  r.tree.coverage.understood = 4096;  // (the share alone is not what is tested here)
  Policy lax = *p;
  lax.evidence.max_unexplained_bytes = 1024;
  {
    const Verdict v = judge(lax, r);
    EXPECT_EQ(v.result, "inconclusive");
    EXPECT_EQ(reason_codes(v), std::vector<std::string>{"unexplained-bytes"});
  }
  r = seen_report();
  r.tree.warnings.push_back({"cap-depth", "not looked into", 1, "x", 0});
  expect_reason(r, "cap");
  r = seen_report();
  r.tree.containers[0].complete = false;
  expect_reason(r, "container-failed");
  r = seen_report();
  r.db_vulnerabilities.reset();
  expect_reason(r, "db-missing");
  r = seen_report();
  r.db_vulnerabilities = 0;
  expect_reason(r, "db-empty");
  r = seen_report();
  r.data_missing.push_back("data/credentials/defaults.txt");
  expect_reason(r, "data-missing");
  Policy pinned = *p;
  pinned.evidence.db_snapshot = "sha256:2";
  EXPECT_EQ(reason_codes(judge(pinned, seen_report())), std::vector<std::string>{"db-mismatch"});
  Policy fresh = *p;
  fresh.evidence.max_db_age_days = 30;
  r = seen_report();
  r.db_imported_at = "2001-01-01T00:00:00Z";
  EXPECT_EQ(reason_codes(judge(fresh, r)), std::vector<std::string>{"db-stale"});

  // FAIL wins: a back door in what was read fails, whatever was not read.
  r = seen_report();
  r.tree.files.clear();
  r.findings.push_back(finding("a1", "account-extra-uid0", "account", Severity::kHigh));
  const Verdict v = judge(*p, r);
  EXPECT_EQ(v.result, "fail");
  EXPECT_FALSE(v.reasons.empty()) << "the reasons are still listed";
}

TEST(Policy, EvidenceTermsAreRangeChecked) {
  const std::string clause = "\n[[clause]]\nid='a'\ntext='t'\ncategories=['account']\n";
  EXPECT_TRUE(parse_policy("[evidence]\nmin_coverage = 0.5" + clause, "t"));
  for (const char* bad : {"min_coverage = 1.01", "min_coverage = -0.1", "min_coverage = nan",
                          "max_unexplained_bytes = -5", "max_db_age_days = -1", "colour = 1"})
    EXPECT_FALSE(parse_policy(std::string("[evidence]\n") + bad + clause, "t")) << bad;
}

}  // namespace probity
