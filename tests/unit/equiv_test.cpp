// Unit tests of src/equiv: the line diff (against GNU diff), byte ranges, the ELF masker (on the
// real Debian armhf binaries of the equiv fixture) and the output formats' structure.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "probity/equiv.hpp"
#include "probity/hash.hpp"
#include "probity/tlog.hpp"

namespace probity {
namespace {

namespace fs = std::filesystem;

std::vector<std::uint8_t> read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Applies a unified diff produced by unified_line_diff to `a` (hunks in order).
std::string apply_diff(const std::string& a, const std::string& diff) {
  std::vector<std::string> la, out;
  std::istringstream ia(a);
  for (std::string l; std::getline(ia, l);) la.push_back(l);
  std::istringstream id(diff);
  std::size_t next = 0;  // next line of a not yet copied
  for (std::string l; std::getline(id, l);) {
    if (l.starts_with("--- ") || l.starts_with("+++ ")) continue;
    if (l.starts_with("@@")) {
      std::size_t start = 0, count = 0;
      EXPECT_EQ(std::sscanf(l.c_str(), "@@ -%zu,%zu", &start, &count), 2) << l;
      const std::size_t first = count ? start - 1 : start;
      while (next < first) out.push_back(la[next++]);
      continue;
    }
    if (l[0] == ' ') {
      EXPECT_EQ(la.at(next), l.substr(1));
      out.push_back(la[next++]);
    } else if (l[0] == '-') {
      EXPECT_EQ(la.at(next), l.substr(1));
      ++next;
    } else if (l[0] == '+') {
      out.push_back(l.substr(1));
    }
  }
  while (next < la.size()) out.push_back(la[next++]);
  std::string r;
  for (const auto& l : out) r += l + "\n";
  return r;
}

TEST(EquivLineDiff, EqualTextsHaveNoDiff) {
  EXPECT_EQ(unified_line_diff("a\nb\n", "a\nb\n", "x", "y"), "");
}

TEST(EquivLineDiff, OneChangedLineWithContext) {
  const auto d = unified_line_diff("1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\n2\n3\n4\nX\n6\n7\n8\n9\n",
                                   "shipped/f", "rebuilt/f");
  EXPECT_EQ(d, "--- shipped/f\n+++ rebuilt/f\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+X\n 6\n 7\n 8\n");
}

TEST(EquivLineDiff, MatchesGnuDiffOnRandomTexts) {
  std::mt19937 rng(42);
  const fs::path dir = fs::temp_directory_path() / ("probity-linediff-" + std::to_string(getpid()));
  fs::create_directories(dir);
  for (int round = 0; round < 40; ++round) {
    std::string a, b;
    const int n = 5 + int(rng() % 60);
    for (int i = 0; i < n; ++i) {
      const std::string line = "line " + std::to_string(rng() % 12);
      a += line + "\n";
      const int r = int(rng() % 10);
      if (r == 0) continue;  // deleted
      if (r == 1)
        b += "new " + std::to_string(rng() % 5) + "\n";  // replaced
      else
        b += line + "\n";
      if (r == 2) b += "inserted\n";
    }
    const auto d = unified_line_diff(a, b, "a", "b");
    ASSERT_EQ(apply_diff(a, d), b) << d;
    // Minimal: as many changed lines as GNU diff --minimal finds.
    std::ofstream(dir / "a") << a;
    std::ofstream(dir / "b") << b;
    const std::string cmd = "diff --minimal -U0 '" + (dir / "a").string() + "' '" +
                            (dir / "b").string() + "' | grep -c '^[-+][^-+]\\|^[-+]$'";
    FILE* p = popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    long gnu = 0;
    ASSERT_EQ(std::fscanf(p, "%ld", &gnu), 1);
    pclose(p);
    long ours = 0;
    std::istringstream in(d);
    for (std::string l; std::getline(in, l);)
      if ((l[0] == '-' || l[0] == '+') && !l.starts_with("--- ") && !l.starts_with("+++ ")) ++ours;
    EXPECT_EQ(ours, gnu) << d;
  }
  fs::remove_all(dir);
}

TEST(EquivLineDiff, CappedWithMarker) {
  std::string a, b;
  for (int i = 0; i < 100; ++i) {
    a += "a" + std::to_string(i) + "\n";
    b += "b" + std::to_string(i) + "\n";
  }
  const auto d = unified_line_diff(a, b, "a", "b", 10);
  EXPECT_NE(d.find("more lines"), std::string::npos);
  EXPECT_EQ(std::count(d.begin(), d.end(), '\n'), 11);
}

TEST(EquivRanges, MergesNearbyAndCountsTail) {
  std::vector<std::uint8_t> a(1000, 7), b(1000, 7);
  b[10] = 1;
  b[14] = 1;   // within 8 of the first: merged
  b[500] = 1;  // separate
  std::uint64_t total = 0;
  auto r = differing_ranges(a, b, 10, &total);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].offset, 10u);
  EXPECT_EQ(r[0].length, 5u);
  EXPECT_EQ(r[1].offset, 500u);
  EXPECT_EQ(total, 2u);
  b.resize(1200, 0);
  r = differing_ranges(a, b, 1, &total);
  EXPECT_EQ(r.size(), 1u);
  EXPECT_EQ(total, 3u);  // the 200 extra bytes are one more range
  EXPECT_TRUE(differing_ranges(a, a, 10).empty());
}

