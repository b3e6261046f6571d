// Every signature's test cases: each test string yields exactly its expected version for its
// product and nothing for any other product; negatives yield nothing for their product.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include "probity/identify.hpp"

namespace probity {
namespace {

/// A string literal with its embedded NULs.
template <std::size_t N>
std::string lit(const char (&s)[N]) {
  return std::string(s, N - 1);
}

const Identifier& identifier() {
  static Identifier id = [] {
    auto sigs = load_signatures(default_signature_dir());
    if (!sigs) throw std::runtime_error(sigs.error().to_string());
    auto made = Identifier::create(std::move(*sigs));
    if (!made) throw std::runtime_error(made.error().to_string());
    return std::move(*made);
  }();
  return id;
}

/// What `input` yields, as the content of a file named `name` (nullopt: name unknown).
std::set<std::pair<std::string, std::string>> found(
    const std::string& input, std::optional<std::string_view> name = std::nullopt) {
  Identifier::Scanner scanner(identifier());
  const auto* p = reinterpret_cast<const std::uint8_t*>(input.data());
  auto hits = scanner.scan({p, input.size()}, name);
  auto names = scanner.scan_name(input);
  hits.insert(hits.end(), names.begin(), names.end());
  std::set<std::pair<std::string, std::string>> out;
  for (const auto& h : hits) out.insert({identifier().signatures()[h.signature].id, h.version});
  return out;
}

TEST(Signatures, LoadAndCoverAtLeast150Products) {
  EXPECT_GE(identifier().signatures().size(), 150u);
}

TEST(Signatures, EveryTestCaseYieldsExactlyItsProductAndVersion) {
  std::size_t cases = 0;
  for (const auto& s : identifier().signatures()) {
    // As the content of a file the signature's first hint names ("libssl.so*" -> "libssl.so"),
    // so that patterns trusted only in hinted files apply to it and to no one else's test.
    std::optional<std::string> name;
    if (!s.files.empty()) {
      name = s.files.front();
      std::erase(*name, '*');
    }
    for (const auto& t : s.tests) {
      ++cases;
      const auto got = name ? found(t.input, *name) : found(t.input);
      const std::set<std::pair<std::string, std::string>> want{{s.id, t.version}};
      EXPECT_EQ(got, want) << "signature " << s.id << " (" << s.source << ") on '" << t.input
                           << "'";
    }
  }
  EXPECT_GT(cases, 100u);
}

TEST(Signatures, NegativesYieldNothingForTheirProduct) {
  for (const auto& s : identifier().signatures())
    for (const auto& n : s.negatives)
      for (const auto& [id, v] : found(n))
        EXPECT_NE(id, s.id) << "negative '" << n << "' yields " << id << " " << v;
}

TEST(Signatures, EveryProductHasCpeAndPurl) {
  for (const auto& s : identifier().signatures()) {
    EXPECT_EQ(make_cpe(s, "1.2.3").rfind("cpe:2.3:", 0), 0u) << s.id;
    EXPECT_TRUE(make_purl(s, "1.2.3").ends_with("@1.2.3")) << s.id;
    EXPECT_FALSE(s.vendor.empty()) << s.id;
  }
}

// Item 4 of issue 12: a product matches CVEs only under a CPE NVD uses. Every signature has a
// vendor:product pair with vulnerable CVEs in NVD's 2002-2018 data (counts copied into
// cpe-aliases.tsv by scripts/make-cpe-aliases.py), or says why not.
TEST(Signatures, EveryProductHasAnNvdCpeOrAStatedReason) {
  for (const auto& s : identifier().signatures())
    EXPECT_TRUE(s.nvd_cves > 0 || !s.cpe_reason.empty())
        << s.id << " (" << s.source << "): no vendor:product of it is in NVD's vulnerable data; "
        << "add the pair NVD uses to data/signatures/cpe-aliases.tsv or a cpe_reason";
}

TEST(Signatures, AliasesNameEveryNvdPairOfAProduct) {
  const auto& id = identifier();
  const auto& curl = id.signatures()[std::size_t(id.find("curl"))];
  const auto aliases = make_cpe_aliases(curl, "7.88.1");
  EXPECT_NE(std::ranges::find(aliases, "cpe:2.3:a:haxx:libcurl:7.88.1:*:*:*:*:*:*:*"),
            aliases.end());
  const auto has_pair = [&](std::string_view sid, std::string_view vendor) {
    const auto& s = id.signatures()[std::size_t(id.find(sid))];
    return s.vendor == vendor ||
           std::ranges::any_of(s.cpe_aliases, [&](const auto& p) { return p.first == vendor; });
  };
  EXPECT_TRUE(has_pair("hostapd", "w1.fi"));
  EXPECT_TRUE(has_pair("wpa_supplicant", "w1.fi"));
  EXPECT_TRUE(has_pair("miniupnpd", "miniupnp.free"));
  EXPECT_TRUE(has_pair("miniupnpd", "miniupnp_project"));
}

TEST(Signatures, AliasFileRejectsUnknownIdsAndBrokenRows) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(testing::TempDir()) / "probity-alias-test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "a.toml") << "[[product]]\nid = \"x\"\nvendor = \"v\"\n"
                                   "packages = [\"x\"]\n";
  const auto write = [&](const std::string& tsv) {
    std::ofstream(dir / "cpe-aliases.tsv", std::ios::trunc) << tsv;
  };
  write("id\tvendor\tproduct\tnvd_cves\nx\tv\tx\t3\nx\tother\tx-lib\t2\n");
  auto ok = load_signatures(dir);
  ASSERT_TRUE(ok.has_value()) << ok.error().to_string();
  EXPECT_EQ(ok->front().nvd_cves, 5u);
  ASSERT_EQ(ok->front().cpe_aliases.size(), 1u);
  EXPECT_EQ(ok->front().cpe_aliases.front().second, "x-lib");
  write("id\tvendor\tproduct\tnvd_cves\nnope\tv\tx\t3\n");
  auto unknown = load_signatures(dir);
  ASSERT_FALSE(unknown.has_value());
  EXPECT_NE(unknown.error().message.find("nope"), std::string::npos);
  write("x\tv\n");
  EXPECT_FALSE(load_signatures(dir).has_value());
  write("x\tv\tx\tmany\n");
  EXPECT_FALSE(load_signatures(dir).has_value());
  fs::remove_all(dir);
}

TEST(Signatures, CpeAndPurlEscaping) {
  Signature s;
  s.vendor = "openssl";
  s.product = "openssl";
  s.purl = "pkg:generic/openssl";
  EXPECT_EQ(make_cpe(s, "1.1.1w"), "cpe:2.3:a:openssl:openssl:1.1.1w:*:*:*:*:*:*:*");
  EXPECT_EQ(make_cpe(s, "2.4.9+1"), "cpe:2.3:a:openssl:openssl:2.4.9\\+1:*:*:*:*:*:*:*");
  EXPECT_EQ(make_purl(s, "1.0+x"), "pkg:generic/openssl@1.0%2Bx");
}

TEST(Signatures, LongestMatchAndSeveralVersionsInOneBuffer) {
  // Two copies of OpenSSL in one blob (statically linked twice): two hits.
  const auto got = found(lit("xx OpenSSL 1.0.2u  20 Dec 2019\0yy OpenSSL 3.0.11 19 Sep 2023"));
  const std::set<std::pair<std::string, std::string>> want{{"openssl", "1.0.2u"},
                                                           {"openssl", "3.0.11"}};
  EXPECT_EQ(got, want);
}

TEST(Signatures, APreciseVersionRefinesALessPreciseOneInTheSameFile) {
  // sshd: SSH_VERSION and SSH_RELEASE.
  EXPECT_EQ(found(lit("OpenSSH_9.2\0%s, %s\n\0OpenSSH_9.2p1 Debian-2+deb12u10")),
            (std::set<std::pair<std::string, std::string>>{{"openssh", "9.2p1"}}));
  // Two different releases stay two.
  EXPECT_EQ(
      found(lit("OpenSSL 3.0.1 14 Dec 2021\0OpenSSL 3.0.11 19 Sep 2023")),
      (std::set<std::pair<std::string, std::string>>{{"openssl", "3.0.1"}, {"openssl", "3.0.11"}}));
}

TEST(Signatures, HintedPatternsNeedTheFileName) {
  Identifier::Scanner scanner(identifier());
  const std::string blob(
      "\0"
      "10.42 2022-12-11\0",
      18);
  const auto* p = reinterpret_cast<const std::uint8_t*>(blob.data());
  EXPECT_TRUE(scanner.scan({p, blob.size()}, std::string_view("libfoo.so")).empty());
  const auto hits = scanner.scan({p, blob.size()}, std::string_view("libpcre2-8.so.0.11.2"));
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].version, "10.42");
}

