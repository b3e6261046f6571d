// `probity equiv` on the pairs of tests/fixtures/make-equiv-pair.sh (one router image built
// several times from the same real Debian armhf files), cross-checked with Debian's diffoscope;
// equiv.json against its schema, the diffoscope JSON loaded by diffoscope, the in-toto
// statement's structure, equiv.html in headless Chromium.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "cli_support.hpp"

namespace probity::testing {
namespace {

namespace fs = std::filesystem;

std::string fmt_row(std::uint64_t offset) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%08llx:", static_cast<unsigned long long>(offset / 16 * 16));
  return buf;
}

fs::path eq(const std::string& name) {
  return fixture("equiv/" + name);
}

bool have_fixtures() {
  return fs::exists(eq("a.bin")) && fs::exists(eq("g.bin")) && fs::exists(eq("key-two.pub"));
}

bool have(const char* tool) {
  return run_command(std::string("command -v ") + tool + " >/dev/null").exit_code == 0;
}

struct EquivRun {
  RunResult run;
  nlohmann::json json;
};

EquivRun equiv(const Scratch& s, const std::string& a, const std::string& b,
               const std::string& extra = "") {
  EquivRun r;
  r.run = run_probity("equiv '" + eq(a).string() + "' '" + eq(b).string() + "' --out '" +
                      (s.path() / "out").string() + "' " + extra);
  r.json = read_json(s.path() / "out" / "equiv.json");
  return r;
}

std::set<std::string> rules(const nlohmann::json& j) {
  std::set<std::string> out;
  for (const auto& n : j["normalisations"]) {
    EXPECT_GT(n["bytes"].get<std::uint64_t>(), 0u) << n.dump();
    out.insert(n["rule"].get<std::string>());
  }
  return out;
}

// Every file diffoscope's JSON report names below the squashfs level (paths start with '/').
void diffoscope_paths(const nlohmann::json& node, std::set<std::string>& out, bool root = true) {
  const auto s = node.value("source1", std::string());
  if (!root && !s.empty() && s[0] == '/') out.insert(s.substr(1));
  if (node.contains("details"))
    for (const auto& d : node["details"]) diffoscope_paths(d, out, false);
}

TEST(EquivCli, SameBytesAreIdenticalWithoutUnpacking) {
  if (!have_fixtures()) GTEST_SKIP() << "run tests/fixtures/make-equiv-pair.sh";
  Scratch s("equiv-aa");
  const auto r = equiv(s, "a.bin", "a2.bin", "-q");
  ASSERT_EQ(r.run.exit_code, 0) << r.run.output;
  EXPECT_EQ(r.json["verdict"], "identical");
  EXPECT_TRUE(r.json["normalisations"].empty());
  EXPECT_TRUE(r.json["differences"].empty());
  EXPECT_FALSE(fs::exists(s.path() / "out" / "shipped"));
}

TEST(EquivCli, RebuildWithOtherTimesCompressionAndBuildIdsIsEquivalent) {
  if (!have_fixtures()) GTEST_SKIP() << "run tests/fixtures/make-equiv-pair.sh";
  Scratch s("equiv-ab");
  const auto r = equiv(s, "a.bin", "b.bin", "-q");
  ASSERT_EQ(r.run.exit_code, 0) << r.run.output << r.json.dump(2);
  EXPECT_EQ(r.json["verdict"], "equivalent");
  EXPECT_TRUE(r.json["differences"].empty()) << r.json["differences"].dump(2);
  const auto got = rules(r.json);
  for (const char* want :
       {"fs-timestamps", "compression-layout", "uimage-header-time", "uimage-header-crc",
        "gzip-header-time", "elf-build-id", "elf-debuglink-crc"})
    EXPECT_TRUE(got.contains(want)) << want << " missing in " << r.json["normalisations"].dump(2);
  // Both squashfs images list the same tree in the same (sorted) order: no inode-order, however
  // the extraction threads interleave (the entry order is the directory walk's).
  EXPECT_FALSE(got.contains("inode-order")) << r.json["normalisations"].dump(2);
  // The masked ELF fields are on the binary whose build-id and debug link were changed.
  for (const auto& n : r.json["normalisations"])
    if (n["rule"] == "elf-build-id") {
      EXPECT_EQ(n["path"], "usr/sbin/dropbear");
    }
  // fs-timestamps: 4 bytes per squashfs entry time, plus the superblock time.
  for (const auto& n : r.json["normalisations"])
    if (n["rule"] == "fs-timestamps") {
      EXPECT_EQ(n["bytes"].get<int>() % 4, 0);
    }
}

// An equivalence is a claim about every byte: a cap that left content unextracted makes it
// inconclusive (exit 3), never equivalent (issue 11).
TEST(EquivCli, ACapThatHidContentMakesEquivalenceInconclusive) {
  if (!have_fixtures()) GTEST_SKIP() << "run tests/fixtures/make-equiv-pair.sh";
  for (const char* cap : {"--max-files 20", "--max-depth 2"}) {
    SCOPED_TRACE(cap);
    Scratch s("equiv-cap");
    const auto r = equiv(s, "a.bin", "b.bin", std::string("-q ") + cap);
    EXPECT_EQ(r.run.exit_code, 3) << r.run.output << r.json.dump(2);
    EXPECT_NE(r.run.output.find("INCONCLUSIVE"), std::string::npos) << r.run.output;
    bool said = false;
    for (const auto& w : r.json["warnings"])
      said |= w.get<std::string>().find("equivalence is unproven") != std::string::npos;
    EXPECT_TRUE(said) << r.json["warnings"].dump(2);
  }
}

TEST(EquivCli, OneChangedByteNamesFileSectionAndSymbol) {
  if (!have_fixtures()) GTEST_SKIP() << "run tests/fixtures/make-equiv-pair.sh";
  const auto expected = read_json(eq("c.expected.json"));
  Scratch s("equiv-ac");
  const auto dj = s.path() / "diffoscope.json";
  const auto vsa = s.path() / "vsa.json";
  const auto r = equiv(s, "a.bin", "c.bin",
                       "-q --diffoscope-json '" + dj.string() + "' --slsa '" + vsa.string() + "'");
  ASSERT_EQ(r.run.exit_code, 1) << r.run.output;
  EXPECT_EQ(r.json["verdict"], "different");
  ASSERT_EQ(r.json["differences"].size(), 1u) << r.json["differences"].dump(2);
  const auto& d = r.json["differences"][0];
  EXPECT_EQ(d["path"], expected["path"]);
  EXPECT_EQ(d["kind"], "elf-section");
  EXPECT_EQ(d["section"], expected["section"]);
  EXPECT_EQ(d["symbols"], nlohmann::json::array({expected["symbol"]}));
  ASSERT_EQ(d["ranges"].size(), 1u);
  EXPECT_EQ(d["ranges"][0]["offset"], expected["offset"]);
  EXPECT_EQ(d["ranges"][0]["length"], 1);
  // The changed row as diffoscope shows binaries: xxd-style, the row holding the byte.
  const auto row = fmt_row(expected["offset"].get<std::uint64_t>());
  EXPECT_NE(d["hexdump_diff"].get<std::string>().find("\n-" + row), std::string::npos) << d;
  EXPECT_NE(d["hexdump_diff"].get<std::string>().find("\n+" + row), std::string::npos) << d;
  // The same normalisations as a/b still apply (c is b plus one byte).
  EXPECT_TRUE(rules(r.json).contains("elf-build-id"));

  // The in-toto statement: both digests, FAILED.
  const auto st = read_json(vsa);
  EXPECT_EQ(st["_type"], "https://in-toto.io/Statement/v1");
  EXPECT_EQ(st["subject"][0]["digest"]["sha256"], r.json["shipped"]["sha256"]);
  EXPECT_EQ(st["predicate"]["rebuiltImage"]["digest"]["sha256"], r.json["rebuilt"]["sha256"]);
  EXPECT_EQ(st["predicate"]["verificationResult"], "FAILED");

  // diffoscope loads our JSON and renders HTML from it.
  if (!have("diffoscope")) GTEST_SKIP() << "diffoscope missing (scripts/deps.sh)";
  const auto html = s.path() / "dj.html";
  const auto load = run_command("diffoscope --load-existing-diff '" + dj.string() + "' --html '" +
                                html.string() + "'");
  EXPECT_EQ(load.exit_code, 1) << load.output;  // 1: differences present
  ASSERT_TRUE(fs::exists(html));
  std::ifstream in(html);
  const std::string text{std::istreambuf_iterator<char>(in), {}};
  EXPECT_NE(text.find(expected["path"].get<std::string>()), std::string::npos);
  EXPECT_NE(text.find("deflate"), std::string::npos);
}

TEST(EquivCli, VendorSignatureBlocksAreRecognisedAndMetadataIsNot) {
  if (!have_fixtures()) GTEST_SKIP() << "run tests/fixtures/make-equiv-pair.sh";
  {
    Scratch s("equiv-de");
    const auto r = equiv(s, "d.bin", "e.bin", "-q");
    ASSERT_EQ(r.run.exit_code, 0) << r.run.output << r.json.dump(2);
    EXPECT_EQ(r.json["verdict"], "equivalent");
    int sig = 0;
    for (const auto& n : r.json["normalisations"])
      if (n["rule"] == "vendor-signature") {
        ++sig;
        ASSERT_TRUE(n.contains("verified"));
        // The usign signature is not verified (no key); the trailer CRC is, on each side.
        const auto path = n["path"].get<std::string>();
        EXPECT_EQ(n["verified"], path.ends_with("fwtool-trailer-crc")) << path;
      }
    EXPECT_EQ(sig, 2);
  }
  Scratch s("equiv-df");
  const auto r = equiv(s, "d.bin", "f.bin", "-q");
  ASSERT_EQ(r.run.exit_code, 1) << r.run.output;
  ASSERT_EQ(r.json["differences"].size(), 1u) << r.json["differences"].dump(2);
  EXPECT_EQ(r.json["differences"][0]["kind"], "text");
  const auto diff = r.json["differences"][0]["unified_diff"].get<std::string>();
  EXPECT_NE(diff.find("-{\"metadata_version\""), std::string::npos) << diff;
  EXPECT_NE(diff.find("23.05.4"), std::string::npos) << diff;
}

// With --vendor-key, each image's usign signature must verify with one of the keys (the fixture's
// signatures are real Ed25519, made with OpenSSL over the bytes before the signature block).
TEST(EquivCli, VendorKeysVerifyUsignSignatures) {
  if (!have_fixtures()) GTEST_SKIP() << "run tests/fixtures/make-equiv-pair.sh";
  const std::string both = "-q --vendor-key '" + eq("key-one.pub").string() + "' --vendor-key '" +
                           eq("key-two.pub").string() + "'";
  {
    Scratch s("equiv-keys-de");
    const auto r = equiv(s, "d.bin", "e.bin", both);
    ASSERT_EQ(r.run.exit_code, 0) << r.run.output << r.json.dump(2);
    EXPECT_EQ(r.json["verdict"], "equivalent");
    int verified = 0;
    for (const auto& n : r.json["normalisations"])
      if (n["rule"] == "vendor-signature") {
        EXPECT_EQ(n["verified"], true) << n.dump();
        verified += n["path"].get<std::string>().ends_with("fwtool-signature");
      }
    EXPECT_EQ(verified, 1);
  }
  auto signature_differences = [](const nlohmann::json& j) {
    std::vector<std::string> out;
    for (const auto& d : j["differences"])
      if (d["kind"] == "signature") out.push_back(d["explanation"]);
    return out;
  };
  {
    // g.bin: e.bin's content, its signature made over other bytes.
    Scratch s("equiv-keys-dg");
    const auto r = equiv(s, "d.bin", "g.bin", both);
    ASSERT_EQ(r.run.exit_code, 1) << r.run.output;
    const auto sig = signature_differences(r.json);
    ASSERT_EQ(sig.size(), 1u) << r.json["differences"].dump(2);
    EXPECT_NE(sig[0].find("rebuilt image does not verify"), std::string::npos) << sig[0];
    // Without keys the same pair is equivalent: the signature is recognised, not verified.
    Scratch t("equiv-nokeys-dg");
    const auto u = equiv(t, "d.bin", "g.bin", "-q");
    EXPECT_EQ(u.run.exit_code, 0) << u.run.output;
  }
  {
    // Only d.bin's key: e.bin is signed by a key that is not the vendor's.
    Scratch s("equiv-keys-one");
    const auto r =
        equiv(s, "d.bin", "e.bin", "-q --vendor-key '" + eq("key-one.pub").string() + "'");
    ASSERT_EQ(r.run.exit_code, 1) << r.run.output;
    const auto sig = signature_differences(r.json);
    ASSERT_EQ(sig.size(), 1u);
    EXPECT_NE(sig[0].find("rebuilt image is signed by key"), std::string::npos) << sig[0];
  }
  Scratch s("equiv-badkey");
  EXPECT_EQ(
      run_probity("equiv '" + eq("d.bin").string() + "' '" + eq("e.bin").string() + "' --out '" +
                  (s.path() / "o").string() + "' --vendor-key '" + eq("d.bin").string() + "'")
          .exit_code,
      2);
}

// FIT images rebuilt with another timestamp, gzip MTIME and initramfs entry order: equivalent
// (the reordering named as inode-order),
// with the hash values masked because the payloads compared equivalent; a changed initramfs file
// or load address is named (tests/fixtures/make-equiv-pair.sh, h/i/j/k.itb).
TEST(EquivCli, FitRebuildIsEquivalentAndRealChangesAreNamed) {
  if (!have_fixtures() || !fs::exists(eq("k.itb")))
    GTEST_SKIP() << "run tests/fixtures/make-equiv-pair.sh";
  {
    Scratch s("equiv-hi");
    const auto r = equiv(s, "h.itb", "i.itb", "-q");
    ASSERT_EQ(r.run.exit_code, 0) << r.run.output << r.json["differences"].dump(2);
    EXPECT_EQ(r.json["verdict"], "equivalent");
    const auto have = rules(r.json);
    // inode-order: the initramfs cpio lists its entries in another order.
    for (const char* rule : {"fit-timestamp", "fit-hash-value", "gzip-header-time", "inode-order"})
      EXPECT_TRUE(have.contains(rule)) << rule;
  }
  {
    Scratch s("equiv-hj");
    const auto r = equiv(s, "h.itb", "j.itb", "-q");
    ASSERT_EQ(r.run.exit_code, 1) << r.run.output;
    ASSERT_EQ(r.json["differences"].size(), 1u) << r.json["differences"].dump(2);
    const auto& d = r.json["differences"][0];
    EXPECT_TRUE(d["path"].get<std::string>().ends_with("etc/passwd")) << d.dump();
    EXPECT_EQ(d["kind"], "text");
    EXPECT_NE(d["unified_diff"].get<std::string>().find("+root:x:0:0:root:/root:/bin/sh"),
              std::string::npos);
  }
  Scratch s("equiv-hk");
  const auto r = equiv(s, "h.itb", "k.itb", "-q");
  ASSERT_EQ(r.run.exit_code, 1) << r.run.output;
  std::set<std::string> props;
  for (const auto& d : r.json["differences"]) {
    EXPECT_EQ(d["kind"], "header-field") << d.dump();
    props.insert(d["explanation"].get<std::string>());
  }
  EXPECT_EQ(props.size(), 2u);
  for (const auto& e : props)
    EXPECT_TRUE(e.find("/images/kernel-1/load") != std::string::npos ||
                e.find("/images/kernel-1/entry") != std::string::npos)
        << e;
}

// A legacy uImage of a gzip'd kernel built twice: every header time and CRC differs, each is
// masked by its rule; another load address is named.
TEST(EquivCli, UImageRebuildMasksTimesAndCrcsOnly) {
  if (!have_fixtures() || !fs::exists(eq("n.uImage")))
    GTEST_SKIP() << "run tests/fixtures/make-equiv-pair.sh";
  {
    Scratch s("equiv-lm");
    const auto r = equiv(s, "l.uImage", "m.uImage", "-q");
    ASSERT_EQ(r.run.exit_code, 0) << r.run.output << r.json["differences"].dump(2);
    const auto have = rules(r.json);
    for (const char* rule : {"uimage-header-time", "uimage-header-crc", "uimage-data-crc",
                             "gzip-header-time", "gzip-header-crc"})
      EXPECT_TRUE(have.contains(rule)) << rule << " in " << r.json["normalisations"].dump(2);
  }
  Scratch s("equiv-ln");
  const auto r = equiv(s, "l.uImage", "n.uImage", "-q");
  ASSERT_EQ(r.run.exit_code, 1) << r.run.output;
  std::set<std::string> fields;
  for (const auto& d : r.json["differences"]) {
    EXPECT_EQ(d["kind"], "header-field") << d.dump();
    fields.insert(d["explanation"].get<std::string>());
  }
  ASSERT_EQ(fields.size(), 2u) << r.json["differences"].dump(2);
  EXPECT_NE(fields.begin()->find("uImage header"), std::string::npos) << *fields.begin();
}

TEST(EquivCli, BadInputIsUsageError) {
  Scratch s("equiv-bad");
  EXPECT_EQ(run_probity("equiv /nonexistent/a.bin /nonexistent/b.bin --out '" +
                        (s.path() / "o1").string() + "'")
                .exit_code,
            2);
  EXPECT_EQ(run_probity("equiv '" + s.path().string() + "' '" + s.path().string() + "' --out '" +
                        (s.path() / "o2").string() + "'")
                .exit_code,
            2);
  EXPECT_EQ(run_probity("equiv onlyone --out x").exit_code, 2);
  if (!have_fixtures()) return;
  // A non-empty output directory is refused, not overwritten.
  fs::create_directories(s.path() / "full");
  std::ofstream(s.path() / "full" / "keep") << "x";
  EXPECT_EQ(run_probity("equiv '" + eq("a.bin").string() + "' '" + eq("b.bin").string() +
                        "' --out '" + (s.path() / "full").string() + "'")
                .exit_code,
            2);
}

TEST(EquivCli, JsonMatchesSchema) {
  if (!have_fixtures()) GTEST_SKIP() << "run tests/fixtures/make-equiv-pair.sh";
  const fs::path v = fs::path(PROBITY_SOURCE_DIR) / "tests" / "validators";
  if (!fs::exists(v / "node_modules" / "ajv")) GTEST_SKIP() << "run tests/validators/install.sh";
  for (const char* pair : {"a.bin c.bin", "d.bin f.bin", "a.bin b.bin"}) {
    Scratch s("equiv-schema");
    const std::string p(pair);
    const auto a = p.substr(0, p.find(' ')), b = p.substr(p.find(' ') + 1);
    const auto vsa = s.path() / "vsa.json";
    equiv(s, a, b, "-q --slsa '" + vsa.string() + "'");
    EXPECT_EQ(run_status("node '" + (v / "validate.mjs").string() + "' equiv '" +
                         (s.path() / "out" / "equiv.json").string() + "'"),
              0)
        << pair;
    EXPECT_EQ(run_status("node '" + (v / "validate.mjs").string() + "' vsa '" + vsa.string() + "'"),
              0)
        << pair;
  }
}

// Debian's diffoscope on the same pairs: it does not look inside a uImage+squashfs image, so
// the image verdicts are compared as a whole and the file-level findings on the root
// filesystems alone.
TEST(EquivCli, CrossCheckWithDiffoscope) {
  if (!have_fixtures()) GTEST_SKIP() << "run tests/fixtures/make-equiv-pair.sh";
  if (!have("diffoscope")) GTEST_SKIP() << "diffoscope missing (scripts/deps.sh)";
  Scratch s("equiv-diffoscope");
  auto dscope = [&](const std::string& a, const std::string& b, nlohmann::json* out) {
    const auto j = s.path() / "d.json";
    fs::remove(j);
    const auto r = run_command("diffoscope --json '" + j.string() + "' '" + eq(a).string() + "' '" +
                               eq(b).string() + "' >/dev/null");
    if (out) *out = read_json(j);
    return r.exit_code;
  };
  // Images: same bytes -> no differences; otherwise differences (diffoscope masks nothing).
  EXPECT_EQ(dscope("a.bin", "a2.bin", nullptr), 0);
  EXPECT_EQ(dscope("a.bin", "c.bin", nullptr), 1);
  // Root filesystems a/c: diffoscope's differing files include the one probity names.
  nlohmann::json ac;
  ASSERT_EQ(dscope("a.rootfs.squashfs", "c.rootfs.squashfs", &ac), 1);
  std::set<std::string> dpaths;
  diffoscope_paths(ac, dpaths);
  const auto expected = read_json(eq("c.expected.json"))["path"].get<std::string>();
  EXPECT_TRUE(dpaths.contains(expected)) << ac.dump(1).substr(0, 2000);
  // Root filesystems a/b: every file diffoscope reports as differing in content is one probity
  // explains by a normalisation (and probity reports no difference).
  nlohmann::json ab;
  ASSERT_EQ(dscope("a.rootfs.squashfs", "b.rootfs.squashfs", &ab), 1);
  std::set<std::string> dab;
  diffoscope_paths(ab, dab);
  Scratch t("equiv-ab2");
  const auto r = equiv(t, "a.bin", "b.bin", "-q");
  ASSERT_EQ(r.json["verdict"], "equivalent");
  std::set<std::string> explained;
  for (const auto& n : r.json["normalisations"]) {
    auto p = n["path"].get<std::string>();
    explained.insert(p.substr(0, p.find('!')));
  }
  EXPECT_FALSE(dab.empty());
  for (const auto& p : dab) EXPECT_TRUE(explained.contains(p)) << p << " not explained";
}

TEST(EquivCli, HtmlRendersInHeadlessChromium) {
  if (!have_fixtures()) GTEST_SKIP() << "run tests/fixtures/make-equiv-pair.sh";
  const fs::path browser = fs::path(PROBITY_SOURCE_DIR) / "tests" / "browser";
  if (!fs::exists(browser / "node_modules") || !fs::exists("/usr/bin/chromium"))
    GTEST_SKIP() << "run tests/browser/install.sh";
  Scratch s("equiv-html");
  equiv(s, "a.bin", "c.bin", "-q");
  const auto png = s.path() / "equiv.png";
  EXPECT_EQ(run_status("node '" + (browser / "render-equiv.mjs").string() + "' '" +
                       (s.path() / "out" / "equiv.html").string() + "' '" + png.string() + "'"),
            0);
  ASSERT_TRUE(fs::exists(png));
  EXPECT_GT(fs::file_size(png), 10000u);
}

}  // namespace
}  // namespace probity::testing
