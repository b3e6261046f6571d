// The release flow through the CLI: key generate, attest, log init/append/checkpoint/prove/
// bundle, verify (exit codes and the named check), and --state across log growth.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "probity/hash.hpp"
#include "probity/tlog.hpp"
#include "tlog_proc.hpp"

using namespace tlog_test;

namespace {

class TlogCli : public ::testing::Test {
 protected:
  RunResult run(const std::vector<std::string>& args) { return run_probity(args, tmp.path); }
  std::string p(const std::string& name) const { return (tmp.path / name).string(); }
  void write(const std::string& name, const std::string& data) {
    std::ofstream(tmp.path / name, std::ios::binary) << data;
  }
  TempDir tmp{"tlog-cli"};
};

}  // namespace

TEST_F(TlogCli, ReleaseFlowAndFlashTimeVerify) {
  for (auto [name, prefix] : {std::pair{"release.example/log", "log"},
                              {"alice", "alice"},
                              {"bob", "bob"},
                              {"mallory", "mallory"}}) {
    auto r = run({"key", "generate", "--name", name, "--out", p(prefix)});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, slurp(p(std::string(prefix) + ".pub")));
    EXPECT_EQ(fs::status(p(std::string(prefix) + ".key")).permissions() & fs::perms::others_read,
              fs::perms::none);
  }
  write("fw.bin", std::string(4096, 'F') + "release 1");
  write("fw2.bin", std::string(4096, 'F') + "release 2");
  // A report is bound to its image: attest checks /image/sha256 against the image it signs.
  auto report_for = [&](const std::string& image, const std::string& result) {
    return R"({"image":{"sha256":")" + *probity::sha256_file(p(image)) +
           R"("},"verdict":{"result":")" + result +
           R"(","failed":0},"policy":{"sha256":"ab12","name":"default"},"db_snapshot":"2026-11-01"})";
  };
  write("report.json", report_for("fw.bin", "pass"));
  write("report2.json", report_for("fw2.bin", "pass"));
  write("sbom.cdx.json", R"({"bomFormat":"CycloneDX"})");

  auto r = run({"attest", p("fw.bin"), "--report", p("report.json"), "--key", p("alice.key"),
                "--key", p("bob.key"), "--out", p("fw.env")});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string env_text = slurp(p("fw.env"));
  auto parsed = probity::tlog::parse_envelope(
      {reinterpret_cast<const std::uint8_t*>(env_text.data()), env_text.size()});
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->signatures.size(), 2u);
  const auto st = nlohmann::json::parse(parsed->payload.begin(), parsed->payload.end());
  EXPECT_EQ(st["_type"], "https://in-toto.io/Statement/v1");
  EXPECT_EQ(st["predicateType"], "https://probity.dev/attestation/scan/v1");
  EXPECT_EQ(st["subject"][0]["name"], "fw.bin");
  EXPECT_EQ(st["predicate"]["verdict"]["result"], "pass");
  EXPECT_EQ(st["predicate"]["policy"]["digest"]["sha256"], "ab12");
  EXPECT_EQ(st["predicate"]["db_snapshot"], "2026-11-01");
  EXPECT_EQ(st["predicate"]["sbom"]["digest"]["sha256"].get<std::string>().size(), 64u);
  // Approvers may sign one after another: bob countersigns alice's envelope of fw2.
  ASSERT_EQ(run({"attest", p("fw2.bin"), "--report", p("report2.json"), "--key", p("alice.key"),
                 "--out", p("fw2.alice.env")})
                .code,
            0);
  r = run({"attest", "--countersign", p("fw2.alice.env"), "--key", p("bob.key"), "--out",
           p("fw2.env")});
  ASSERT_EQ(r.code, 0) << r.err;
  {
    const std::string a = slurp(p("fw2.alice.env")), b = slurp(p("fw2.env"));
    auto ea =
        probity::tlog::parse_envelope({reinterpret_cast<const std::uint8_t*>(a.data()), a.size()});
    auto eb =
        probity::tlog::parse_envelope({reinterpret_cast<const std::uint8_t*>(b.data()), b.size()});
    ASSERT_TRUE(ea && eb);
    EXPECT_EQ(ea->payload, eb->payload);
    EXPECT_EQ(eb->signatures.size(), 2u);
  }
  EXPECT_EQ(run({"attest", "--key", p("alice.key"), "--out", p("x.env")}).code, 2);

  ASSERT_EQ(run({"log", "init", "--dir", p("L"), "--key", p("log.key")}).code, 0);
  r = run({"log", "append", "--dir", p("L"), p("fw.env")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(r.out.starts_with("0 ")) << r.out;
  r = run({"log", "bundle", "--dir", p("L"), p("fw.bin"), "--out", p("fw.bundle")});
  ASSERT_EQ(r.code, 0) << r.err;
  r = run({"log", "prove", "--dir", p("L"), "--index", "0"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(r.out.starts_with("c2sp.org/tlog-proof@v1\nindex 0\n")) << r.out;

  const std::vector<std::string> verify_fw{"verify",
                                           p("fw.bin"),
                                           "--bundle",
                                           p("fw.bundle"),
                                           "--log-key",
                                           p("log.pub"),
                                           "--approver-key",
                                           p("alice.pub"),
                                           "--approver-key",
                                           p("bob.pub"),
                                           "--approver-threshold",
                                           "2",
                                           "--state",
                                           p("station.state")};
  r = run(verify_fw);
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("verified:"), std::string::npos);

  // Wrong image: exit 1 and the failing check is named.
  auto wrong = verify_fw;
  wrong[1] = p("fw2.bin");
  r = run(wrong);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("FAIL subject"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("failed check(s): subject"), std::string::npos) << r.err;
  // Wrong approver key: approvers.
  auto badkey = verify_fw;
  badkey[9] = p("mallory.pub");
  r = run(badkey);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("approvers"), std::string::npos) << r.err;
  // Wrong log key: checkpoint-signature.
  auto badlog = verify_fw;
  badlog[5] = p("mallory.pub");
  r = run(badlog);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("checkpoint-signature"), std::string::npos) << r.err;
  // Unreadable key file: usage error.
  auto nokey = verify_fw;
  nokey[5] = p("missing.pub");
  EXPECT_EQ(run(nokey).code, 2);

  // The log grows; the station's state moves forward with the new bundle, then refuses the old.
  ASSERT_EQ(run({"log", "append", "--dir", p("L"), p("fw2.env")}).code, 0);
  ASSERT_EQ(run({"log", "bundle", "--dir", p("L"), p("fw2.bin"), "--out", p("fw2.bundle")}).code,
            0);
  r = run({"verify", p("fw2.bin"), "--bundle", p("fw2.bundle"), "--log-key", p("log.pub"),
           "--approver-key", p("alice.pub"), "--approver-key", p("bob.pub"), "--approver-threshold",
           "2", "--state", p("station.state"), "--json"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["verified"], true);
  r = run(verify_fw);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("FAIL consistency: rolled back"), std::string::npos) << r.out;

  r = run({"log", "prove", "--dir", p("L"), "--from", "1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(r.out.starts_with("consistency 1 2\n")) << r.out;
  EXPECT_EQ(run({"log", "check", "--dir", p("L")}).code, 0);
  // A non-envelope is refused and not stored.
  write("junk.env", "hello");
  EXPECT_EQ(run({"log", "append", "--dir", p("L"), p("junk.env")}).code, 2);
  r = run({"log", "checkpoint", "--dir", p("L")});
  EXPECT_NE(r.out.find("\n2\n"), std::string::npos) << r.out;
}

// Attestations bound to what was judged (issue 11): another image's report is refused; a failed
// or inconclusive verdict is attested only when named, and a station refuses to install it
// unless it names it too.
TEST_F(TlogCli, AttestationsAreBoundToTheImageAndItsVerdict) {
  for (const char* name : {"log", "alice"})
    ASSERT_EQ(run({"key", "generate", "--name", name, "--out", p(name)}).code, 0);
  write("fw.bin", std::string(4096, 'F') + "release 1");
  write("other.bin", std::string(4096, 'F') + "release 2");
  auto report = [&](const std::string& image, const std::string& result) {
    return R"({"image":{"sha256":")" + *probity::sha256_file(p(image)) +
           R"("},"verdict":{"result":")" + result + R"("},"policy":{"sha256":"ab12"}})";
  };
  auto attest = [&](const std::string& image, const std::string& rep,
                    std::vector<std::string> extra = {}) {
    std::vector<std::string> a{"attest", p(image),       "--report", p(rep),
                               "--key",  p("alice.key"), "--out",    p(image + ".env")};
    a.insert(a.end(), extra.begin(), extra.end());
    return run(a);
  };
  // Another image's report.
  write("other.json", report("other.bin", "pass"));
  auto r = attest("fw.bin", "other.json");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("report of another image"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(p("fw.bin.env")));
  // A report without an image digest or a verdict.
  write("bare.json", R"({"verdict":{"result":"pass"}})");
  EXPECT_EQ(attest("fw.bin", "bare.json").code, 2);
  write("noverdict.json",
        R"({"image":{"sha256":")" + *probity::sha256_file(p("fw.bin")) + R"("}})");
  EXPECT_EQ(attest("fw.bin", "noverdict.json").code, 2);
  // A failed verdict: refused unless named, and then the statement says fail.
  write("fail.json", report("fw.bin", "fail"));
  r = attest("fw.bin", "fail.json");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("--allow-verdict fail"), std::string::npos) << r.err;
  EXPECT_EQ(attest("fw.bin", "fail.json", {"--allow-verdict", "inconclusive"}).code, 2);
  r = attest("fw.bin", "fail.json", {"--allow-verdict", "fail"});
  ASSERT_EQ(r.code, 0) << r.err;
  // Logged anyway: the flashing station refuses it unless it accepts a failed image.
  ASSERT_EQ(run({"log", "init", "--dir", p("L"), "--key", p("log.key")}).code, 0);
  ASSERT_EQ(run({"log", "append", "--dir", p("L"), p("fw.bin.env")}).code, 0);
  ASSERT_EQ(run({"log", "bundle", "--dir", p("L"), p("fw.bin"), "--out", p("fw.bundle")}).code, 0);
  const std::vector<std::string> verify{"verify",         p("fw.bin"),   "--bundle",
                                        p("fw.bundle"),   "--log-key",   p("log.pub"),
                                        "--approver-key", p("alice.pub")};
  r = run(verify);
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("FAIL verdict: attested verdict: fail"), std::string::npos) << r.out;
  auto accept = verify;
  accept.insert(accept.end(), {"--accept-verdict", "inconclusive"});
  EXPECT_EQ(run(accept).code, 1);
  accept.insert(accept.end(), {"--accept-verdict", "fail"});
  r = run(accept);
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("accepted by --accept-verdict"), std::string::npos) << r.out;
}