TEST(Signatures, ContextLiteralsSeparateCopiesFromHeaderText) {
  Identifier::Scanner scanner(identifier());
  // hostapd built against OpenSSL 3.0.16 headers: the version text alone is not a copy.
  const std::string header_only = "OpenSSL: compiled with OpenSSL 3.0.16 11 Feb 2025";
  const auto* p = reinterpret_cast<const std::uint8_t*>(header_only.data());
  EXPECT_TRUE(scanner.scan({p, header_only.size()}, std::string_view("hostapd")).empty());
  // A static copy of libcrypto carries OpenSSL_version()'s other texts.
  const std::string copy = header_only + lit("\0OPENSSLDIR: \"/usr/lib/ssl\"");
  p = reinterpret_cast<const std::uint8_t*>(copy.data());
  const auto hits = scanner.scan({p, copy.size()}, std::string_view("hostapd"));
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].version, "3.0.16");
}

TEST(Signatures, EverySymbolVersionTestYieldsItsBoundAndNoOtherProductClaimsTheNode) {
  // Each [node, bound] case: the product's own symbol_versions give exactly the bound; no other
  // product's sonames or symbol_versions match the node (two products never share one).
  std::size_t cases = 0, sonames = 0;
  const auto& sigs = identifier().signatures();
  for (const auto& s : sigs) {
    sonames += s.sonames.size();
    for (const auto& t : s.symbol_version_tests) {
      ++cases;
      std::optional<std::string> got;
      for (const auto& r : s.symbol_versions)
        if (!got) got = symbol_version_bound(std::regex(r), t.input);
      EXPECT_EQ(got, t.version) << s.id << " on " << t.input;
      for (const auto& o : sigs) {
        if (o.id == s.id) continue;
        for (const auto& r : o.symbol_versions)
          EXPECT_FALSE(symbol_version_bound(std::regex(r), t.input))
              << o.id << " claims " << t.input;
      }
    }
  }
  EXPECT_GE(cases, 10u);
  EXPECT_GE(sonames, 30u);
}

TEST(Signatures, SymbolVersionsNeedTheirTests) {
  const auto dir = std::filesystem::temp_directory_path() / "probity-sig-symver-test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "a.toml") << "[[product]]\nid = \"z\"\nvendor = \"z\"\n"
                                   "symbol_versions = ['Z_(\\d+)']\n";
  auto r = load_signatures(dir);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("symbol_version_tests"), std::string::npos) << r.error().message;
  std::ofstream(dir / "a.toml") << "[[product]]\nid = \"z\"\nvendor = \"z\"\n"
                                   "sonames = ['libz\\.so\\.(']\n";
  EXPECT_FALSE(load_signatures(dir).has_value()) << "a broken soname regex is an error";
  std::filesystem::remove_all(dir);
}

TEST(Signatures, RejectsBrokenEntries) {
  Signature s;
  s.id = "x";
  s.vendor = "x";
  s.versions.push_back({"x (\\d+", false});
  EXPECT_FALSE(Identifier::create({s}).has_value());
}

}  // namespace
}  // namespace probity
