// Issue 16: outputs and a CLI that fit the ecosystem. The CLI's conventions (closest match for
// an unknown subcommand or flag, version, --format printing to stdout, one rule for output
// directories), SBOM and VEX that link up, SARIF with a uri on every result, and the generated
// man page and shell completions.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "cli_support.hpp"

namespace probity::testing {
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string quoted(const fs::path& p) {
  return "'" + p.string() + "'";
}

}  // namespace

TEST(Cli, UnknownSubcommandNamesTheClosest) {
  auto r = run_probity("scna x");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("unknown subcommand 'scna'; did you mean 'scan'?"), std::string::npos)
      << r.output;
  r = run_probity("db stauts");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("did you mean 'status'?"), std::string::npos) << r.output;
  r = run_probity("frobnicate");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("unknown subcommand 'frobnicate'"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("did you mean"), std::string::npos) << "nothing is close";
}

TEST(Cli, UnknownFlagNamesTheClosest) {
  auto r = run_probity("scan x --out y --quite");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("unknown flag '--quite'; did you mean '--quiet'?"), std::string::npos)
      << r.output;
  r = run_probity("--bogus");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("unknown flag '--bogus'"), std::string::npos) << r.output;
}

TEST(Cli, VersionSaysCommitDateAndDatabase) {
  for (const char* how : {"--version", "-V", "version"}) {
    auto r = run_probity(how);
    EXPECT_EQ(r.exit_code, 0) << how;
    EXPECT_EQ(r.output.rfind("probity ", 0), 0u) << r.output;
    EXPECT_NE(r.output.find("commit: "), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("commit: unknown"), std::string::npos) << "built from a git tree";
    EXPECT_NE(r.output.find("built: 20"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("default vulnerability database: sha256:"), std::string::npos)
        << r.output;
  }
}

TEST(Cli, HelpShowsDefaults) {
  auto r = run_probity("scan --help");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* d : {"=table", "UINT=250", "UINT=16", "UINT=500000", "UINT=120"})
    EXPECT_NE(r.output.find(d), std::string::npos) << d << "\n" << r.output;
  r = run_probity("diff --help");
  EXPECT_EQ(r.output.find("kMax"), std::string::npos) << "no internal constant names";
}

class Ecosystem : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(fixture("checks/planted.sqfs"))) << "run make fixtures";
    scratch_.emplace(::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  std::optional<Scratch> scratch_;
};

TEST_F(Ecosystem, FormatJsonPrintsReportJson) {
  const auto out = scratch_->path() / "out";
  const auto printed = scratch_->path() / "stdout.json";
  // stdout to a file, stderr (the summary) to the captured output.
  const auto to_file = [](const std::string& args, const fs::path& file) {
    return run_command("(" + std::string(PROBITY_BINARY) + " " + args + " > " + quoted(file) + ")");
  };
  auto r = to_file(
      "scan " + quoted(fixture("checks/planted.sqfs")) + " --out " + quoted(out) + " --format json",
      printed);
  ASSERT_EQ(r.exit_code, 1) << r.output;  // the planted image fails the policy
  EXPECT_NE(r.output.find("verdict: FAIL"), std::string::npos) << "the summary is on stderr";
  const auto j = read_json(printed);
  ASSERT_FALSE(j.is_discarded()) << "stdout is JSON (the summary went to stderr)";
  EXPECT_EQ(j, read_json(out / "report.json"));
  EXPECT_EQ(slurp(printed), slurp(out / "report.json"));
  // The other formats print their file.
  const auto sarif_out = scratch_->path() / "sarif";
  r = to_file("scan " + quoted(fixture("checks/clean.sqfs")) + " --quiet --out " +
                  quoted(sarif_out) + " --format sarif",
              scratch_->path() / "s.sarif");
  EXPECT_EQ(slurp(scratch_->path() / "s.sarif"), slurp(sarif_out / "findings.sarif"));
  // diff prints diff.json.
  const auto d = scratch_->path() / "diff";
  r = to_file("diff " + quoted(sarif_out / "report.json") + " " + quoted(out / "report.json") +
                  " --out " + quoted(d) + " --format json",
              scratch_->path() / "d.json");
  EXPECT_EQ(slurp(scratch_->path() / "d.json"), slurp(d / "diff.json")) << r.output;
  EXPECT_FALSE(read_json(d / "diff.json").is_discarded());
  // A format a subcommand does not have is a usage error.
  EXPECT_EQ(
      run_probity("diff a b --out " + quoted(scratch_->path() / "x") + " --format spdx").exit_code,
      2);
}

