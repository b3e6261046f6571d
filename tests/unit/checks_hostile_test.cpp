// Hostile input for the checks: every check runs over random bytes, truncated and mutated ELF
// files, bogus PEM/OpenSSH blocks and absurd passwd files without crashing; a symlink planted
// in the output directory is not followed; per-file caps are reported, not silent.
#include <gtest/gtest.h>
#include <unistd.h>

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
  const auto extracted = t.out() / "c1" / "etc/init.d/rcS";
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

}  // namespace
}  // namespace probity
