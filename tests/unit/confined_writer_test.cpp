#include "unpack/confined_writer.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace probity::unpacker {
namespace fs = std::filesystem;

TEST(SanitizePath, NormalisesHarmlessForms) {
  EXPECT_EQ(sanitize_path("./usr//bin/./busybox")->path, "usr/bin/busybox");
  auto abs = sanitize_path("/etc/passwd");
  ASSERT_TRUE(abs);
  EXPECT_EQ(abs->path, "etc/passwd");
  EXPECT_TRUE(abs->was_absolute);
  EXPECT_EQ(sanitize_path("./")->path, "");
}

TEST(SanitizePath, RefusesEscapes) {
  EXPECT_FALSE(sanitize_path("../x"));
  EXPECT_FALSE(sanitize_path("a/../../x"));
  EXPECT_FALSE(sanitize_path("a/.."));
  EXPECT_FALSE(sanitize_path(std::string("a\0b", 3)));
  EXPECT_FALSE(sanitize_path(std::string(5000, 'a')));
}

TEST(ConfineSymlink, KeepsInsideRewritesAbsoluteRefusesEscape) {
  EXPECT_EQ(*confine_symlink("bin/sh", "busybox"), "busybox");
  EXPECT_EQ(*confine_symlink("usr/bin/wget", "../../bin/busybox"), "../../bin/busybox");
  EXPECT_EQ(*confine_symlink("usr/bin/wget", "/bin/busybox"), "../../bin/busybox");
  EXPECT_EQ(*confine_symlink("sh", "/bin/busybox"), "bin/busybox");
  EXPECT_FALSE(confine_symlink("usr/bin/x", "../../../etc/passwd"));
  EXPECT_FALSE(confine_symlink("x", ".."));
  EXPECT_FALSE(confine_symlink("x", ""));
}

class ConfinedDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() /
            ("probity-cw-" + std::to_string(getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(base_);
    fs::create_directories(base_ / "root");
    fs::create_directories(base_ / "outside");
    auto d = ConfinedDir::open((base_ / "root").string());
    ASSERT_TRUE(d);
    dir_.emplace(std::move(*d));
  }
  void TearDown() override { fs::remove_all(base_); }
  fs::path base_;
  std::optional<ConfinedDir> dir_;
};

TEST_F(ConfinedDirTest, NeverWritesThroughASymlink) {
  fs::create_directory_symlink(base_ / "outside", base_ / "root" / "link");
  auto fd = dir_->create_file("link/evil.txt", false);
  EXPECT_FALSE(fd);
  EXPECT_FALSE(fs::exists(base_ / "outside" / "evil.txt"));
}

TEST_F(ConfinedDirTest, ReplacingASymlinkLeafDoesNotFollowIt) {
  std::ofstream(base_ / "outside" / "victim") << "original";
  fs::create_symlink(base_ / "outside" / "victim", base_ / "root" / "leaf");
  auto fd = dir_->create_file("leaf", false);
  ASSERT_TRUE(fd);
  ASSERT_EQ(write(*fd, "new", 3), 3);
  close(*fd);
  std::ifstream in(base_ / "outside" / "victim");
  std::string s;
  in >> s;
  EXPECT_EQ(s, "original");
  EXPECT_FALSE(fs::is_symlink(base_ / "root" / "leaf"));
}

TEST_F(ConfinedDirTest, HardLinkOnlyToRegularFilesInside) {
  auto fd = dir_->create_file("a/file", false);
  ASSERT_TRUE(fd);
  close(*fd);
  EXPECT_TRUE(dir_->make_hardlink("b/link", "a/file"));
  EXPECT_FALSE(dir_->make_hardlink("c", "../outside/x"));
  fs::create_symlink("/etc/passwd", base_ / "root" / "sym");
  EXPECT_FALSE(dir_->make_hardlink("d", "sym"));
}

TEST_F(ConfinedDirTest, FilesAreNeverSetuid) {
  auto fd = dir_->create_file("x", true);
  ASSERT_TRUE(fd);
  close(*fd);
  struct stat st {};
  ASSERT_EQ(stat((base_ / "root" / "x").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07000, 0u);
}

}  // namespace probity::unpacker
