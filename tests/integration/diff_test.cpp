// probity diff on a release pair made from real Debian armhf packages
// (tests/fixtures/make-diff-pair.sh): the diff names the removed account, the new hidden uid-0
// account, the added boot service, the upgraded components and the renamed file, both from the
// two images and from their two report.json files, and both ways agree.
#include <gtest/gtest.h>

#include <filesystem>

#include "cli_support.hpp"

namespace probity::testing {
namespace {

const std::filesystem::path kPair = PROBITY_FIXTURES_DIR "/diff-pair";

bool any_of(const nlohmann::json& list, const std::function<bool(const nlohmann::json&)>& f) {
  for (const auto& x : list)
    if (f(x)) return true;
  return false;
}

/// Everything the release pair was built to change, checked in one diff.json.
void expect_release_changes(const nlohmann::json& d) {
  ASSERT_EQ(d["schema"], "probity-diff");
  // The ordinary account removed; the hidden uid-0 account added.
  EXPECT_TRUE(any_of(d["accounts"]["removed"], [](const auto& a) {
    return a["name"] == "alice" && a["uid"] == 1000;
  })) << d["accounts"].dump();
  EXPECT_TRUE(any_of(d["accounts"]["added"], [](const auto& a) {
    return a["name"] == "systemd-netd" && a["uid"] == 0 && a["password"] == "hash";
  })) << d["accounts"].dump();
  EXPECT_EQ(d["accounts"]["added"].size(), 1u) << "root, daemon, ... are not added";
  EXPECT_TRUE(any_of(d["findings"]["new"], [](const auto& f) {
    return f["rule"] == "account-extra-uid0" && f["category"] == "account" &&
           f["path"] == "etc/passwd";
  }));
  // The boot service: the start link, the init script's daemon and the inittab line.
  EXPECT_TRUE(any_of(d["services"]["added"], [](const auto& s) {
    return s["how"] == "rc-link" && s["path"] == "etc/rc.d/S50telnet" && s["name"] == "telnet";
  })) << d["services"].dump();
  EXPECT_TRUE(any_of(d["services"]["added"], [](const auto& s) {
    return s["how"] == "inittab:respawn" && s["name"] == "telnetd";
  })) << d["services"].dump();
  EXPECT_TRUE(d["services"]["removed"].empty()) << "dropbear and dnsmasq still start";
  EXPECT_TRUE(any_of(d["findings"]["new"], [](const auto& f) {
    return f["rule"] == "telnetd-enabled" && f["category"] == "remote-access";
  }));
  // Upgraded components, bullseye -> bookworm; the unchanged ones are not listed.
  for (const auto& [name, from, to] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"openssl", "1.1.1w", "3.0."}, {"zlib", "1.2.11", "1.2.13"}, {"dnsmasq", "2.85", "2.9"}})
    EXPECT_TRUE(any_of(d["components"]["changed"],
                       [&](const auto& c) {
                         return c["name"] == name && c["from"] == from &&
                                c["to"].template get<std::string>().starts_with(to) &&
                                c["direction"] == "upgrade";
                       }))
        << name << " " << d["components"].dump();
  EXPECT_FALSE(any_of(d["components"]["changed"], [](const auto& c) {
    return c["name"] == "busybox" || c["name"] == "dropbear" || c["name"] == "lighttpd";
  }));
  // Vulnerabilities of the old openssl/zlib are fixed by the upgrade.
  EXPECT_FALSE(d["vulnerabilities"]["fixed"].empty());
  // The renamed script is one move (same bytes); the edited configuration one move by ssdeep.
  EXPECT_TRUE(any_of(d["files"]["moved"], [](const auto& m) {
    return m["from"] == "usr/lib/vendor/update.sh" &&
           m["to"] == "usr/libexec/vendor/fw-update.sh" && m["match"] == "sha256";
  })) << d["files"]["moved"].dump();
  EXPECT_TRUE(any_of(d["files"]["moved"], [](const auto& m) {
    return m["from"] == "etc/vendor/defaults.conf" && m["to"] == "etc/vendor/factory.conf" &&
           m["match"] == "ssdeep" && m["similarity"].template get<int>() >= 50;
  })) << d["files"]["moved"].dump();
  EXPECT_FALSE(any_of(d["files"]["removed"],
                      [](const auto& f) { return f["path"] == "usr/lib/vendor/update.sh"; }));
  EXPECT_TRUE(any_of(d["files"]["changed"], [](const auto& c) {
    return c["path"] == "etc/passwd" && c["changes"][0] == "content";
  }));
  // The policy clauses the new image breaks and the old one passed.
  EXPECT_TRUE(any_of(d["verdict"]["clause_regressions"], [](const auto& c) {
    return c["id"] == "no-extra-root";
  })) << d["verdict"].dump();
  EXPECT_TRUE(any_of(d["verdict"]["clause_regressions"], [](const auto& c) {
    return c["id"] == "no-unauthenticated-remote-access";
  })) << d["verdict"].dump();
  EXPECT_EQ(d["verdict"]["new"], "fail");
  // Findings that persist keep their ids (busybox, dropbear, lighttpd are the same bytes).
  EXPECT_GT(d["findings"]["persisting"].size(), 10u);
  EXPECT_TRUE(d["warnings"].empty()) << d["warnings"].dump();
}

