// The known-backdoor rule pack: every rule cites a source and has a sample; each sample, planted
// in a file, fires its rule and no other; clean Debian binaries fire none; user rules add to the
// pack and broken ones are reported.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "checks_support/yara_rules.hpp"
#include "checks_tree.hpp"
#include "probity/mapped_file.hpp"

namespace probity::checks {
namespace fs = std::filesystem;

std::shared_ptr<YaraRules> pack() {
  auto r = YaraRules::compile({fs::path(PROBITY_DATA_DIR) / "rules"});
  EXPECT_TRUE(r) << (r ? "" : r.error().to_string());
  return r ? *r : nullptr;
}

TEST(YaraPack, EveryRuleCitesASourceAndFiresOnItsSampleOnly) {
  auto rules = pack();
  ASSERT_TRUE(rules);
  auto all = rules->rules();
  EXPECT_GE(all.size(), 10u);
  std::mt19937 rng(42);
  for (const auto& r : all) {
    SCOPED_TRACE(r.rule);
    ASSERT_TRUE(r.meta.contains("source"));
    EXPECT_NE(r.meta.at("source").find("http"), std::string::npos);
    ASSERT_TRUE(r.meta.contains("sample"));
    ASSERT_TRUE(r.meta.contains("description"));
    // The sample in the middle of printable filler, as it would sit in a binary's .rodata.
    std::string buf;
    for (int i = 0; i < 4000; ++i) buf.push_back(char('a' + rng() % 26));
    buf += '\0';
    buf += r.meta.at("sample");
    buf += '\0';
    for (int i = 0; i < 4000; ++i) buf.push_back(char(rng() % 256));
    auto hits = rules->scan({reinterpret_cast<const std::uint8_t*>(buf.data()), buf.size()});
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0].rule, r.rule);
    EXPECT_FALSE(hits[0].matched.empty());
  }
}

TEST(YaraPack, CleanDebianBinariesMatchNothing) {
  auto rules = pack();
  ASSERT_TRUE(rules);
  std::vector<fs::path> bins = {"/bin/ls", "/usr/bin/ssh", "/usr/bin/openssl", "/bin/bash",
                                "/usr/lib/x86_64-linux-gnu/libcrypto.so.3"};
  const fs::path armhf = fs::path(PROBITY_FIXTURES_DIR) / "checks" / "rootfs-clean";
  for (const char* p : {"bin/busybox", "usr/sbin/dropbear", "usr/sbin/sshd",
                        "lib/arm-linux-gnueabihf/libc.so.6", "usr/bin/wget"})
    bins.push_back(armhf / p);
  int scanned = 0;
  for (const auto& b : bins) {
    auto m = MappedFile::open(b);
    if (!m) continue;
    ++scanned;
    for (const auto& hit : rules->scan(m->bytes()))
      ADD_FAILURE() << b << " matches " << hit.rule << " at " << hit.offset << ": " << hit.matched;
  }
  EXPECT_GE(scanned, 8);
}

TEST(YaraPack, UserRulesAreAddedAndBrokenOnesReported) {
  const fs::path dir = fs::temp_directory_path() / ("probity-yara-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "mine.yar") << "rule My_Vendor_Magic { meta: source = \"internal\" "
                                     "strings: $a = \"probity-user-rule-magic\" condition: $a }\n";
  testing::SyntheticTree t("yara-user");
  t.add("usr/bin/thing", std::string("xx probity-user-rule-magic yy"));
  CheckOptions opt;
  opt.rules_dir = dir;
  auto fs1 = t.run(opt);
  EXPECT_TRUE(testing::has(fs1, "yara:My_Vendor_Magic", "usr/bin/thing"));
  EXPECT_TRUE(validate_rules(dir));
  std::ofstream(dir / "broken.yar") << "rule Broken { condition: $nope }\n";
  auto fs2 = t.run(opt);
  EXPECT_TRUE(testing::has(fs2, "yara-rules-error", ""));
  auto v = validate_rules(dir);
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("broken.yar"), std::string::npos) << v.error().message;
  EXPECT_FALSE(validate_rules(dir / "missing"));
  fs::remove_all(dir);
}

}  // namespace probity::checks
