// `probity db import` and `probity db status` end to end, through the CLI binary.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "probity/vulndb.hpp"

namespace {

namespace fs = std::filesystem;

struct Run {
  int code = -1;
  std::string out;
};

Run run(const std::string& args) {
  Run r;
  const std::string cmd = std::string(PROBITY_BINARY) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

TEST(VulnDbCli, ImportStatusAndSnapshot) {
  const fs::path dir = fs::temp_directory_path() / ("probity-dbcli-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path db = dir / "sub" / "v.db";
  const std::string fixtures = std::string(PROBITY_SOURCE_DIR) + "/tests/fixtures/vulndb";

  auto r = run("db import " + fixtures + " --db " + db.string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("nvd-1.1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("osv"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("snapshot sha256:"), std::string::npos) << r.out;

  r = run("db status --json --db " + db.string());
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  // 3 (page) + 2 (1.1 feed; the .gz repeats them) + 1 (OSV-2020-744) + 1 (OSV from NVD)
  EXPECT_EQ(j["vulnerabilities"], 7);
  EXPECT_EQ(j["sources"].size(), 5u);
  EXPECT_GT(j["cpe_matches"].get<int>(), 50);
  auto lib = probity::VulnDb::open(db);
  ASSERT_TRUE(lib);
  EXPECT_EQ(j["snapshot"], *lib->snapshot_id());

  r = run("db status --db " + db.string());
  ASSERT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("vulnerabilities 7"), std::string::npos) << r.out;

  // PROBITY_DB names the default database.
  const std::string with_env = "PROBITY_DB=" + db.string() + " ";
  const std::string cmd = with_env + PROBITY_BINARY + " db status --json";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_TRUE(p);
  std::string out;
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  EXPECT_EQ(pclose(p), 0);
  EXPECT_EQ(nlohmann::json::parse(out)["snapshot"], j["snapshot"]);

  // Usage errors exit 2 and say what was wrong.
  r = run("db import " + (dir / "missing.json").string() + " --db " + db.string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("no such file"), std::string::npos) << r.out;
  r = run("db status --db " + (dir / "none.db").string());
  EXPECT_EQ(r.code, 2);
  fs::remove_all(dir);
}

TEST(VulnDbCli, BuildTimeDefaultDatabase) {
  // The build imports data/vulndata into build/data/vuln.db (CMake target vulndb).
  auto db = probity::VulnDb::open(PROBITY_DEFAULT_DB);
  ASSERT_TRUE(db) << db.error().to_string();
  auto st = db->status();
  ASSERT_TRUE(st);
  EXPECT_GE(st->vulnerabilities, 100u);
  probity::VulnQuery q;
  q.vendor = "openssl";
  q.product = "openssl";
  q.version = "1.0.2k";
  auto v = db->match(q);
  ASSERT_TRUE(v);
  EXPECT_GE(v->size(), 3u);
}

}  // namespace