TEST(EquivRanges, HexdumpDiffShowsTheChangedRowWithContext) {
  std::vector<std::uint8_t> a(100), b;
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = std::uint8_t('A' + i % 26);
  b = a;
  b[40] = 'z';
  const auto d = hexdump_diff(a, b, differing_ranges(a, b, 10), 0x1000);
  EXPECT_EQ(d.rfind("@@ -1,3 +1,3 @@\n", 0), 0u) << d;
  EXPECT_NE(d.find("\n 00001010: "), std::string::npos) << d;
  EXPECT_NE(d.find("\n-00001020: "), std::string::npos) << d;
  EXPECT_NE(d.find("\n+00001020: "), std::string::npos) << d;
  EXPECT_NE(d.find("\n 00001030: "), std::string::npos) << d;
  EXPECT_EQ(d.find("00001000"), std::string::npos) << d;  // only one row of context
  EXPECT_EQ(hexdump_diff(a, a, {}), "");
}

// ---- ELF, on genuine Debian armhf binaries from the equiv fixture ------------------------------

fs::path rootfs() {
  return fs::path(PROBITY_FIXTURES_DIR) / "equiv" / "base.bin.work" / "rootfs";
}

// Offset and length of a section's bytes, by readelf (an independent parser).
std::pair<std::uint64_t, std::uint64_t> section(const fs::path& elf, const std::string& name) {
  const std::string cmd = "readelf -SW '" + elf.string() + "' | awk '$2 == \"" + name +
                          "\" {print $5, $6} $3 == \"" + name + "\" {print $6, $7}'";
  FILE* p = popen(cmd.c_str(), "r");
  char off[32] = {}, size[32] = {};
  const int n = std::fscanf(p, "%31s %31s", off, size);
  pclose(p);
  if (n != 2) return {0, 0};
  return {std::stoull(off, nullptr, 16), std::stoull(size, nullptr, 16)};
}

TEST(EquivElf, BuildIdAndDebugLinkCrcAreMaskedAndNothingElse) {
  const auto path = rootfs() / "usr/sbin/dropbear";
  if (!fs::exists(path)) GTEST_SKIP() << "run tests/fixtures/make-equiv-pair.sh";
  const auto a = read_all(path);
  auto b = a;
  const auto [note_off, note_size] = section(path, ".note.gnu.build-id");
  const auto [link_off, link_size] = section(path, ".gnu_debuglink");
  ASSERT_EQ(note_size, 36u);  // 16-byte header + 20-byte SHA-1 descriptor
  ASSERT_GE(link_size, 8u);
  for (std::uint64_t i = note_off + 16; i < note_off + 36; ++i) b[i] ^= 0x5a;
  for (std::uint64_t i = link_off + link_size - 4; i < link_off + link_size; ++i) b[i] ^= 0x5a;
  auto c = compare_elf(a, b);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->build_id_bytes, 20u);
  EXPECT_EQ(c->debuglink_bytes, 4u);
  EXPECT_TRUE(c->sections.empty());
  // One more byte in the note's header (its type) is not masked.
  b[note_off + 8] ^= 1;
  c = compare_elf(a, b);
  ASSERT_TRUE(c);
  ASSERT_EQ(c->sections.size(), 1u);
  EXPECT_EQ(c->sections[0].section, ".note.gnu.build-id");
  // The debug link's file name is not masked either.
  b = a;
  b[link_off] ^= 1;
  c = compare_elf(a, b);
  ASSERT_EQ(c->sections.size(), 1u);
  EXPECT_EQ(c->sections[0].section, ".gnu_debuglink");
  EXPECT_EQ(c->debuglink_bytes, 0u);
}

