// diff and equiv as library calls (issue 14 item 1): probity::diff and probity::equiv reach what
// `probity diff` and `probity equiv` reach on the same inputs, with the same exit codes, and
// refuse unusable input before doing any work.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli_support.hpp"
#include "probity/diff.hpp"
#include "probity/equiv.hpp"

namespace probity::testing {
namespace fs = std::filesystem;

TEST(LibraryDiff, ImagesGiveTheCliDelta) {
  const fs::path a = fixture("diff-pair/old.squashfs"), b = fixture("diff-pair/new.squashfs");
  if (!fs::exists(a)) GTEST_SKIP() << "run tests/fixtures/make-diff-pair.sh";
  Scratch s("libdiff");
  DiffRunOptions opt;
  opt.old_input = a;
  opt.new_input = b;
  opt.out = s.path() / "lib";
  opt.scan.unpack.threads = 2;
  opt.fail_on = {"new-high", "clause-regression"};
  std::vector<std::string> scanned;
  opt.on_scan = [&](std::string_view side, const fs::path&) { scanned.emplace_back(side); };
  auto run = probity::diff(opt);
  ASSERT_TRUE(run) << run.error().to_string();
  EXPECT_EQ(scanned, (std::vector<std::string>{"old", "new"}));
  EXPECT_TRUE(fs::exists(s.path() / "lib" / "old" / "report.json"));
  EXPECT_EQ(run->written, (std::vector<fs::path>{opt.out / "diff.json", opt.out / "diff.html"}));

  const RunResult cli = run_probity("diff '" + a.string() + "' '" + b.string() + "' --out '" +
                                    (s.path() / "cli").string() +
                                    "' --quiet --threads 2 --fail-on new-high,clause-regression");
  ASSERT_NE(cli.exit_code, 2) << cli.output;
  EXPECT_EQ(diff_exit_code(*run), cli.exit_code) << cli.output;
  const auto lib_json = read_json(s.path() / "lib" / "diff.json");
  const auto cli_json = read_json(s.path() / "cli" / "diff.json");
  for (const char* section : {"summary", "verdict", "components", "vulnerabilities", "accounts"})
    EXPECT_EQ(lib_json[section], cli_json[section]) << section;
  EXPECT_EQ(lib_json, run->json);
  // The update adds findings: the library names the tripped gate as the CLI does.
  if (cli.exit_code == 1) {
    ASSERT_FALSE(run->tripped.empty());
    EXPECT_NE(cli.output.find(run->tripped.front()), std::string::npos) << cli.output;
  }
}

TEST(LibraryDiff, AnUnreadableSideIsAnErrorBeforeAnyScan) {
  Scratch s("libdiff-bad");
  DiffRunOptions opt;
  opt.old_input = s.path() / "absent.bin";
  opt.new_input = fixture("checks/clean.sqfs");
  opt.out = s.path() / "out";
  bool scanned = false;
  opt.on_scan = [&](std::string_view, const fs::path&) { scanned = true; };
  auto run = probity::diff(opt);
  ASSERT_FALSE(run);
  EXPECT_NE(run.error().to_string().find("not a readable file"), std::string::npos)
      << run.error().to_string();
  EXPECT_FALSE(scanned);
}

TEST(LibraryEquiv, TheVerdictAndExitCodeOfTheCli) {
  const fs::path dir = fixture("equiv");
  if (!fs::exists(dir / "b.bin")) GTEST_SKIP() << "run tests/fixtures/make-equiv-pair.sh";
  // Equivalent (a rebuild), different (one changed byte), inconclusive (a cap hid content).
  struct Case {
    const char* shipped;
    const char* rebuilt;
    std::uint64_t max_entries;
    const char* cli_flags;
  };
  for (const Case& c :
       {Case{"a.bin", "b.bin", kMaxEntries, ""}, Case{"a.bin", "c.bin", kMaxEntries, ""},
        Case{"a.bin", "b.bin", 20, "--max-files 20"}}) {
    SCOPED_TRACE(std::string(c.shipped) + " " + c.rebuilt + " " + c.cli_flags);
    Scratch s("libequiv");
    EquivRunOptions opt;
    opt.shipped = dir / c.shipped;
    opt.rebuilt = dir / c.rebuilt;
    opt.out = s.path() / "lib";
    opt.unpack.threads = 2;
    opt.unpack.limits.max_entries = c.max_entries;
    opt.slsa = s.path() / "lib" / "vsa.json";
    auto run = probity::equiv(opt);
    ASSERT_TRUE(run) << run.error().to_string();
    EXPECT_TRUE(fs::exists(s.path() / "lib" / "shipped" / "manifest.json"));
    EXPECT_EQ(run->written.back(), opt.slsa);
    const RunResult cli =
        run_probity("equiv '" + opt.shipped.string() + "' '" + opt.rebuilt.string() + "' --out '" +
                    (s.path() / "cli").string() + "' -q --threads 2 " + c.cli_flags);
    ASSERT_NE(cli.exit_code, 2) << cli.output;
    EXPECT_EQ(equiv_exit_code(*run), cli.exit_code) << cli.output;
    const auto lib_json = read_json(s.path() / "lib" / "equiv.json");
    const auto cli_json = read_json(s.path() / "cli" / "equiv.json");
    EXPECT_EQ(lib_json["verdict"], cli_json["verdict"]);
    EXPECT_EQ(lib_json["verdict"], to_string(run->equivalence.verdict));
    EXPECT_EQ(lib_json["differences"], cli_json["differences"]);
    EXPECT_EQ(lib_json["normalisations"].size(), cli_json["normalisations"].size());
  }
}

TEST(LibraryEquiv, AnImageThatIsNotAFileIsAnError) {
  Scratch s("libequiv-bad");
  EquivRunOptions opt;
  opt.shipped = s.path();
  opt.rebuilt = s.path() / "absent.bin";
  opt.out = s.path() / "out";
  auto run = probity::equiv(opt);
  ASSERT_FALSE(run);
  EXPECT_NE(run.error().to_string().find("not a readable regular file"), std::string::npos)
      << run.error().to_string();
  EXPECT_FALSE(fs::exists(opt.out));
}

}  // namespace probity::testing