TEST_F(Ecosystem, OneRuleForOutputDirectories) {
  const auto image = quoted(fixture("checks/clean.sqfs"));
  const auto used = scratch_->path() / "used";
  fs::create_directories(used);
  std::ofstream(used / "notes.txt") << "mine";
  const auto file = scratch_->path() / "file";
  std::ofstream(file) << "x";
  const std::map<std::string, std::string> commands = {
      {"unpack", "unpack " + image},
      {"scan", "scan " + image},
      {"equiv", "equiv " + image + " " + image},
  };
  for (const auto& [name, cmd] : commands) {
    auto r = run_probity(cmd + " --quiet --out " + quoted(used));
    EXPECT_EQ(r.exit_code, 2) << name << ": " << r.output;
    EXPECT_NE(r.output.find("not empty"), std::string::npos) << name << ": " << r.output;
    // --force replaces only an earlier probity output, never someone's files.
    r = run_probity(cmd + " --quiet --force --out " + quoted(used));
    EXPECT_EQ(r.exit_code, 2) << name << ": " << r.output;
    EXPECT_TRUE(fs::exists(used / "notes.txt")) << name;
    r = run_probity(cmd + " --quiet --out " + quoted(file));
    EXPECT_EQ(r.exit_code, 2) << name;
    EXPECT_NE(r.output.find("not a directory"), std::string::npos) << name << ": " << r.output;
    // A first run, then a second one refused, then replaced with --force.
    const auto out = scratch_->path() / name;
    r = run_probity(cmd + " --quiet --out " + quoted(out));
    EXPECT_NE(r.exit_code, 2) << name << ": " << r.output;
    EXPECT_EQ(run_probity(cmd + " --quiet --out " + quoted(out)).exit_code, 2) << name;
    r = run_probity(cmd + " --quiet --force --out " + quoted(out));
    EXPECT_NE(r.exit_code, 2) << name << ": " << r.output;
  }
  // diff of two reports follows the same rule (it used to overwrite silently).
  const auto rep = quoted(scratch_->path() / "scan" / "report.json");
  auto r = run_probity("diff " + rep + " " + rep + " --quiet --out " + quoted(used));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(slurp(used / "notes.txt"), "mine");
}

