// Hostile input for the checks: every check runs over random bytes, truncated and mutated ELF
// files, bogus PEM/OpenSSH blocks and absurd passwd files without crashing; a symlink planted
// in the output directory is not followed; per-file caps are reported, not silent.
#include <elf.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <random>
#include <set>

#include "checks_tree.hpp"
#include "probity/mapped_file.hpp"

namespace probity {
namespace {

using testing::SyntheticTree;

std::string random_bytes(std::mt19937& rng, std::size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = char(rng() & 0xff);
  return s;
}

TEST(ChecksHostile, GarbageEverywhereDoesNotCrash) {
  std::mt19937 rng(7);
  SyntheticTree t("hostile");
  auto ls = MappedFile::open("/bin/ls");
  ASSERT_TRUE(ls);
  std::string elf(reinterpret_cast<const char*>(ls->bytes().data()), ls->bytes().size());
  for (int i = 0; i < 40; ++i) {
    std::string m = elf;
    // Truncate and flip bytes in headers, program/section tables and the middle.
    m.resize(std::size_t(rng() % m.size()) + 52);
    for (int k = 0; k < 64; ++k) m[rng() % std::min<std::size_t>(m.size(), 4096)] = char(rng());
    for (int k = 0; k < 64; ++k) m[rng() % m.size()] = char(rng());
    t.add("bin/mutant" + std::to_string(i), m, 0755);
  }
  t.add("etc/passwd", std::string(50000, ':') + "\nroot::0\n::::::\n" + random_bytes(rng, 4000));
  t.add("etc/shadow", "root:$6$" + std::string(10000, 'a') + "\n:\n$y$::::\n");
  t.add("etc/group", random_bytes(rng, 3000));
  t.add("etc/inittab", "::::::\n:::\n" + random_bytes(rng, 2000));
  t.add("etc/ssl/bad.pem",
        "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n!!!!\n-----END RSA PRIVATE "
        "KEY-----\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEA/////w==\n-----END "
        "OPENSSH PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
        "-----BEGIN " +
            std::string(100, 'X'));
  t.add("root/.ssh/authorized_keys",
        "ssh-rsa AAAA\nssh-ed25519 " + std::string(5000, 'A') + "\nssh-rsa !!!! x\n");
  t.add("etc/key.der", "\x30\x82\xff\xff" + random_bytes(rng, 500));
  for (int i = 0; i < 20; ++i) t.add("data/blob" + std::to_string(i), random_bytes(rng, 70000));
  HardeningStats st;
  auto fs = t.run({}, &st);
  std::set<std::string> ids;
  for (const auto& f : fs) EXPECT_TRUE(ids.insert(f.id).second) << f.rule << " " << f.path;
  EXPECT_FALSE(testing::has(fs, "private-key", "etc/ssl/bad.pem"));
}

TEST(ChecksHostile, SymlinkInTheOutputDirectoryIsNotFollowed) {
  SyntheticTree t("symlink");
  t.add("etc/init.d/rcS", "#!/bin/sh\necho hi\n");
  // Swap the extracted file for a symlink to a file with a planted indicator outside the tree.
  const auto outside =
      std::filesystem::temp_directory_path() / ("probity-outside-" + std::to_string(getpid()));
  std::ofstream(outside) << "#!/bin/sh\ntelnetd -l /bin/sh\n";
  const auto extracted = t.out() / "extracted" / "1-squashfs" / "etc/init.d/rcS";
  std::filesystem::remove(extracted);
  std::filesystem::create_symlink(outside, extracted);
  // Even when the record claims a script (no inventory pass), the engine's O_NOFOLLOW open fails.
  t.tree().files[0].kind = "script";
  auto fs = t.run_raw();
  std::filesystem::remove(outside);
  EXPECT_FALSE(testing::has(fs, "telnetd-shell", "etc/init.d/rcS"));
}

TEST(ChecksHostile, PerFileCapsAreReported) {
  SyntheticTree t("caps");
  std::string conf;
  for (int i = 0; i < 300; ++i)
    conf += "host" + std::to_string(i) + "=10.0.0." + std::to_string(i % 250) + " srv" +
            std::to_string(i) + ".vendor.com\n";
  t.add("etc/hosts.conf", conf);
  auto fs = t.run();
  EXPECT_TRUE(testing::has(fs, "check-cap", "etc/hosts.conf"));
}

/// A minimal little-endian ELF64 shared object (no program headers) with `symbols` entries in
/// .dynsym and `dynamic` DT_DEBUG entries in .dynamic (no DT_NULL), for the parser caps.
std::string tiny_elf(std::size_t symbols, std::size_t dynamic) {
  const std::string shstr = std::string("\0.dynsym\0.dynstr\0.dynamic\0.shstrtab\0", 35);
  const std::string dynstr("\0x\0", 3);
  std::string body;
  auto put = [&body](const void* p, std::size_t n) { body.append(static_cast<const char*>(p), n); };
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_DYN;
  eh.e_machine = EM_X86_64;
  eh.e_version = EV_CURRENT;
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_shentsize = sizeof(Elf64_Shdr);
  eh.e_shnum = 5;
  eh.e_shstrndx = 4;
  const std::size_t sym_off = sizeof(Elf64_Ehdr), sym_size = symbols * sizeof(Elf64_Sym);
  const std::size_t str_off = sym_off + sym_size;
  const std::size_t dyn_off = str_off + dynstr.size() + 5;  // 8-aligned enough for libelf
  const std::size_t dyn_size = dynamic * sizeof(Elf64_Dyn);
  const std::size_t shs_off = dyn_off + dyn_size;
  eh.e_shoff = shs_off + shstr.size();
  put(&eh, sizeof eh);
  for (std::size_t i = 0; i < symbols; ++i) {
    Elf64_Sym sym{};
    sym.st_name = i == 0 ? 0 : 1;  // "x", undefined: an import
    put(&sym, sizeof sym);
  }
  body += dynstr + std::string(5, '\0');
  for (std::size_t i = 0; i < dynamic; ++i) {
    Elf64_Dyn d{};
    d.d_tag = DT_DEBUG;
    put(&d, sizeof d);
  }
  body += shstr;
  auto section = [&](std::uint32_t name, std::uint32_t type, std::size_t off, std::size_t size,
                     std::uint32_t link, std::size_t entsize) {
    Elf64_Shdr sh{};
    sh.sh_name = name;
    sh.sh_type = type;
    sh.sh_offset = off;
    sh.sh_size = size;
    sh.sh_link = link;
    sh.sh_entsize = entsize;
    sh.sh_addralign = 1;
    put(&sh, sizeof sh);
  };
  section(0, SHT_NULL, 0, 0, 0, 0);
  section(1, SHT_DYNSYM, sym_off, sym_size, 2, sizeof(Elf64_Sym));
  section(9, SHT_STRTAB, str_off, dynstr.size(), 0, 0);
  section(17, SHT_DYNAMIC, dyn_off, dyn_size, 2, sizeof(Elf64_Dyn));
  section(26, SHT_STRTAB, shs_off, shstr.size(), 0, 0);
  return body;
}

/// The message of the check-cap finding on `path` naming `cap` ("" when there is none).
std::string cap_message(const std::vector<Finding>& fs, const std::string& path,
                        const std::string& cap) {
  for (const auto& f : fs)
    if (f.rule == "check-cap" && f.path == path && f.message.find(cap) != std::string::npos)
      return f.message;
  return "";
}

TEST(ChecksHostile, ParserCapsAreReported) {
  SyntheticTree t("parse-caps");
  // Within the caps: nothing reported.
  t.add("bin/small", tiny_elf(100, 100), 0755);
  // Over kMaxElfSymbols (200,000) and kMaxElfDynamicEntries (4,096).
  t.add("bin/huge", tiny_elf(200'001, 4'097), 0755);
  // Over kMaxPemBlocks (2,000) in one file.
  std::string pem;
  for (int i = 0; i < 2'001; ++i) pem += "-----BEGIN JUNK-----\nAAAA\n-----END JUNK-----\n";
  t.add("etc/ssl/many.pem", pem);
  // Over kMaxAccountEntries (10,000) in passwd.
  std::string passwd = "root:x:0:0:root:/root:/bin/sh\n";
  for (int i = 0; i < 10'000; ++i)
    passwd += "u" + std::to_string(i) + ":*:" + std::to_string(2000 + i) + ":100::/:/bin/false\n";
  t.add("etc/passwd", passwd);
  auto fs = t.run();
  EXPECT_NE(cap_message(fs, "bin/huge", "kMaxElfSymbols"), "");
  EXPECT_NE(cap_message(fs, "bin/huge", "kMaxElfDynamicEntries"), "");
  EXPECT_EQ(cap_message(fs, "bin/small", "kMax"), "");
  EXPECT_NE(cap_message(fs, "etc/ssl/many.pem", "kMaxPemBlocks"), "");
  EXPECT_NE(cap_message(fs, "etc/passwd", "kMaxAccountEntries"), "");
  // One PEM block fewer: not reported.
  SyntheticTree u("parse-caps-under");
  u.add("etc/ssl/many.pem", pem.substr(pem.find("-----BEGIN", 1)));
  EXPECT_EQ(cap_message(u.run(), "etc/ssl/many.pem", "kMaxPemBlocks"), "");
}

}  // namespace
}  // namespace probity
