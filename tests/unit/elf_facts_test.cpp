// ELF facts (src/identify/elf_facts.cpp): SONAME, DT_NEEDED and GNU symbol versions of real
// Debian armhf libraries (the checks fixture's rootfs), and hostile copies of them: truncated at
// every offset step, version chains pointed outside their section or given huge counts.
#include <gelf.h>
#include <gtest/gtest.h>
#include <libelf.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <set>

#include <unistd.h>

#include "identify/elf_facts.hpp"
#include "probity/artifact.hpp"
#include "probity/identify.hpp"

namespace probity::testing {
namespace {
namespace fs = std::filesystem;

const fs::path kRoot = fs::path(PROBITY_FIXTURES_DIR) / "checks/rootfs-clean";

std::vector<std::uint8_t> slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

bool has(const std::vector<std::string>& v, const std::string& x) {
  return std::ranges::find(v, x) != v.end();
}

/// File offset and header of the first section of `type` (read with libelf, as a test oracle).
std::optional<GElf_Shdr> section(std::vector<std::uint8_t>& bytes, std::uint32_t type) {
  elf_version(EV_CURRENT);
  Elf* e = elf_memory(reinterpret_cast<char*>(bytes.data()), bytes.size());
  std::optional<GElf_Shdr> out;
  for (Elf_Scn* s = nullptr; e && (s = elf_nextscn(e, s)) != nullptr;) {
    GElf_Shdr sh;
    if (gelf_getshdr(s, &sh) && sh.sh_type == type) {
      out = sh;
      break;
    }
  }
  if (e) elf_end(e);
  return out;
}

class ElfFacts : public ::testing::Test {
 protected:
  void SetUp() override {
    zlib_ = slurp(kRoot / "lib/arm-linux-gnueabihf/libz.so.1.2.13");
    ASSERT_GT(zlib_.size(), 1000u) << "run make fixtures (checks)";
  }
  std::vector<std::uint8_t> zlib_;
};

TEST_F(ElfFacts, ReadsSonameNeededAndSymbolVersionsOfRealLibraries) {
  auto z = elf::read_elf_facts(zlib_);
  ASSERT_TRUE(z);
  EXPECT_EQ(z->soname, "libz.so.1");
  EXPECT_TRUE(has(z->needed, "libc.so.6"));
  ASSERT_FALSE(z->defined_versions.empty());
  EXPECT_EQ(z->defined_versions.front(), "libz.so.1") << "the BASE node names the file";
  EXPECT_TRUE(has(z->defined_versions, "ZLIB_1.2.0"));
  EXPECT_TRUE(has(z->defined_versions, "ZLIB_1.2.9"));
  EXPECT_TRUE(std::ranges::any_of(z->needed_versions, [](const std::string& s) {
    return s.starts_with("libc.so.6 GLIBC_2.");
  }));
  EXPECT_FALSE(z->truncated);

  auto crypto = elf::read_elf_facts(slurp(kRoot / "usr/lib/arm-linux-gnueabihf/libcrypto.so.3"));
  ASSERT_TRUE(crypto);
  EXPECT_EQ(crypto->soname, "libcrypto.so.3");
  EXPECT_TRUE(has(crypto->defined_versions, "OPENSSL_3.0.0"));
  auto libc = elf::read_elf_facts(slurp(kRoot / "lib/arm-linux-gnueabihf/libc.so.6"));
  ASSERT_TRUE(libc);
  EXPECT_EQ(libc->soname, "libc.so.6");
  EXPECT_TRUE(has(libc->defined_versions, "GLIBC_2.4"));
  EXPECT_TRUE(libc->needed_versions.empty() || !has(libc->needed, "libc.so.6"));

  EXPECT_FALSE(elf::read_elf_facts(std::vector<std::uint8_t>(100, 'x')));
}

TEST_F(ElfFacts, SymbolVersionBoundIsTheCapturesJoined) {
  const std::regex z(R"(ZLIB_(\d+(?:\.\d+)+))");
  EXPECT_EQ(symbol_version_bound(z, "ZLIB_1.2.9"), "1.2.9");
  EXPECT_FALSE(symbol_version_bound(z, "ZLIB_1.2.9x")) << "the whole name must match";
  EXPECT_FALSE(symbol_version_bound(z, "libz.so.1"));
  const std::regex o(R"(OPENSSL_(\d+)_(\d+)_(\d+[a-z]?))");
  EXPECT_EQ(symbol_version_bound(o, "OPENSSL_1_1_0f"), "1.1.0f");
  EXPECT_EQ(symbol_version_bound(o, "OPENSSL_1_1_1"), "1.1.1");
}

TEST_F(ElfFacts, TruncatedCopiesNeverReadOutside) {
  // Every prefix at a 97-byte step: a clean nullopt or partial facts, never a crash (ASan in the
  // fuzz build reads the same code).
  std::size_t partial = 0;
  for (std::size_t n = 0; n < zlib_.size(); n += 97) {
    std::vector<std::uint8_t> cut(zlib_.begin(), zlib_.begin() + long(n));
    if (auto f = elf::read_elf_facts(cut)) partial += f->defined_versions.size() < 10;
  }
  EXPECT_GT(partial, 0u);
}

TEST_F(ElfFacts, HostileVersionChainsAreCutNotFollowed) {
  auto vd = section(zlib_, SHT_GNU_verdef);
  ASSERT_TRUE(vd);
  const auto good = elf::read_elf_facts(zlib_);
  ASSERT_TRUE(good);
  // vd_next of the first node (ElfNN_Verdef: half, half, half, half, word hash, word aux,
  // word next -> offset 16) pointed past the section: only the first node is read.
  {
    auto bad = zlib_;
    const std::uint32_t far = 0x7ffffff0;
    std::memcpy(bad.data() + vd->sh_offset + 16, &far, 4);  // armhf is little-endian
    auto f = elf::read_elf_facts(bad);
    ASSERT_TRUE(f);
    EXPECT_TRUE(f->truncated);
    EXPECT_EQ(f->defined_versions.size(), 1u);
  }
  // A section header claiming 2^32-1 nodes (sh_info): read up to the real chain's end.
  {
    auto bad = zlib_;
    auto e32 = reinterpret_cast<const Elf32_Ehdr*>(bad.data());
    for (std::size_t i = 0; i < e32->e_shnum; ++i) {
      auto* sh = reinterpret_cast<Elf32_Shdr*>(bad.data() + e32->e_shoff + i * e32->e_shentsize);
      if (sh->sh_type == SHT_GNU_verdef) sh->sh_info = 0xffffffff;
    }
    auto f = elf::read_elf_facts(bad);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->defined_versions, good->defined_versions);
  }
  // vd_aux pointed outside: the node has no name, the chain goes on.
  {
    auto bad = zlib_;
    const std::uint32_t far = 0xfffffff0;
    std::memcpy(bad.data() + vd->sh_offset + 12, &far, 4);
    auto f = elf::read_elf_facts(bad);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->defined_versions.size() + 1, good->defined_versions.size());
  }
}

