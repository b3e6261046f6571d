// Hardening verdicts compared with Debian's checksec (2.6) on real binaries: host amd64 binaries
// and the armhf Debian binaries of the checks fixture (plus the planted, unhardened one).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "checks_support/elf_info.hpp"
#include "checks_tree.hpp"
#include "probity/mapped_file.hpp"

namespace probity::checks {
namespace fs = std::filesystem;

namespace {

/// Binaries compared per directory (checksec forks readelf several times per file).
constexpr int kPerDir = 25;

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

std::vector<fs::path> elves(const fs::path& dir, int max) {
  std::vector<fs::path> out;
  if (!fs::is_directory(dir)) return out;
  std::vector<fs::path> all;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && !e.is_symlink()) all.push_back(e.path());
  std::sort(all.begin(), all.end());
  for (const auto& p : all) {
    if (int(out.size()) >= max) break;
    auto m = MappedFile::open(p);
    if (m && m->size() > 64 &&
        std::memcmp(m->bytes().data(),
                    "\x7f"
                    "ELF",
                    4) == 0)
      out.push_back(p);
  }
  return out;
}

}  // namespace

TEST(Hardening, VerdictsMatchChecksec) {
  if (run("command -v checksec").empty()) GTEST_FAIL() << "checksec not installed (make deps)";
  const fs::path fx = fs::path(PROBITY_FIXTURES_DIR) / "checks";
  std::vector<fs::path> bins;
  for (const auto& d : {fs::path("/usr/bin"), fs::path("/usr/sbin"),
                        fs::path("/usr/lib/x86_64-linux-gnu/openssl-3"), fx / "rootfs-clean/bin",
                        fx / "rootfs-clean/usr/sbin", fx / "rootfs-clean/usr/bin",
                        fx / "rootfs-clean/usr/lib/arm-linux-gnueabihf",
                        fx / "rootfs-clean/lib/arm-linux-gnueabihf"})
    for (auto& p : elves(d, kPerDir)) bins.push_back(p);
  bins.push_back(fx / "rootfs-planted/usr/bin/backdoor");
  int compared = 0, armhf = 0;
  for (const auto& b : bins) {
    if (!fs::exists(b)) continue;
    auto js = nlohmann::json::parse(run("checksec --output=json --file='" + b.string() + "'"),
                                    nullptr, false);
    if (js.is_discarded() || !js.contains(b.string())) {
      ADD_FAILURE() << "checksec gave no JSON for " << b;
      continue;
    }
    const auto& c = js[b.string()];
    auto m = MappedFile::open(b);
    ASSERT_TRUE(m);
    auto e = parse_elf(m->bytes());
    ASSERT_TRUE(e) << b;
    SCOPED_TRACE(b.string());
    std::string relro = e->relro() == Relro::kFull      ? "full"
                        : e->relro() == Relro::kPartial ? "partial"
                                                        : "no";
    EXPECT_EQ(relro, c["relro"].get<std::string>());
    EXPECT_EQ(e->canary_symbol ? "yes" : "no", c["canary"].get<std::string>());
    EXPECT_EQ(e->nx() ? "yes" : "no", c["nx"].get<std::string>());
    std::string pie = e->exec_type ? "no" : e->pie() ? "yes" : e->dyn_type ? "dso" : "rel";
    EXPECT_EQ(pie, c["pie"].get<std::string>());
    EXPECT_EQ(e->rpath.empty() ? "no" : "yes", c["rpath"].get<std::string>());
    EXPECT_EQ(e->runpath.empty() ? "no" : "yes", c["runpath"].get<std::string>());
    EXPECT_EQ(e->has_symtab ? "yes" : "no", c["symbols"].get<std::string>());
    EXPECT_EQ(e->fortify_symbol ? "yes" : "no", c["fortify_source"].get<std::string>());
    ++compared;
    if (b.string().find("rootfs-") != std::string::npos) ++armhf;
  }
  EXPECT_GE(compared, 60);
  EXPECT_GE(armhf, 30);
}

TEST(Hardening, PlantedBinaryFindingsAndStats) {
  const fs::path bin =
      fs::path(PROBITY_FIXTURES_DIR) / "checks" / "rootfs-planted" / "usr" / "bin" / "backdoor";
  auto m = MappedFile::open(bin);
  ASSERT_TRUE(m) << "run tests/fixtures/make-checks.sh";
  testing::SyntheticTree t("hardening");
  t.add("usr/bin/backdoor",
        std::string(reinterpret_cast<const char*>(m->bytes().data()), m->bytes().size()), 0755);
  HardeningStats st;
  auto fs = t.run({}, &st);
  for (const char* r : {"hardening-no-nx", "hardening-no-pie", "hardening-no-canary",
                        "hardening-unsafe-functions", "bind-shell"})
    EXPECT_TRUE(testing::has(fs, r, "usr/bin/backdoor")) << r;
  EXPECT_FALSE(
      testing::has(fs, "hardening-no-relro", "usr/bin/backdoor"));  // GNU ld default: partial
  EXPECT_EQ(st.binaries, 1u);
  EXPECT_EQ(st.executables, 1u);
  EXPECT_EQ(st.nx, 0u);
  EXPECT_EQ(st.pie, 0u);
  EXPECT_EQ(st.canary, 0u);
  EXPECT_EQ(st.unsafe_calls["sprintf"], 1u);  // (GCC turns the strcpy into a memcpy)
  EXPECT_EQ(st.unsafe_calls["system"], 1u);
  EXPECT_EQ(st.with_unsafe_calls, 1u);
  const Finding* s = testing::find(fs, "hardening-stats");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->severity, Severity::kInfo);
}

}  // namespace probity::checks
