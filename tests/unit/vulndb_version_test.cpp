// Version ordering over real version strings (docs/vulndb.md, "Version ordering").
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "probity/version.hpp"

namespace {

using probity::compare_versions;

struct Pair {
  const char* lower;
  const char* higher;
};

// Every pair must order lower < higher, both ways round.
const Pair kOrdered[] = {
    // OpenSSL letter releases and the 1.0.2 "z" series
    {"1.0.2k", "1.0.2l"},
    {"1.0.2l", "1.1.0"},
    {"1.0.2", "1.0.2a"},
    {"1.0.2z", "1.0.2za"},
    {"1.0.2za", "1.0.2zb"},
    {"1.0.2zh", "1.0.2zk"},
    {"1.0.2zk", "1.1.0"},
    {"1.1.1", "1.1.1a"},
    {"1.1.1v", "1.1.1w"},
    {"1.1.1w", "1.1.1za"},
    {"1.1.1w", "3.0.0"},
    {"1.1.1pre9", "1.1.1"},
    {"1.1.1pre1", "1.1.1pre2"},
    {"1.0.2-beta3", "1.0.2"},
    {"1.0.2beta1", "1.0.2beta2"},
    {"3.0.7", "3.0.10"},
    {"3.0.9", "3.0.13"},
    // OpenSSH portable
    {"8.4p1", "8.9p1"},
    {"8.9p1", "9.0p1"},
    {"7.2", "7.2p2"},
    {"7.2p1", "7.2p2"},
    {"8.7p1", "8.8"},
    {"9.3p2", "9.6p1"},
    // Dropbear year.release
    {"2016.74", "2017.75"},
    {"2020.81", "2022.83"},
    {"2019.78", "2020.79"},
    // curl, busybox, dnsmasq, zlib, expat, lighttpd
    {"7.74.0", "7.88.1"},
    {"7.88.1", "8.0.0"},
    {"7.9", "7.74.0"},
    {"1.31.1", "1.36.1"},
    {"1.36.0", "1.36.1"},
    {"2.80", "2.86"},
    {"2.89", "2.90"},
    {"1.2.11", "1.2.12"},
    {"1.2.12", "1.2.13"},
    {"1.2.13", "1.3"},
    {"2.4.9", "2.5.0"},
    {"1.4.59", "1.4.64"},
    // Linux kernel
    {"4.19.325", "5.4.0"},
    {"5.4.268", "5.10.0"},
    {"5.10.180", "5.15.1"},
    {"6.1-rc7", "6.1"},
    {"6.1", "6.1.1"},
    // pppd, hostapd, sqlite, glibc, uClibc-ng, miniupnpd
    {"2.4.8", "2.4.9"},
    {"2.9", "2.10"},
    {"3.39.4", "3.40.1"},
    {"2.31", "2.36"},
    {"1.0.31", "1.0.45"},
    {"2.1", "2.3.4"},
    // pre-release words: dev < alpha < beta < pre < rc < release
    {"1.0-dev", "1.0-alpha"},
    {"1.0-alpha", "1.0-beta"},
    {"1.0-beta", "1.0-pre"},
    {"1.0-pre", "1.0-rc1"},
    {"1.0-beta", "1.0-rc1"},
    {"1.0-rc1", "1.0-rc2"},
    {"1.0-rc2", "1.0"},
    {"1.2.3rc1", "1.2.3"},
    {"1.2.3-RC1", "1.2.3"},
    {"2.0.0-alpha.1", "2.0.0-beta"},
    {"1.0-rc9", "1.0-rc10"},
    // post-release suffixes sort after the release
    {"1.2.3", "1.2.3p1"},
    {"1.2.3", "1.2.3-p1"},
    // epochs (Debian) compare first
    {"2.3", "1:2.0"},
    {"1:2.3", "2:0.1"},
    {"1:1.1.1n-0+deb11u4", "1:1.1.1w-0+deb11u1"},
    // Debian '~' sorts before everything
    {"1.0~rc1", "1.0"},
    {"1.0~~", "1.0~"},
    {"3.0.11-1~deb12u1", "3.0.11-1"},
    // leading v and long numbers
    {"v1.2.3", "1.2.4"},
    {"1.2.99999999999999999999", "1.2.100000000000000000000"},
};

TEST(VulnDbVersion, OrderedPairs) {
  for (const auto& p : kOrdered) {
    EXPECT_LT(compare_versions(p.lower, p.higher), 0) << p.lower << " < " << p.higher;
    EXPECT_GT(compare_versions(p.higher, p.lower), 0) << p.higher << " > " << p.lower;
  }
}

TEST(VulnDbVersion, EqualPairs) {
  const Pair equal[] = {
      {"2.9", "2.9.0"},       {"2.9", "2.9.0.0"},   {"v1.2.3", "1.2.3"},  {"V2.0", "2.0"},
      {"01.2", "1.2"},        {"1.0.2K", "1.0.2k"}, {"0:1.2", "1.2"},     {"1.2-rc1", "1.2rc1"},
      {"1.2_3", "1.2.3"},     {"7.2p2", "7.2.p2"},  {" 3.0.7 ", "3.0.7"}, {"", ""},
      {"2020.81", "2020.81"},
  };
  for (const auto& p : equal) {
    EXPECT_EQ(compare_versions(p.lower, p.higher), 0) << p.lower << " == " << p.higher;
    EXPECT_EQ(compare_versions(p.higher, p.lower), 0) << p.higher << " == " << p.lower;
  }
}

TEST(VulnDbVersion, SortsARealOpenSslHistory) {
  std::vector<std::string> v = {"3.0.0", "1.1.1w",    "1.0.2zk", "1.1.0l", "1.0.2",
                                "1.1.1", "1.1.1pre9", "3.0.13",  "1.0.1u", "1.1.1a"};
  std::sort(v.begin(), v.end(),
            [](const std::string& a, const std::string& b) { return compare_versions(a, b) < 0; });
  const std::vector<std::string> want = {"1.0.1u", "1.0.2",  "1.0.2zk", "1.1.0l", "1.1.1pre9",
                                         "1.1.1",  "1.1.1a", "1.1.1w",  "3.0.0",  "3.0.13"};
  EXPECT_EQ(v, want);
}

TEST(VulnDbVersion, IsATotalOrderOnTheTable) {
  // Transitivity spot check over every version of the table.
  std::vector<std::string> all;
  for (const auto& p : kOrdered) all.insert(all.end(), {p.lower, p.higher});
  for (const auto& a : all)
    for (const auto& b : all) {
      const int ab = compare_versions(a, b), ba = compare_versions(b, a);
      EXPECT_EQ(ab<0, ba> 0) << a << " vs " << b;
      EXPECT_EQ(ab == 0, ba == 0) << a << " vs " << b;
    }
}

}  // namespace