/// identify() over a plain directory holding `files` (name -> bytes), with the real signatures.
Identification identify_files(
    const fs::path& dir,
    const std::vector<std::pair<std::string, std::vector<std::uint8_t>>>& files) {
  fs::remove_all(dir);
  fs::create_directories(dir);
  ArtifactTree tree;
  for (const auto& [name, bytes] : files) {
    std::ofstream(dir / name, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    FileRecord f;
    f.path = f.extracted = name;
    f.type = EntryType::kFile;
    f.size = bytes.size();
    tree.files.push_back(f);
  }
  auto sigs = load_signatures(default_signature_dir());
  EXPECT_TRUE(sigs) << sigs.error().to_string();
  auto id = Identifier::create(std::move(*sigs));
  EXPECT_TRUE(id);
  return identify(tree, dir, *id, {.threads = 1, .plain_directory = true});
}

std::vector<const Component*> named(const Identification& r, const std::string& name) {
  std::vector<const Component*> out;
  for (const auto& c : r.components)
    if (c.name == name) out.push_back(&c);
  return out;
}

TEST_F(ElfFacts, IdentifyAddsElfEvidenceOrAVersionlessComponent) {
  const auto dir = fs::temp_directory_path() / ("probity-elf-facts-" + std::to_string(getpid()));
  // zlib's own banner ("deflate 1.2.13 Copyright") and its nodes (ZLIB_1.2.12 at most) agree:
  // one component, 1.2.13, with the version string, the SONAME and the symbol version.
  auto with = identify_files(dir, {{"libfoo.so", zlib_}});
  auto z = named(with, "zlib");
  ASSERT_EQ(z.size(), 1u);
  EXPECT_EQ(z[0]->version, "1.2.13");
  std::set<std::string> kinds;
  for (const auto& e : z[0]->evidence) kinds.insert(e.kind);
  EXPECT_TRUE(kinds.contains("version-string"));
  EXPECT_TRUE(kinds.contains("symbol-version"));
  EXPECT_TRUE(kinds.contains("elf-soname"));
  EXPECT_GT(combined_confidence(z[0]->evidence), kConfidenceVersionString);

  // The banner blanked out: only ELF facts are left. zlib is named without a version (the
  // node's release is a lower bound, never the version) and the evidence says the bound.
  auto blank = zlib_;
  for (const std::string banner : {"deflate 1.2.13", "inflate 1.2.13"}) {
    auto at = std::search(blank.begin(), blank.end(), banner.begin(), banner.end());
    ASSERT_NE(at, blank.end()) << banner;
    std::fill(at, at + long(banner.size()), 'x');
  }
  auto without = identify_files(dir, {{"libfoo.so", blank}});
  z = named(without, "zlib");
  ASSERT_EQ(z.size(), 1u);
  EXPECT_EQ(z[0]->version, "");
  EXPECT_EQ(z[0]->source, "elf");
  EXPECT_EQ(z[0]->cpe, "cpe:2.3:a:zlib:zlib:*:*:*:*:*:*:*:*");
  bool bound = false;
  for (const auto& e : z[0]->evidence)
    if (e.kind == "symbol-version") {
      bound = true;
      EXPECT_NE(e.excerpt.find("ZLIB_1.2.12 (version >= 1.2.12)"), std::string::npos) << e.excerpt;
      EXPECT_EQ(e.confidence, kConfidenceSymbolVersion);
    }
  EXPECT_TRUE(bound);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace probity::testing
