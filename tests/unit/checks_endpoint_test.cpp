// Endpoint classification, allowlists and extraction.
#include <gtest/gtest.h>

#include <set>

#include "checks_support/endpoint_class.hpp"
#include "checks_tree.hpp"

namespace probity::checks {
namespace {

EndpointClass ip(const char* s) {
  auto a = parse_ip(s);
  EXPECT_TRUE(a) << s;
  return a ? classify_ip(*a) : EndpointClass::kReserved;
}

TEST(EndpointClass, Addresses) {
  for (const char* s : {"10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "100.64.0.1",
                        "169.254.1.1", "127.0.0.1", "fd00::1", "fe80::1", "::1"})
    EXPECT_EQ(ip(s), EndpointClass::kPrivate) << s;
  for (const char* s : {"192.0.2.1", "198.51.100.7", "203.0.113.9", "0.0.0.0", "224.0.0.1",
                        "255.255.255.255", "2001:db8::1", "::"})
    EXPECT_EQ(ip(s), EndpointClass::kReserved) << s;
  for (const char* s : {"8.8.8.8", "172.32.0.1", "45.33.32.156", "2606:4700::1111"})
    EXPECT_EQ(ip(s), EndpointClass::kPublic) << s;
  EXPECT_FALSE(parse_ip("256.1.1.1"));
}

TEST(EndpointClass, Names) {
  EXPECT_EQ(classify_host("www.example.com"), EndpointClass::kReserved);
  EXPECT_EQ(classify_host("foo.test"), EndpointClass::kReserved);
  EXPECT_EQ(classify_host("localhost"), EndpointClass::kPrivate);
  EXPECT_EQ(classify_host("router.lan"), EndpointClass::kPrivate);
  EXPECT_EQ(classify_host("updates.vendor.cn"), EndpointClass::kPublic);
}

TEST(EndpointClass, Allowlist) {
  Allowlist a({"vendor.com", ".Example.ORG"}, {"45.33.32.0/24", "2001:db8::/32", "bogus/99"});
  EXPECT_TRUE(a.allows_host("vendor.com"));
  EXPECT_TRUE(a.allows_host("fw.vendor.com"));
  EXPECT_FALSE(a.allows_host("evilvendor.com"));
  EXPECT_TRUE(a.allows_host("a.example.org"));
  EXPECT_TRUE(a.allows_ip(*parse_ip("45.33.32.200")));
  EXPECT_FALSE(a.allows_ip(*parse_ip("45.33.33.1")));
  EXPECT_TRUE(a.allows_ip(*parse_ip("2001:db8:1::5")));
  ASSERT_EQ(a.invalid.size(), 1u);
  EXPECT_EQ(a.invalid[0], "bogus/99");
}

TEST(Endpoints, ExtractedAndTiedToTheirFile) {
  testing::SyntheticTree t("endpoints");
  t.add("etc/cloud.conf",
        "url=https://api.vendorcloud.cn:8443/v1/report?id=1\nntp=pool.ntp.org\n"
        "dns=8.8.8.8\nlan=192.168.1.1\nv6=2001:db8::42\nmail=support@vendor-iot.com\n"
        "version=1.2.3.4.5\n");
  auto fs = t.run();
  std::set<std::string> got;
  for (const auto& f : fs)
    if (f.category == "endpoint" && f.path == "etc/cloud.conf")
      got.insert(f.rule + " " + f.message);
  auto any = [&](const std::string& needle) {
    for (const auto& g : got)
      if (g.find(needle) != std::string::npos) return true;
    return false;
  };
  EXPECT_TRUE(any("endpoint-public url https://api.vendorcloud.cn:8443/v1/report?id=1"));
  EXPECT_TRUE(any("endpoint-public host pool.ntp.org"));
  EXPECT_TRUE(any("endpoint-public ipv4 8.8.8.8"));
  EXPECT_TRUE(any("endpoint-private ipv4 192.168.1.1"));
  EXPECT_TRUE(any("endpoint-reserved ipv6 2001:db8::42"));
  EXPECT_TRUE(any("email support@vendor-iot.com"));
  EXPECT_FALSE(any("1.2.3.4")) << "a version number is not an address";
  EXPECT_FALSE(any("host api.vendorcloud.cn")) << "the URL's host is not reported twice";
}

// Issue 16: what is not an endpoint. Each line holds something that looks like an address or a
// host name and is not one; the real endpoint on the last line must still be found.
TEST(Endpoints, OidsVersionsAndFileNamesAreNotEndpoints) {
  testing::SyntheticTree t("not-endpoints");
  t.add("etc/noise.conf",
        "ED25519 1.3.101.112\nX448 1.3.101.111\nid-pkix 1.3.6.1\ncn 2.5.4.3\n"
        "Linux version 2.6.36.4 (gcc)\nfirmware 1.0.3.12\npkg-4.14.0.1 built\n"
        "run tsget.pl to fetch\nsee Makefile.in and texinfo foo.info\n"
        "ntp=45.33.32.156\nrange 192.168.0.1-192.168.0.20\n");
  auto fs = t.run();
  std::set<std::string> got;
  for (const auto& f : fs)
    if (f.category == "endpoint" && f.path == "etc/noise.conf") got.insert(f.message);
  for (const char* not_endpoint : {"1.3.101.112", "1.3.101.111", "1.3.6.1", "2.5.4.3", "2.6.36.4",
                                   "1.0.3.12", "4.14.0.1", "tsget.pl", "foo.info"})
    for (const auto& g : got) EXPECT_EQ(g.find(not_endpoint), std::string::npos) << g;
  // Real addresses next to the noise are still found: after '=', and both ends of a range.
  for (const char* real : {"ipv4 45.33.32.156", "ipv4 192.168.0.1 ", "ipv4 192.168.0.20 "}) {
    bool found = false;
    for (const auto& g : got) found |= g.find(real) != std::string::npos;
    EXPECT_TRUE(found) << real;
  }
}

}  // namespace
}  // namespace probity::checks