TEST(EquivElf, TextByteNamesSectionAndDynamicSymbol) {
  const auto path = rootfs() / "lib/arm-linux-gnueabihf/libz.so.1.2.13";
  if (!fs::exists(path)) GTEST_SKIP() << "run tests/fixtures/make-equiv-pair.sh";
  const auto a = read_all(path);
  // deflate's address and size from readelf's dynamic symbol table (Thumb bit cleared).
  FILE* p = popen(("readelf --dyn-syms -W '" + path.string() +
                   "' | awk '$8 == \"deflate\" && $4 == \"FUNC\" {print $2, $3}'")
                      .c_str(),
                  "r");
  char value[32] = {};
  unsigned long size = 0;
  ASSERT_EQ(std::fscanf(p, "%31s %lu", value, &size), 2);
  pclose(p);
  const std::uint64_t addr = std::stoull(value, nullptr, 16) & ~1ull;
  const auto [text_off, text_size] = section(path, ".text");
  ASSERT_GT(text_size, 0u);
  // In a shared library .text's address equals its file offset.
  const std::uint64_t where = addr + size / 2;
  ASSERT_GE(where, text_off);
  auto b = a;
  b[where] ^= 0x01;
  const auto c = compare_elf(a, b);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->symbol_table, ".dynsym");
  ASSERT_EQ(c->sections.size(), 1u);
  EXPECT_EQ(c->sections[0].section, ".text");
  ASSERT_EQ(c->sections[0].ranges.size(), 1u);
  EXPECT_EQ(c->sections[0].ranges[0].offset, where);
  EXPECT_EQ(c->sections[0].ranges[0].length, 1u);
  EXPECT_EQ(c->sections[0].symbols, std::vector<std::string>{"deflate"});
  // A byte of the ELF header (e_flags) is named as such.
  b = a;
  b[0x24] ^= 1;
  const auto h = compare_elf(a, b);
  ASSERT_EQ(h->sections.size(), 1u);
  EXPECT_EQ(h->sections[0].section, "ELF header");
}

TEST(EquivElf, NotElfAndTruncatedAreRefused) {
  std::vector<std::uint8_t> junk(4096, 0x41);
  EXPECT_FALSE(compare_elf(junk, junk));
  const auto path = rootfs() / "lib/arm-linux-gnueabihf/libz.so.1.2.13";
  if (!fs::exists(path)) GTEST_SKIP();
  auto a = read_all(path);
  auto b = a;
  b.resize(b.size() / 3);  // section table and most sections gone: no crash, layouts differ
  const auto c = compare_elf(a, b);
  if (c) {
    EXPECT_FALSE(c->same_layout);
  }
}

// ---- outputs ------------------------------------------------------------------------------------

Equivalence sample(EquivVerdict v) {
  Equivalence e;
  e.shipped = {"/x/a.bin", "a.bin", std::string(64, 'a'), 10};
  e.rebuilt = {"/x/b.bin", "b.bin", std::string(64, 'b'), 11};
  e.verdict = v;
  e.normalisations.push_back({"fs-timestamps", "squashfs#1", 8, "two mtimes", std::nullopt});
  if (v == EquivVerdict::kDifferent) {
    e.differences.push_back({.path = "etc/passwd",
                             .kind = "text",
                             .explanation = "text differs",
                             .unified_diff = "--- a\n+++ b\n@@ -1,1 +1,1 @@\n-x\n+y\n"});
    e.differences_total = 1;
  }
  return e;
}

TEST(EquivOutputs, JsonHasTheContractFields) {
  const auto j = equiv_json(sample(EquivVerdict::kDifferent));
  EXPECT_EQ(j["verdict"], "different");
  EXPECT_EQ(j["normalisations"][0]["rule"], "fs-timestamps");
  EXPECT_EQ(j["normalisations"][0]["bytes"], 8);
  EXPECT_EQ(j["differences"][0]["path"], "etc/passwd");
  EXPECT_EQ(j["differences"][0]["kind"], "text");
  EXPECT_TRUE(j["differences"][0].contains("explanation"));
  EXPECT_TRUE(j["differences"][0].contains("unified_diff"));
}

TEST(EquivOutputs, DiffoscopeJsonStripsHeadersAndNests) {
  const auto j = equiv_diffoscope_json(sample(EquivVerdict::kDifferent));
  EXPECT_EQ(j["diffoscope-json-version"], 1);
  EXPECT_EQ(j["source1"], "a.bin");
  EXPECT_TRUE(j["unified_diff"].is_null());
  ASSERT_EQ(j["details"].size(), 1u);
  EXPECT_EQ(j["details"][0]["source1"], "etc/passwd");
  EXPECT_EQ(j["details"][0]["unified_diff"], "@@ -1,1 +1,1 @@\n-x\n+y\n");
}

