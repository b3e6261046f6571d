// open_in_root() and TreeFiles: paths resolve inside the root the way the device would resolve
// them (absolute links from the root, `..` clamped at it, chains followed, loops refused), through
// openat2 and through the per-component walk alike; ConfinedDir::check_symlink sees the escape
// the lexical check cannot.
#include "probity/tree_files.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "unpack/confined_writer.hpp"

namespace probity {
namespace fs = std::filesystem;

namespace {

std::string slurp(int fd) {
  std::string s(4096, '\0');
  const ssize_t n = ::read(fd, s.data(), s.size());
  ::close(fd);
  s.resize(n > 0 ? std::size_t(n) : 0);
  return s;
}

class TreeFilesTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("probity-tf-" + std::to_string(getpid()));
    fs::remove_all(base_);
    // base_/host/secret sits outside base_/out/extracted/1-tar (the container root).
    root_ = base_ / "out" / "extracted" / "1-tar";
    fs::create_directories(root_ / "etc");
    fs::create_directories(root_ / "usr" / "lib");
    fs::create_directories(base_ / "host");
    std::ofstream(base_ / "host" / "secret") << "HOST";
    std::ofstream(root_ / "usr" / "lib" / "os-release") << "ID=device\n";
    std::ofstream(root_ / "secret") << "DEVICE";
    // Debian's own relative link, an absolute one, a chain, and climbs above the root.
    fs::create_symlink("../usr/lib/os-release", root_ / "etc" / "os-release");
    fs::create_symlink("/usr/lib/os-release", root_ / "etc" / "abs");
    fs::create_symlink("abs", root_ / "etc" / "chain");
    fs::create_symlink("../../../../host/secret", root_ / "etc" / "climb");
    std::string up;
    for (int i = 0; i < 20; ++i) up += "../";
    fs::create_directories(root_ / "d");
    fs::create_symlink(up, root_ / "d" / "up");
    fs::create_symlink("d/up/../../../host/secret", root_ / "esc");
    fs::create_symlink("loop2", root_ / "loop1");
    fs::create_symlink("loop1", root_ / "loop2");
    fs::create_symlink("/proc/self/root/etc/passwd", root_ / "magic");
    fd_ = ::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(fd_, 0);
  }
  void TearDown() override {
    ::close(fd_);
    fs::remove_all(base_);
  }
  Result<int> open(std::string_view p, bool follow_last = true) {
    ResolveOptions o;
    o.follow_last = follow_last;
    o.force_walk = GetParam();
    return open_in_root(fd_, p, o);
  }
  fs::path base_, root_;
  int fd_ = -1;
};

}  // namespace

TEST_P(TreeFilesTest, LinksResolveAsOnTheDevice) {
  for (const char* p : {"etc/os-release", "/etc/os-release", "etc/abs", "etc/chain"}) {
    auto fd = open(p);
    ASSERT_TRUE(fd) << p << ": " << fd.error().message;
    EXPECT_EQ(slurp(*fd), "ID=device\n") << p;
  }
}

TEST_P(TreeFilesTest, NothingLeavesTheRoot) {
  // `..` above the root stays at the root: these reach the device's /secret, never the host's.
  for (const char* p : {"etc/climb", "esc", "../../../host/secret", "/../secret"}) {
    auto fd = open(p);
    if (!fd) continue;  // not found inside the root is fine too
    EXPECT_EQ(slurp(*fd), "DEVICE") << p;
  }
  EXPECT_FALSE(open("magic")) << "a /proc magic link is not followed out of the root";
}

TEST_P(TreeFilesTest, LoopsAndFinalLinksAreRefused) {
  auto loop = open("loop1");
  ASSERT_FALSE(loop);
  EXPECT_EQ(loop.error().code, "link-loop");
  EXPECT_FALSE(open("etc/os-release", /*follow_last=*/false));
  EXPECT_TRUE(open("usr/lib/os-release", /*follow_last=*/false));
}

TEST_P(TreeFilesTest, RecordsOpenTheirOwnFileOnly) {
  auto files = TreeFiles::open(base_ / "out");
  ASSERT_TRUE(files);
  FileRecord f;
  f.path = "usr/lib/os-release";
  f.extracted = "extracted/1-tar/usr/lib/os-release";
  auto text = files->read(f, 100);
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_EQ(*text, "ID=device\n");
  f.extracted = "extracted/1-tar/esc";  // a record of type file whose path is a link
  EXPECT_FALSE(files->read(f, 100));
  f.extracted = "extracted/../host/secret";
  EXPECT_FALSE(files->read(f, 100));
  auto dev = files->open_path("extracted/1-tar", "/etc/chain");
  ASSERT_TRUE(dev);
  EXPECT_EQ(slurp(*dev), "ID=device\n");
  EXPECT_FALSE(files->open_path("extracted/..", "host/secret"));
}

// `probity identify DIR` reads a tree someone else unpacked: the directory is the one container
// root and records' `extracted` paths are inside it (before open_directory, every content read
// of `identify DIR` failed and it scanned 0 bytes).
TEST_P(TreeFilesTest, ADirectoryOpensAsItsOwnRoot) {
  auto files = TreeFiles::open_directory(root_);
  ASSERT_TRUE(files) << files.error().message;
  FileRecord f;
  f.path = f.extracted = "usr/lib/os-release";
  auto text = files->read(f, 100);
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_EQ(*text, "ID=device\n");
  for (const char* p : {"esc", "etc/climb", "../../host/secret"}) {
    f.path = f.extracted = p;
    auto got = files->read(f, 100);
    if (got) {
      EXPECT_EQ(*got, "DEVICE") << p;  // never the host's file
    }
  }
  auto dev = files->open_path("", "/etc/chain");
  ASSERT_TRUE(dev);
  EXPECT_EQ(slurp(*dev), "ID=device\n");
  EXPECT_FALSE(TreeFiles::open_directory(base_ / "missing"));
}

INSTANTIATE_TEST_SUITE_P(Openat2AndWalk, TreeFilesTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "walk" : "openat2"; });

TEST(CheckSymlink, SeesTheEscapeThroughAnotherLink) {
  const fs::path base = fs::temp_directory_path() / ("probity-cs-" + std::to_string(getpid()));
  fs::remove_all(base);
  fs::create_directories(base / "root" / "d0" / "d1");
  auto dir = unpacker::ConfinedDir::open((base / "root").string());
  ASSERT_TRUE(dir);
  // d0/d1/up -> ../../ (the root): lexically and physically inside.
  ASSERT_TRUE(dir->check_symlink("d0/d1/up", "../../"));
  ASSERT_TRUE(dir->make_symlink("d0/d1/up", "../../"));
  // esc -> d0/d1/up/../../x: lexically root/x, physically two levels above the root.
  ASSERT_TRUE(unpacker::confine_symlink("esc", "d0/d1/up/../../x"));
  EXPECT_FALSE(dir->check_symlink("esc", "d0/d1/up/../../x"));
  EXPECT_TRUE(dir->check_symlink("ok", "d0/d1/up/d0/x"));
  // A missing component is resolved lexically: `missing/..` is the directory itself.
  EXPECT_TRUE(dir->check_symlink("m", "missing/../d0"));
  EXPECT_FALSE(dir->check_symlink("m", "missing/../../x"));
  ASSERT_TRUE(dir->make_symlink("l1", "l2"));
  ASSERT_TRUE(dir->make_symlink("l2", "l1"));
  EXPECT_FALSE(dir->check_symlink("x", "l1/y")) << "a loop is refused";
  fs::remove_all(base);
}

}  // namespace probity
