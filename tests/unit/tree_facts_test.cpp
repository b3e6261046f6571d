// find_root_filesystems and find_encrypted_regions (include/probity/artifact.hpp): what the
// manifest's root_filesystems and encrypted lists and the verdict's evidence terms rest on.
#include <gtest/gtest.h>

#include "probity/artifact.hpp"

namespace probity {
namespace {

FileRecord entry(std::uint32_t container, std::string path, EntryType type) {
  FileRecord f;
  f.container = container;
  f.path = std::move(path);
  f.type = type;
  return f;
}

}  // namespace

TEST(TreeFacts, RootFilesystemsNeedEtcWithABinDirOrAnInit) {
  ArtifactTree t;
  t.containers = {{.id = 1, .format = "squashfs"},
                  {.id = 2, .format = "cpio"},
                  {.id = 3, .format = "tar"},
                  {.id = 4, .format = "jffs2"}};
  t.files = {entry(1, "etc", EntryType::kDir),      entry(1, "sbin", EntryType::kDir),
             entry(2, "init", EntryType::kFile),    entry(3, "etc", EntryType::kDir),
             entry(3, "data/bin", EntryType::kDir), entry(4, "www/etc", EntryType::kDir),
             entry(4, "www/bin", EntryType::kDir)};
  const auto roots = find_root_filesystems(t);
  ASSERT_EQ(roots.size(), 2u);
  EXPECT_EQ(roots[0].container, 1u);
  EXPECT_EQ(roots[0].format, "squashfs");
  EXPECT_EQ(roots[0].markers, (std::vector<std::string>{"etc", "sbin"}));
  EXPECT_EQ(roots[1].container, 2u);
  EXPECT_EQ(roots[1].markers, (std::vector<std::string>{"init"}));
}

TEST(TreeFacts, EncryptedRegionsAreDenseNotUnderstoodAndLargeEnough) {
  ArtifactTree t;
  t.containers = {{.id = 5, .format = "uimage"}};
  t.regions = {{.container = 0, .offset = 0, .size = 1 << 20, .entropy = 7.99},
               {.container = 5, .offset = 64, .size = 8192, .entropy = 7.5},
               {.container = 0,
                .offset = 0,
                .size = 1 << 20,
                .format = "squashfs",
                .understood = true,
                .entropy = 7.99},
               {.container = 0, .offset = 0, .size = 100, .entropy = 7.9},
               {.container = 0, .offset = 0, .size = 1 << 20, .entropy = 5.0}};
  const auto enc = find_encrypted_regions(t);
  ASSERT_EQ(enc.size(), 2u);
  EXPECT_EQ(enc[0].region, &t.regions[0]);
  EXPECT_EQ(enc[0].claimed_by, "");
  EXPECT_EQ(enc[1].region, &t.regions[1]);
  EXPECT_EQ(enc[1].claimed_by, "uimage");
}

}  // namespace probity
