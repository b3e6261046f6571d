// The fleet index (src/fleet): key fingerprints joined across images, rescans idempotent,
// concurrent scans serialised so each sees every image recorded before it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <thread>

#include "probity/fleet.hpp"

namespace probity {
namespace {

namespace fs = std::filesystem;

struct TempFile {
  fs::path path = fs::temp_directory_path() /
                  ("probity-fleet-" + std::to_string(getpid()) + "-" +
                   ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db");
  TempFile() { clean(); }
  ~TempFile() { clean(); }
  void clean() {
    for (const char* ext : {"", "-wal", "-shm"}) fs::remove(path.string() + ext);
  }
};

Report image(const std::string& name, const std::vector<std::string>& fingerprints) {
  Report r;
  r.tree.image = {"/fw/" + name, name, std::string(64, name[0]), 1000};
  FileRecord file;
  file.path = "etc/ssl/private/server.key";
  file.container = 1;
  file.origin = {{"", 0, "squashfs"}};
  r.tree.files.push_back(file);
  for (const auto& fp : fingerprints) {
    Finding f;
    f.rule = "private-key";
    f.category = "private-key";
    f.path = file.path;
    f.container = 1;
    f.evidence.fingerprint = fp;
    r.findings.push_back(f);
  }
  Finding other;  // no fingerprint: never joined
  other.rule = "telnetd-shell";
  other.path = "etc/inittab";
  r.findings.push_back(other);
  return r;
}

TEST(FleetIndex, JoinsTheSameKeyAcrossImagesOnly) {
  TempFile tmp;
  auto index = FleetIndex::open(tmp.path);
  ASSERT_TRUE(index) << index.error().to_string();
  auto a = index->join(image("a.bin", {"sha256:k1", "sha256:k2"}));
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->empty());
  auto b = index->join(image("b.bin", {"sha256:k2", "sha256:k3"}));
  ASSERT_TRUE(b);
  ASSERT_EQ(b->size(), 1u);
  const Finding& f = b->front();
  EXPECT_EQ(f.rule, "fleet-wide-key");
  EXPECT_EQ(f.severity, Severity::kCritical);
  EXPECT_EQ(f.evidence.fingerprint, "sha256:k2");
  ASSERT_EQ(f.evidence.related.size(), 1u);
  EXPECT_NE(f.evidence.related[0].find("a.bin"), std::string::npos);
  // Rescanning a.bin now sees b.bin for k2 only, and rescanning b.bin does not see itself.
  auto a2 = index->join(image("a.bin", {"sha256:k1", "sha256:k2"}));
  ASSERT_TRUE(a2);
  ASSERT_EQ(a2->size(), 1u);
  EXPECT_NE(a2->front().evidence.related[0].find("b.bin"), std::string::npos);
  auto b2 = index->join(image("b.bin", {"sha256:k2", "sha256:k3"}));
  ASSERT_TRUE(b2);
  ASSERT_EQ(b2->size(), 1u);
  EXPECT_EQ(b2->front().id, f.id) << "same problem, same id";
  EXPECT_EQ(b2->front().evidence.related.size(), 1u);
}

TEST(FleetIndex, ConcurrentScansEachSeeEveryEarlierImage) {
  TempFile tmp;
  ASSERT_TRUE(FleetIndex::open(tmp.path));
  constexpr int kImages = 8;
  std::vector<std::size_t> seen(kImages, 99);
  std::vector<std::thread> threads;
  for (int i = 0; i < kImages; ++i)
    threads.emplace_back([&, i] {
      auto index = FleetIndex::open(tmp.path);
      if (!index) return;
      auto r = index->join(image(std::string(1, char('a' + i)) + ".bin", {"sha256:shared"}));
      if (r) seen[i] = r->empty() ? 0 : r->front().evidence.related.size();
    });
  for (auto& t : threads) t.join();
  // Serialised: the k-th image to commit saw exactly the k before it.
  std::multiset<std::size_t> counts(seen.begin(), seen.end());
  for (std::size_t k = 0; k < kImages; ++k) EXPECT_EQ(counts.count(k), 1u) << k;
}

TEST(FleetIndex, RefusesAFileThatIsNotAnIndex) {
  TempFile tmp;
  {
    std::FILE* f = std::fopen(tmp.path.c_str(), "w");
    std::fputs("not sqlite at all, just text\n", f);
    std::fclose(f);
  }
  auto index = FleetIndex::open(tmp.path);
  ASSERT_FALSE(index);
  EXPECT_EQ(index.error().file, tmp.path.string());
}

}  // namespace
}  // namespace probity
