// Hostile structured input through the CLI (issue 17): report.json nested 100,000 deep or over
// kMaxReportBytes for attest and diff, bundles and envelopes over their caps for verify, and
// policies whose numbers or addresses are out of range for scan. Each is exit 2 with a message
// naming the file and where; a real report from probity scan and the default policy still load.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "cli_support.hpp"
#include "probity/hash.hpp"
#include "probity/limits.hpp"
#include "probity/tlog.hpp"

namespace probity::testing {
namespace fs = std::filesystem;
namespace {

std::string q(const fs::path& p) {
  return "'" + p.string() + "'";
}

void write(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

/// A report.json of `image` that is fine but for a verdict detail nested `depth` deep.
std::string deep_report(std::size_t depth, const fs::path& image) {
  return R"({"schema": "probity-report", "schema_version": 1, "files": [], "image": {"sha256": ")" +
         *sha256_file(image) + R"("}, "verdict": {"result": "pass", "detail": )" +
         std::string(depth, '[') + std::string(depth, ']') + "}}";
}

class BoundedInput : public ::testing::Test {
 protected:
  void SetUp() override {
    scratch_.emplace(::testing::UnitTest::GetInstance()->current_test_info()->name());
    write(p("fw.bin"), std::string(4096, 'F') + "firmware");
    ASSERT_EQ(run_probity("key generate --name alice --out " + q(p("alice"))).exit_code, 0);
  }
  fs::path p(const std::string& name) const { return scratch_->path() / name; }
  RunResult attest(const fs::path& report) {
    return run_probity("attest " + q(p("fw.bin")) + " --report " + q(report) + " --key " +
                       q(p("alice.key")) + " --out " + q(p("fw.env")));
  }
  RunResult diff(const fs::path& a, const fs::path& b) {
    return run_probity("diff " + q(a) + " " + q(b) + " --quiet --out " + q(p("d")));
  }
  RunResult verify(const fs::path& bundle) {
    return run_probity("verify " + q(p("fw.bin")) + " --bundle " + q(bundle) + " --log-key " +
                       q(p("alice.pub")) + " --approver-key " + q(p("alice.pub")));
  }
  /// A bundle whose header is well formed, carrying `envelope` as its envelope.
  fs::path bundle_with(const std::string& name, const std::string& envelope) {
    write(p(name), "probity.dev/bundle/v1\nenvelope " +
                       tlog::base64_encode({reinterpret_cast<const std::uint8_t*>(envelope.data()),
                                            envelope.size()}) +
                       "\n\nc2sp.org/tlog-proof@v1\nindex 0\n\nlog\n1\nAAAA\n");
    return p(name);
  }
  std::optional<Scratch> scratch_;
};

}  // namespace

