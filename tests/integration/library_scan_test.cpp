// The pipeline as a library (issue 14): examples/scan_image embeds probity through
// include/probity/scan.hpp only. It must reach what `probity scan` reaches on the same image:
// the same verdict, components and findings, with the same exit code.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "cli_support.hpp"
#include "probity/scan.hpp"

namespace probity::testing {
namespace fs = std::filesystem;
namespace {

std::set<std::string> lines_with(const std::string& text, const std::string& prefix) {
  std::set<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(prefix, 0) == 0) out.insert(line);
  return out;
}

}  // namespace

TEST(LibraryScan, TheExampleSeesWhatTheCliSees) {
  for (const char* image : {"checks/planted.sqfs", "checks/clean.sqfs", "hostile/nested-17.gz"}) {
    SCOPED_TRACE(image);
    Scratch s(std::string("libscan-") + fs::path(image).stem().string());
    const RunResult lib =
        run_command(std::string(PROBITY_SCAN_EXAMPLE) + " '" + fixture(image).string() + "' '" +
                    (s.path() / "lib").string() + "' 2>&1");
    const RunResult cli = run_probity("scan '" + fixture(image).string() + "' --out '" +
                                      (s.path() / "cli").string() + "' --quiet --threads 2");
    ASSERT_NE(lib.exit_code, 2) << lib.output;
    EXPECT_EQ(lib.exit_code, cli.exit_code) << lib.output << cli.output;
    const auto report = read_json(s.path() / "cli" / "report.json");
    ASSERT_TRUE(report.is_object());
    EXPECT_EQ(lines_with(lib.output, "verdict "),
              std::set<std::string>{"verdict " + report["verdict"]["result"].get<std::string>()});
    EXPECT_EQ(lines_with(lib.output, "findings "),
              std::set<std::string>{"findings " + std::to_string(report["findings"].size())});
    std::set<std::string> components;
    for (const auto& c : report["components"])
      components.insert("component " + c["name"].get<std::string>() + " " +
                        (c.value("version", "").empty() ? "?" : c["version"].get<std::string>()));
    EXPECT_EQ(lines_with(lib.output, "component "), components);
    // write_outputs = false: the library leaves the outputs to its caller.
    EXPECT_FALSE(fs::exists(s.path() / "lib" / "report.json"));
  }
}

TEST(LibraryScan, BadInputIsAnErrorBeforeUnpacking) {
  Scratch s("libscan-bad");
  std::ofstream(s.path() / "bad.toml") << "name = 'p'\n[[clause]]\nid = 'x'\nmax_cvss = nan\n";
  ScanOptions opt;
  opt.image = fixture("checks/clean.sqfs");
  opt.out = s.path() / "out";
  opt.policy = s.path() / "bad.toml";
  std::vector<std::string> stages;
  opt.on_stage = [&](std::string_view st) { stages.emplace_back(st); };
  auto r = scan(opt);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().to_string().find("bad.toml"), std::string::npos) << r.error().to_string();
  EXPECT_TRUE(stages.empty()) << "a bad policy must fail before the image is unpacked";
  EXPECT_FALSE(fs::exists(s.path() / "out"));
}

TEST(LibraryScan, StagesRunInPipelineOrderAndOutputsAreListed) {
  Scratch s("libscan-stages");
  ScanOptions opt;
  opt.image = fixture("checks/planted.sqfs");
  opt.out = s.path() / "out";
  opt.unpack.threads = 2;
  std::vector<std::string> stages;
  opt.on_stage = [&](std::string_view st) { stages.emplace_back(st); };
  auto r = scan(opt);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(stages,
            (std::vector<std::string>{"unpack", "identify", "match", "check", "judge", "write"}));
  for (const char* name : {"manifest.json", "report.json", "report.html", "sbom.cdx.json",
                           "sbom.spdx.json", "findings.sarif"}) {
    EXPECT_TRUE(fs::exists(opt.out / name)) << name;
    EXPECT_NE(std::find(r->written.begin(), r->written.end(), opt.out / name), r->written.end())
        << name;
  }
  EXPECT_EQ(verdict_exit_code(*r->report.verdict), 1) << "the planted image fails the policy";
}

}  // namespace probity::testing