TEST(EquivOutputs, SlsaVsaNamesBothDigestsAndResult) {
  for (auto v : {EquivVerdict::kEquivalent, EquivVerdict::kDifferent}) {
    const auto j = equiv_slsa_vsa(sample(v), "2026-01-01T00:00:00Z");
    EXPECT_EQ(j["_type"], "https://in-toto.io/Statement/v1");
    EXPECT_EQ(j["predicateType"], "https://slsa.dev/verification_summary/v1");
    EXPECT_EQ(j["subject"][0]["digest"]["sha256"], std::string(64, 'a'));
    const auto& p = j["predicate"];
    EXPECT_EQ(p["rebuiltImage"]["digest"]["sha256"], std::string(64, 'b'));
    EXPECT_EQ(p["timeVerified"], "2026-01-01T00:00:00Z");
    EXPECT_EQ(p["verificationResult"], v == EquivVerdict::kDifferent ? "FAILED" : "PASSED");
    EXPECT_EQ(p["verifiedLevels"][0],
              v == EquivVerdict::kDifferent ? "FAILED" : "PROBITY_REBUILD_EQUIVALENT");
    EXPECT_EQ(p["policy"]["digest"]["sha256"].get<std::string>().size(), 64u);
  }
}

TEST(EquivOutputs, HtmlEmbedsDataSafely) {
  auto e = sample(EquivVerdict::kDifferent);
  e.differences[0].explanation = "</script><script>alert(1)</script>";
  const auto html = equiv_html(e);
  EXPECT_EQ(html.find("</script><script>alert"), std::string::npos);
  EXPECT_NE(html.find("equiv-data"), std::string::npos);
}

// usign keys and signatures made here with OpenSSL in usign's file format.
TEST(EquivUsign, VerifiesRejectsAndNamesTheKey) {
  EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  ASSERT_NE(pkey, nullptr);
  std::array<std::uint8_t, 32> pub{};
  std::size_t n = pub.size();
  ASSERT_EQ(EVP_PKEY_get_raw_public_key(pkey, pub.data(), &n), 1);
  const std::string message = "firmware bytes before the signature block";
  std::array<std::uint8_t, 64> sig{};
  std::size_t sn = sig.size();
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ASSERT_EQ(EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, pkey), 1);
  ASSERT_EQ(EVP_DigestSign(ctx, sig.data(), &sn,
                           reinterpret_cast<const unsigned char*>(message.data()), message.size()),
            1);
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(pkey);
  const std::vector<std::uint8_t> id = {1, 2, 3, 4, 5, 6, 7, 8};
  auto file = [&](std::span<const std::uint8_t> body) {
    std::vector<std::uint8_t> raw = {'E', 'd'};
    raw.insert(raw.end(), id.begin(), id.end());
    raw.insert(raw.end(), body.begin(), body.end());
    return "untrusted comment: test\n" + tlog::base64_encode(raw) + "\n";
  };
  auto key = parse_usign_key(file(pub), "test.pub");
  ASSERT_TRUE(key) << key.error().to_string();
  EXPECT_EQ(key->source, "test.pub");
  const std::vector<UsignKey> keys = {*key};
  const auto msg = std::span(reinterpret_cast<const std::uint8_t*>(message.data()), message.size());
  std::string seen;
  EXPECT_EQ(verify_usign(file(sig), msg, keys, &seen), UsignResult::kVerified);
  EXPECT_EQ(seen, "0102030405060708");
  std::string other = message;
  other.back() ^= 1;
  EXPECT_EQ(verify_usign(
                file(sig),
                std::span(reinterpret_cast<const std::uint8_t*>(other.data()), other.size()), keys),
            UsignResult::kBadSignature);
  auto bad_sig = sig;
  bad_sig[10] ^= 0x40;
  EXPECT_EQ(verify_usign(file(bad_sig), msg, keys), UsignResult::kBadSignature);
  UsignKey stranger = *key;
  stranger.id[0] ^= 0xff;
  EXPECT_EQ(verify_usign(file(sig), msg, std::vector<UsignKey>{stranger}),
            UsignResult::kUnknownKey);
  EXPECT_EQ(verify_usign("untrusted comment: x\nnot base64!\n", msg, keys),
            UsignResult::kMalformed);
  EXPECT_EQ(verify_usign(file(pub), msg, keys), UsignResult::kMalformed)
      << "a key is not a signature";
  EXPECT_FALSE(parse_usign_key(file(sig)));
  EXPECT_FALSE(parse_usign_key("-----BEGIN PUBLIC KEY-----\n"));
}

}  // namespace
}  // namespace probity
