// probity source on real Debian source trees (tests/fixtures/make-sources.sh): versions, no high
// back-door findings on the unmodified trees, the planted back door at its line, a hostile tree
// bounded and reported.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "probity/source.hpp"

namespace probity {
namespace {

const std::filesystem::path kSources = std::filesystem::path(PROBITY_FIXTURES_DIR) / "sources";

SourceResult run(const std::string& tree) {
  SourceOptions o;
  o.dir = kSources / tree;
  o.write_outputs = false;
  o.threads = 2;
  auto r = source_scan(o);
  EXPECT_TRUE(r) << (r ? "" : r.error().to_string());
  return r ? std::move(*r) : SourceResult{};
}

#define NEED_FIXTURE(t)                               \
  if (!std::filesystem::is_directory(kSources / (t))) \
  GTEST_SKIP() << "no fixture " << (kSources / (t)) << " (tests/fixtures/make-sources.sh)"

TEST(SourceAudit, RealTreesNameTheirVersionsAndHaveNoHighBackDoorFindings) {
  const std::pair<const char*, const char*> want[] = {{"busybox", "1.35.0"},
                                                      {"dropbear", "2022.83"},
                                                      {"dnsmasq", "2.90"},
                                                      {"lighttpd", "1.4.69"},
                                                      {"openssh", "9.2p1"}};
  for (const auto& [tree, version] : want) {
    NEED_FIXTURE(tree);
    auto r = run(tree);
    bool found = false;
    for (const auto& c : r.report.components)
      if (c.version == version && !c.cpe.empty()) found = true;
    EXPECT_TRUE(found) << tree << " " << version;
    for (const auto& f : r.report.findings)
      if (f.category != "vulnerable-component") {
        EXPECT_LT(f.severity, Severity::kHigh) << tree << ": " << f.path << " " << f.message;
      }
    EXPECT_GT(r.stats.parsed, 0u) << tree;
  }
}

TEST(SourceAudit, PlantedLiteralPasswordIsFoundAtItsFileAndLine) {
  NEED_FIXTURE("planted");
  std::ifstream in(kSources / "planted.line");
  std::string where;
  std::getline(in, where);
  const auto colon = where.rfind(':');
  auto r = run("planted");
  int high = 0;
  for (const auto& f : r.report.findings)
    if (f.rule == "literal-credential-check" && f.severity == Severity::kHigh) {
      ++high;
      EXPECT_EQ(f.path, where.substr(0, colon));
      EXPECT_EQ(r.lines.at(f.id), std::stoul(where.substr(colon + 1)));
    }
  EXPECT_EQ(high, 1);
  EXPECT_EQ(r.report.verdict->result, "fail");
}

TEST(SourceAudit, HostileTreeIsBoundedAndReported) {
  NEED_FIXTURE("hostile");
  auto r = run("hostile");
  std::map<std::string, int> reasons;
  for (const auto& s : r.skipped) ++reasons[s.reason];
  EXPECT_EQ(reasons["symlink-escape"], 2);
  EXPECT_EQ(reasons["cap-file-bytes"], 1);
  EXPECT_EQ(reasons["cap-depth"], 1);
  EXPECT_EQ(r.stats.files, 2u);  // main.c and the non-UTF-8 name
  EXPECT_EQ(r.report.verdict->result, "inconclusive");
}

}  // namespace
}  // namespace probity
