// probity key generate never overwrites a key pair without --force; the private key is 0600.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli_support.hpp"

namespace probity::testing {
namespace fs = std::filesystem;

namespace {
std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

TEST(KeyCli, GenerateNeverOverwritesWithoutForce) {
  Scratch s("key-overwrite");
  const std::string prefix = (s.path() / "release").string();
  ASSERT_EQ(run_probity("key generate --name example.org/release --out '" + prefix + "'").exit_code,
            0);
  struct stat st {};
  ASSERT_EQ(::stat((prefix + ".key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "the private key is readable by its owner only";
  const std::string key = slurp(prefix + ".key"), pub = slurp(prefix + ".pub");

  RunResult again = run_probity("key generate --name example.org/release --out '" + prefix + "'");
  EXPECT_EQ(again.exit_code, 2) << again.output;
  EXPECT_NE(again.output.find("release.key"), std::string::npos) << "names the file";
  EXPECT_EQ(slurp(prefix + ".key"), key) << "the key is untouched";
  EXPECT_EQ(slurp(prefix + ".pub"), pub);

  // Only the public half left behind still protects the pair's name.
  fs::remove(prefix + ".key");
  EXPECT_EQ(run_probity("key generate --name x --out '" + prefix + "'").exit_code, 2);

  RunResult forced =
      run_probity("key generate --name example.org/release --out '" + prefix + "' --force");
  EXPECT_EQ(forced.exit_code, 0) << forced.output;
  EXPECT_NE(slurp(prefix + ".pub"), pub) << "--force replaces the pair";
}

}  // namespace probity::testing
