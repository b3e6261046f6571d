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
  // The newest busybox line in the tag data has no end: no guess.
  EXPECT_FALSE(eol_for("busybox", "1.36.1", "2026-11-23"));
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
    const auto& cycles = doc["cycles"];
    for (std::size_t i = 0; i < cycles.size(); ++i) {
      const auto& c = cycles[i];
      // Files derived from release tags (scripts/make-eol-curated.py): the newest line has no
      // end, and every other line's end is max(its last release, the next line's first).
      if (doc.contains("data_date")) {
        if (i + 1 == cycles.size()) {
          EXPECT_FALSE(c.contains("eol")) << entry.path() << " " << c.dump();
          EXPECT_FALSE(
              eol_for(doc["product"].get<std::string>(), c.value("latest", ""), "2000-01-01", dir))
              << c.dump();
          continue;
        }
        const std::string last = c.value("latest_release", ""),
                          next = cycles[i + 1].value("release", "");
        EXPECT_EQ(c.value("eol", ""), std::max(last, next)) << entry.path() << " " << c.dump();
        EXPECT_FALSE(c.value("eol_source", "").empty()) << c.dump();
        EXPECT_LE(c.value("release", ""), c.value("eol", "")) << c.dump();
      }
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

TEST(VulnDbEol, FirmwareProductsFromTheirReleaseTags) {
  // busybox 1.33.2 came out after 1.34.0: the 1.33 line ended with its own last release.
  auto bb = eol_for("busybox", "1.33.1", "2026-11-23");
  ASSERT_TRUE(bb);
  EXPECT_EQ(bb->cycle, "1.33");
  EXPECT_EQ(bb->date, "2021-11-24");
  EXPECT_TRUE(bb->reached);
  // 1.35 got no fix release: it ended when 1.36.0 came out.
  EXPECT_EQ(eol_for("busybox", "1.35.0", "2026-11-23")->date, "2023-01-03");
  // Each dropbear release is its own line: 2022.82 ended when 2022.83 came out, and was not
  // ended the day before.
  auto db = eol_for("dropbear", "2022.82", "2022-11-13");
  ASSERT_TRUE(db);
  EXPECT_EQ(db->cycle, "2022.82");
  EXPECT_FALSE(eol_for("dropbear", "2022.82", "2000-01-01")->reached);
  EXPECT_TRUE(eol_for("dropbear", "2022.82", "2026-11-23")->reached);
  // OpenSSH portable: 9.2p1 is in the 9.2 line; lighttpd and dnsmasq lines by full version.
  EXPECT_EQ(eol_for("openssh", "9.2p1", "2026-11-23")->cycle, "9.2");
  EXPECT_EQ(eol_for("lighttpd", "1.4.69", "2026-11-23")->cycle, "1.4.69");
  EXPECT_EQ(eol_for("dnsmasq", "2.90", "2026-11-23")->cycle, "2.90");
  EXPECT_EQ(eol_for("u-boot", "2023.04", "2026-11-23")->cycle, "2023.04");
  EXPECT_EQ(eol_for("uclibc-ng", "1.0.45", "2026-11-23")->cycle, "1.0.45");
  // hostapd and wpa_supplicant (one release train), from the dates of hostap's own ChangeLog:
  // 2.9 ended when 2.10 came out; 2.11 is the newest line and has no end; 0.7.3 is in 0.7.
  auto ha = eol_for("hostapd", "2.9", "2026-11-23");
  ASSERT_TRUE(ha);
  EXPECT_EQ(ha->cycle, "2.9");
  EXPECT_EQ(ha->date, "2022-01-16");
  EXPECT_TRUE(ha->reached);
  EXPECT_EQ(eol_for("wpa_supplicant", "2.10", "2026-11-23")->date, "2024-07-20");
  EXPECT_EQ(eol_for("hostapd", "2.10-devel", "2026-11-23")->cycle, "2.10");
  EXPECT_FALSE(eol_for("hostapd", "2.11", "2026-11-23"));
  EXPECT_EQ(eol_for("hostapd", "0.7.3", "2026-11-23")->cycle, "0.7");
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
