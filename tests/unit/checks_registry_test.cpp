// The check registry: every file in src/checks/ is registered in checks.def, ids are unique and
// equal to the file name, categories come from the fixed vocabulary; finding ids and locations
// follow docs/findings.md.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "checks_support/check.hpp"

namespace probity::checks {

TEST(CheckRegistry, EveryCheckFileIsRegisteredOnce) {
  const std::set<std::string> kCategories = {
      "account",   "credentials", "remote-access",    "private-key",          "known-backdoor",
      "hardening", "endpoint",    "update-integrity", "vulnerable-component", "outdated-component"};
  std::set<std::string> ids;
  for (const Check* c : all_checks()) {
    EXPECT_TRUE(ids.insert(std::string(c->id)).second) << "duplicate id " << c->id;
    EXPECT_TRUE(kCategories.contains(std::string(c->category))) << c->id << ": " << c->category;
    EXPECT_FALSE(c->description.empty()) << c->id;
    EXPECT_TRUE(c->on_file || c->on_tree || c->on_findings) << c->id << " has no hook";
  }
  std::size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(PROBITY_SOURCE_DIR "/src/checks")) {
    if (e.path().extension() != ".cpp") continue;
    ++files;
    EXPECT_TRUE(ids.contains(e.path().stem().string()))
        << e.path().filename()
        << " is not listed in checks.def (or its id differs from the file name); shared helpers "
           "belong in src/checks_support/";
  }
  EXPECT_EQ(files, ids.size());
  EXPECT_EQ(check_ids().size(), ids.size());
}

TEST(FindingId, IsSha256PrefixOfRuleLocationEvidence) {
  // python3: hashlib.sha256(b'telnetd-shell\nsquashfs:etc/init.d/rcS\n'
  //                         b'/usr/sbin/telnetd -l /bin/sh').hexdigest()[:16]
  EXPECT_EQ(finding_id("telnetd-shell", "squashfs:etc/init.d/rcS", "/usr/sbin/telnetd -l /bin/sh"),
            "9d6fae19e0e2fa3f");
  EXPECT_NE(finding_id("a", "b", "c"), finding_id("a", "b", "d"));
}

TEST(FindingId, LocationUsesTheFormatChainNotIdsOrOffsets) {
  FileRecord f;
  f.path = "etc/passwd";
  f.container = 7;
  f.origin = {
      {"vendor-1.2.bin", 4096, "squashfs"}, {"boot/initrd.gz", 0, "gzip"}, {"initrd", 0, "cpio"}};
  EXPECT_EQ(normalised_location(f), "squashfs>boot/initrd.gz>gzip>initrd>cpio:etc/passwd");
  FileRecord g = f;
  g.container = 3;
  g.origin[0].source = "vendor-1.3.bin";
  g.origin[0].offset = 8192;
  EXPECT_EQ(normalised_location(g), normalised_location(f));
}

}  // namespace probity::checks