TEST(DiffCli, ReleasePairFromImagesAndFromReports) {
  if (!std::filesystem::exists(kPair / "old.squashfs"))
    GTEST_SKIP() << "run tests/fixtures/make-all.sh (make-diff-pair.sh) first";
  Scratch s("diff");
  const auto out = s.path() / "images";
  auto r = run_probity("diff '" + (kPair / "old.squashfs").string() + "' '" +
                       (kPair / "new.squashfs").string() + "' --out '" + out.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // The terminal summary names what matters most.
  EXPECT_NE(r.output.find("systemd-netd uid 0"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("ACCOUNT removed alice"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("SERVICE added"), std::string::npos) << r.output;
  auto from_images = read_json(out / "diff.json");
  expect_release_changes(from_images);
  EXPECT_TRUE(std::filesystem::exists(out / "diff.html"));
  EXPECT_TRUE(std::filesystem::exists(out / "old" / "report.json"));

  const auto out2 = s.path() / "reports";
  r = run_probity("diff '" + (out / "old" / "report.json").string() + "' '" +
                  (out / "new" / "report.json").string() + "' --out '" + out2.string() +
                  "' --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(r.output.empty()) << r.output;
  EXPECT_FALSE(std::filesystem::exists(out2 / "old")) << "reports are not rescanned";
  auto from_reports = read_json(out2 / "diff.json");
  expect_release_changes(from_reports);
  // Both ways agree on everything but the paths the images were given as.
  for (auto* j : {&from_images, &from_reports}) {
    (*j)["old"].erase("path");
    (*j)["new"].erase("path");
  }
  EXPECT_EQ(from_images, from_reports);

  // CI gates: the new image adds high findings and breaks two clauses the old one passed.
  const std::string old_report = (out / "old" / "report.json").string();
  const std::string new_report = (out / "new" / "report.json").string();
  r = run_probity("diff '" + old_report + "' '" + new_report + "' --out '" +
                  (s.path() / "gate").string() + "' --quiet --fail-on new-high,clause-regression");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("clause-regression (2 clauses)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("new-high"), std::string::npos) << r.output;
  // The same gates the other way round: going back fixes the clauses and adds nothing high.
  r = run_probity("diff '" + new_report + "' '" + old_report + "' --out '" +
                  (s.path() / "back").string() + "' --quiet --fail-on clause-regression");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(read_json(s.path() / "back" / "diff.json")["verdict"]["clauses_fixed"].size(), 2u);
  // Without gates a diff of two judged images is exit 0, and a gate that is not known is usage.
  r = run_probity("diff '" + old_report + "' '" + new_report + "' --out '" +
                  (s.path() / "bad").string() + "' --quiet --fail-on everything");
  EXPECT_EQ(r.exit_code, 2) << r.output;
}

TEST(DiffCli, BadInputsAreUsageErrors) {
  Scratch s("diff-bad");
  const auto bad = s.path() / "report.json";
  std::ofstream(bad)
      << R"({"schema": "probity-report", "schema_version": 1, "files": [{"path": 7}]})";
  auto r = run_probity("diff '" + bad.string() + "' '" + bad.string() + "' --out '" +
                       (s.path() / "o").string() + "'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("files[0].path: expected a string"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(bad.string()), std::string::npos) << r.output;
  const auto other = s.path() / "sbom.json";
  std::ofstream(other) << R"({"bomFormat": "CycloneDX"})";
  r = run_probity("diff '" + other.string() + "' '" + bad.string() + "' --out '" +
                  (s.path() / "o").string() + "'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("not a probity report"), std::string::npos) << r.output;
  r = run_probity("diff '" + (s.path() / "missing.bin").string() + "' '" + bad.string() +
                  "' --out '" + (s.path() / "o").string() + "'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("not a readable file"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace probity::testing