TEST_F(Ecosystem, VexRefsResolveInTheSbomAndSarifHasUris) {
  const auto first = scratch_->path() / "first";
  auto r = run_probity("scan " + quoted(fixture("checks/planted.sqfs")) + " --quiet --out " +
                       quoted(first));
  ASSERT_EQ(r.exit_code, 1) << r.output;
  const auto report = read_json(first / "report.json");
  // Suppress every vulnerability and two findings, as reviewers would.
  std::string toml;
  for (const auto& v : report["vulnerabilities"])
    toml += "[[suppress]]\nid = \"" + v["id"].get<std::string>() +
            "\"\nstate = \"not_affected\"\njustification = \"code_not_reachable\"\n"
            "by = \"Test Lab\"\ndetail = \"not built\"\n\n";
  for (std::size_t i = 0; i < 2 && i < report["findings"].size(); ++i)
    toml += "[[suppress]]\nid = \"" + report["findings"][i]["id"].get<std::string>() +
            "\"\nstate = \"false_positive\"\nby = \"Test Lab\"\ndetail = \"a test\"\n\n";
  const auto file = scratch_->path() / "s.toml";
  std::ofstream(file) << toml;
  const auto out = scratch_->path() / "second";
  r = run_probity("scan " + quoted(fixture("checks/planted.sqfs")) + " --quiet --out " +
                  quoted(out) + " --suppressions " + quoted(file));
  ASSERT_NE(r.exit_code, 2) << r.output;
  const auto sbom = read_json(out / "sbom.cdx.json");
  const auto vex = read_json(out / "vex.cdx.json");
  ASSERT_TRUE(vex.contains("serialNumber"));
  const std::string sbom_uuid = sbom["serialNumber"].get<std::string>().substr(9);
  const std::string vex_uuid = vex["serialNumber"].get<std::string>().substr(9);
  EXPECT_NE(sbom_uuid, vex_uuid);
  std::set<std::string> refs = {sbom["metadata"]["component"]["bom-ref"].get<std::string>()};
  for (const auto& c : sbom["components"]) refs.insert(c["bom-ref"].get<std::string>());
  // Every VEX ref is a bom-link into this SBOM and names one of its bom-refs.
  std::size_t links = 0;
  for (const auto& v : vex["vulnerabilities"]) {
    ASSERT_FALSE(v["affects"].empty()) << v.dump();
    for (const auto& a : v["affects"]) {
      const std::string ref = a["ref"];
      const std::string prefix = "urn:cdx:" + sbom_uuid + "/1#";
      ASSERT_EQ(ref.rfind(prefix, 0), 0u) << ref;
      EXPECT_TRUE(refs.contains(ref.substr(prefix.size()))) << ref;
      ++links;
    }
  }
  EXPECT_GE(links, report["vulnerabilities"].size() + 2);
  // The SBOM names the VEX and carries the reviewers' analysis.
  ASSERT_TRUE(sbom.contains("externalReferences"));
  EXPECT_EQ(sbom["externalReferences"][0]["url"], "urn:cdx:" + vex_uuid + "/1");
  for (const auto& v : sbom.value("vulnerabilities", nlohmann::json::array())) {
    ASSERT_TRUE(v.contains("analysis")) << v.dump();
    EXPECT_EQ(v["analysis"]["state"], "not_affected");
    EXPECT_EQ(v["analysis"]["justification"], "code_not_reachable");
  }
  // Component types and no invented suppliers.
  std::map<std::string, std::string> type_of;
  for (const auto& c : sbom["components"]) {
    type_of[c["name"]] = c["type"];
    EXPECT_FALSE(c.contains("supplier") || c.contains("publisher")) << c.dump();
  }
  if (type_of.contains("busybox")) {
    EXPECT_EQ(type_of["busybox"], "application");
  }
  for (const auto& p : read_json(out / "sbom.spdx.json")["packages"])
    EXPECT_FALSE(p.contains("supplier")) << p.dump();
  // The official validators accept all four documents.
  const std::string v = PROBITY_SOURCE_DIR "/tests/validators/validate.mjs";
  EXPECT_EQ(run_status("node '" + v + "' cdx " + quoted(out / "sbom.cdx.json")), 0);
  EXPECT_EQ(run_status("node '" + v + "' cdx " + quoted(out / "vex.cdx.json")), 0);
  EXPECT_EQ(run_status("node '" + v + "' spdx " + quoted(out / "sbom.spdx.json")), 0);
  EXPECT_EQ(run_status("node '" + v + "' sarif " + quoted(out / "findings.sarif")), 0);
  // Every SARIF result has a uri, and the image root base has one.
  const auto sarif = read_json(out / "findings.sarif");
  const auto& run = sarif["runs"][0];
  EXPECT_EQ(run["originalUriBaseIds"]["IMAGEROOT"]["uri"], "file:///");
  ASSERT_FALSE(run["results"].empty());
  for (const auto& res : run["results"]) {
    const auto& loc = res["locations"][0]["physicalLocation"]["artifactLocation"];
    EXPECT_FALSE(loc.value("uri", "").empty()) << res.dump();
  }
}

TEST(Docs, ManPageAndCompletionsAreBuilt) {
  const fs::path share = PROBITY_SHARE_DIR;
  const auto man = share / "man/man1/probity.1";
  const auto bash = share / "bash-completion/completions/probity";
  const auto zsh = share / "zsh/site-functions/_probity";
  ASSERT_TRUE(fs::exists(man) && fs::exists(bash) && fs::exists(zsh));
  const std::string page = slurp(man);
  EXPECT_NE(page.find(".TH PROBITY 1"), std::string::npos);
  for (const char* s : {"probity scan", "probity db import", "\\-\\-format", "\\-\\-force"})
    EXPECT_NE(page.find(s), std::string::npos) << s;
  if (run_command("command -v man").exit_code == 0) {
    auto r = run_command("MANWIDTH=100 man --warnings -l " + quoted(man) + " >/dev/null");
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_TRUE(r.output.empty()) << "groff warnings: " << r.output;
  }
  // bash: the completion completes subcommands, flags and --format's values.
  auto complete = [&](const std::string& words, int cword) {
    return run_command("bash -c 'source " + bash.string() + "; COMP_WORDS=(" + words +
                       "); COMP_CWORD=" + std::to_string(cword) +
                       "; _probity; echo \"${COMPREPLY[*]}\"'")
        .output;
  };
  EXPECT_EQ(complete("probity sc", 1), "scan\n");
  EXPECT_NE(complete("probity scan --fo", 2).find("--format"), std::string::npos);
  EXPECT_EQ(complete("probity scan --format s", 3), "sarif spdx\n");
  EXPECT_EQ(complete("probity db st", 2), "status\n");
  if (run_command("command -v zsh").exit_code == 0) {
    EXPECT_EQ(run_status("zsh -n " + quoted(zsh)), 0);
  }
}

}  // namespace probity::testing
