// End-of-life lookup over data/eol/*.json.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "probity/vulndb.hpp"

namespace {

namespace fs = std::filesystem;
using probity::eol_for;

TEST(VulnDbEol, OpenSslBranches) {
  auto e = eol_for("openssl", "1.0.2k", "2026-11-23");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->cycle, "1.0.2");
  EXPECT_EQ(e->date, "2019-12-31");
  EXPECT_TRUE(e->reached);
  e = eol_for("OpenSSL", "1.1.1w", "2023-09-10");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->cycle, "1.1.1");
  EXPECT_EQ(e->date, "2023-09-11");
  EXPECT_FALSE(e->reached);  // the day before
  EXPECT_TRUE(eol_for("openssl", "1.1.1w", "2023-09-11")->reached);
  e = eol_for("openssl", "3.0.13", "2026-01-01");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->cycle, "3.0");
  EXPECT_FALSE(e->reached);
  EXPECT_EQ(eol_for("openssl", "1.1.0l", "2026-01-01")->cycle, "1.1.0");
  EXPECT_EQ(eol_for("openssl", "1.0.1u", "2026-01-01")->date, "2016-12-31");
  EXPECT_FALSE(eol_for("openssl", "4.0.0", "2026-01-01"));  // no published line
}

TEST(VulnDbEol, KernelLinesUseWholeComponents) {
  auto e = eol_for("linux_kernel", "5.10.180", "2026-11-23");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->cycle, "5.10");  // not 5.1
  EXPECT_FALSE(e->reached);
  e = eol_for("linux", "4.14.336", "2026-11-23");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->cycle, "4.14");
  EXPECT_TRUE(e->reached);
  EXPECT_EQ(eol_for("kernel", "4.4.302", "2026-11-23")->date, "2022-02-03");
  EXPECT_FALSE(eol_for("linux_kernel", "5.1.21", "2026-11-23"));  // 5.1 was not a long-term line
  EXPECT_EQ(eol_for("linux_kernel", "v6.1.55", "2026-11-23")->cycle, "6.1");
}

TEST(VulnDbEol, UnknownProductsAndVersions) {
  EXPECT_FALSE(eol_for("busybox", "1.36.1", "2026-11-23"));  // no published policy: no guess
  EXPECT_FALSE(eol_for("openssl", "", "2026-11-23"));
  EXPECT_FALSE(eol_for("", "1.0", "2026-11-23"));
  EXPECT_EQ(eol_for("php", "7.4.33", "2026-11-23")->date, "2022-11-28");
  EXPECT_EQ(eol_for("python", "2.7.18", "2026-11-23")->date, "2020-01-01");
}

TEST(VulnDbEol, EveryDataFileIsWellFormedAndCited) {
  const fs::path dir = fs::path(PROBITY_SOURCE_DIR) / "data/eol";
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    ++files;
    std::ifstream in(entry.path());
    const auto doc = nlohmann::json::parse(in, nullptr, false);
    ASSERT_FALSE(doc.is_discarded()) << entry.path();
    EXPECT_EQ(doc.value("product", ""), entry.path().stem().string());
    EXPECT_FALSE(doc.value("source", "").empty()) << entry.path();
    ASSERT_TRUE(doc["cycles"].is_array());
    for (const auto& c : doc["cycles"]) {
      const auto date = c.value("eol", "");
      ASSERT_EQ(date.size(), 10u) << entry.path() << " " << c.dump();
      EXPECT_EQ(date[4], '-');
      EXPECT_EQ(date[7], '-');
      EXPECT_FALSE(c.value("source", "").empty()) << c.dump();
      // Every cycle finds itself.
      auto e = eol_for(doc["product"].get<std::string>(), c["cycle"].get<std::string>() + ".1",
                       "2000-01-01", dir);
      ASSERT_TRUE(e) << c.dump();
      EXPECT_EQ(e->cycle, c["cycle"].get<std::string>());
    }
  }
  EXPECT_GE(files, 2);
}

TEST(VulnDbEol, OtherDataDirectory) {
  const fs::path dir = fs::temp_directory_path() / "probity-eol-test";
  fs::create_directories(dir);
  std::ofstream(dir / "dropbear.json")
      << R"({"product":"dropbear","names":["dropbear_ssh"],"source":"test",)"
      << R"("cycles":[{"cycle":"2019","eol":"2020-01-01","source":"test"}]})";
  auto e = eol_for("dropbear_ssh", "2019.78", "2026-01-01", dir);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->cycle, "2019");
  EXPECT_TRUE(e->reached);
  fs::remove_all(dir);
}

}  // namespace