TEST_F(BoundedInput, ReportNested100000DeepIsRefusedNotACrash) {
  const auto report = p("report.json");
  write(report, deep_report(100'000, p("fw.bin")));
  auto r = attest(report);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(report.string()), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("kMaxJsonDepth"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("/verdict/detail/0/0"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(p("fw.env")));
  r = diff(report, report);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(report.string()), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("kMaxJsonDepth"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("/verdict/detail/0/0"), std::string::npos) << r.output;
  // At the cap itself the report is read (the detail is then 64 levels under the top).
  write(report, deep_report(kMaxJsonDepth - 2, p("fw.bin")));
  r = attest(report);
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST_F(BoundedInput, OversizedReportIsRefusedBeforeItIsRead) {
  // Sparse: kMaxReportBytes + 1 bytes that cost no disk, and would take seconds to read.
  const auto report = p("big.json");
  write(report, "{\"schema\": \"probity-report\", ");
  fs::resize_file(report, kMaxReportBytes + 1);
  auto r = attest(report);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(report.string()), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("larger than the cap"), std::string::npos) << r.output;
  r = diff(report, report);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(report.string()), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("over the cap"), std::string::npos) << r.output;
}

TEST_F(BoundedInput, VerifyRefusesBundlesAndEnvelopesOverTheirCaps) {
  // The deepest envelope a log entry can hold (65,535 bytes).
  const std::size_t depth = (probity::kMaxEntryBytes - 16) / 2;
  auto r = verify(bundle_with(
      "deep.bundle", "{\"payload\": " + std::string(depth, '[') + std::string(depth, ']') + "}"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("deep.bundle"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("kMaxJsonDepth"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("/payload/0/0"), std::string::npos) << r.output;
  r = verify(bundle_with("long.bundle",
                         "{\"payload\": \"" + std::string(probity::kMaxEntryBytes, 'A') + "\"}"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("over the cap of 65535 bytes"), std::string::npos) << r.output;
  const auto big = p("big.bundle");
  write(big, "probity.dev/bundle/v1\n");
  fs::resize_file(big, probity::kMaxBundleBytes + 1);
  r = verify(big);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("larger than the cap"), std::string::npos) << r.output;
  // A readable bundle whose checks fail is still exit 1 (a verification failed): "e30=" is "{}".
  r = verify(
      bundle_with("bad.bundle", R"({"payload": "e30=", "payloadType": "x", "signatures": []})"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
}

TEST_F(BoundedInput, VerifyRefusesUnreadableSignedStatements) {
  auto envelope = [](const std::string& statement) {
    return R"({"payloadType": "application/vnd.in-toto+json", "payload": ")" +
           tlog::base64_encode(
               {reinterpret_cast<const std::uint8_t*>(statement.data()), statement.size()}) +
           R"(", "signatures": []})";
  };
  // A signed statement nested too deep is unreadable input (exit 2, named), not a failed check.
  auto r = verify(bundle_with(
      "deep-statement.bundle",
      envelope("{\"subject\": " + std::string(100, '[') + std::string(100, ']') + "}")));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("deep-statement.bundle"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("signed statement"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("kMaxJsonDepth"), std::string::npos) << r.output;
  // Bytes after a NUL are not silently ignored (nlohmann's lexer ends its input at a NUL).
  r = verify(bundle_with("nul-statement.bundle",
                         envelope(std::string("{}") + '\0' + "{\"subject\": []}")));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("NUL"), std::string::npos) << r.output;
  r = verify(bundle_with("nul-envelope.bundle", envelope("{}") + '\0' + "trailing"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("NUL"), std::string::npos) << r.output;
}

TEST_F(BoundedInput, AttestRefusesAReportWithBytesAfterANul) {
  const auto report = p("nul-report.json");
  write(report, std::string(R"({"schema": "probity-report", "schema_version": 1, "files": []})") +
                    '\0' + "garbage");
  auto r = attest(report);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("NUL"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(p("fw.env")));
}

TEST_F(BoundedInput, PolicyNumbersAndAddressesOutOfRangeAreUsageErrors) {
  const auto policy = p("policy.toml");
  auto scan = [&](const std::string& clause_line, const std::string& residency) {
    write(policy, "name = 'p'\n[residency]\n" + residency +
                      "\n[[clause]]\nid = 'cve'\ntext = 'No critical CVE.'\n" + clause_line + "\n");
    return run_probity("scan " + q(p("fw.bin")) + " --quiet --out " + q(p("out")) + " --policy " +
                       q(policy));
  };
  for (const char* v : {"nan", "inf", "-inf", "11", "-1"}) {
    const auto r = scan(std::string("max_cvss = ") + v, "");
    EXPECT_EQ(r.exit_code, 2) << v << ": " << r.output;
    EXPECT_NE(r.output.find(policy.string()), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(std::string("max_cvss = ") + v), std::string::npos) << r.output;
  }
  for (const char* net : {"10.0.0.0/33", "192.168.1.300/24", "intranet"}) {
    const auto r = scan("max_cvss = 9.0", std::string("allow_networks = ['") + net + "']");
    EXPECT_EQ(r.exit_code, 2) << net << ": " << r.output;
    EXPECT_NE(r.output.find("residency.allow_networks"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(net), std::string::npos) << r.output;
  }
  // A policy header nested a million deep (it crashed toml++) and an oversized policy.
  std::string header = "[a";
  for (int i = 0; i < 1'000'000; ++i) header += ".a";
  write(policy, header + "]\n");
  auto r = run_probity("scan " + q(p("fw.bin")) + " --quiet --out " + q(p("out")) + " --policy " +
                       q(policy));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("kMaxTomlDepth"), std::string::npos) << r.output;
  write(policy, "");
  fs::resize_file(policy, kMaxTomlBytes + 1);
  r = run_probity("scan " + q(p("fw.bin")) + " --quiet --out " + q(p("out")) + " --policy " +
                  q(policy));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("larger than the cap"), std::string::npos) << r.output;
  // In range: the scan runs (exit 0 or 1 is the verdict, not a usage error).
  r = scan("max_cvss = 9.0", "allow_networks = ['192.0.2.0/24', '2001:db8::/32']");
  EXPECT_NE(r.exit_code, 2) << r.output;
}

TEST_F(BoundedInput, RealReportAndDefaultPolicyStillLoad) {
  auto r = run_probity("scan " + q(p("fw.bin")) + " --quiet --out " + q(p("scan")));
  ASSERT_NE(r.exit_code, 2) << r.output;
  const auto report = p("scan") / "report.json";
  ASSERT_TRUE(fs::exists(report));
  // Its verdict is inconclusive (4 KiB of 'F'): attested only when that is named.
  r = attest(report);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--allow-verdict inconclusive"), std::string::npos) << r.output;
  r = run_probity("attest " + q(p("fw.bin")) + " --report " + q(report) + " --key " +
                  q(p("alice.key")) + " --out " + q(p("fw.env")) + " --allow-verdict inconclusive");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = diff(report, report);
  // 4 KiB of 'F' is not a firmware anyone could read: both sides are inconclusive (exit 3), and
  // the diff is still written.
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_TRUE(fs::exists(p("d") / "diff.json"));
}

}  // namespace probity::testing
