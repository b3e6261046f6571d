// A small synthetic unpacked tree for the checks unit tests: files written under a temporary
// output directory, with the FileRecords `unpack` would produce for them (one squashfs).
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "probity/checks.hpp"
#include "probity/inventory.hpp"

namespace probity::testing {

class SyntheticTree {
 public:
  explicit SyntheticTree(const std::string& name)
      : out_(std::filesystem::temp_directory_path() /
             ("probity-synth-" + std::to_string(getpid()) + "-" + name)) {
    std::filesystem::remove_all(out_);
    std::filesystem::create_directories(out_ / "extracted" / "1-squashfs");
  }
  ~SyntheticTree() { std::filesystem::remove_all(out_); }

  void add(const std::string& path, const std::string& content, std::uint32_t mode = 0644) {
    auto p = out_ / "extracted" / "1-squashfs" / path;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    FileRecord f;
    f.path = path;
    f.container = 1;
    f.origin = {{"image.bin", 0, "squashfs"}};
    f.size = content.size();
    f.mode = mode;
    f.extracted = "extracted/1-squashfs/" + path;  // unpack's layout
    tree_.files.push_back(f);
  }

  std::vector<Finding> run(const CheckOptions& opt = {}, HardeningStats* stats = nullptr) {
    inventory(tree_, out_, 1);
    return run_checks(tree_, out_, opt, stats);
  }

  /// Without the inventory pass: kinds stay as set by the test (or are classified on the fly).
  std::vector<Finding> run_raw(const CheckOptions& opt = {}) {
    return run_checks(tree_, out_, opt);
  }

  ArtifactTree& tree() { return tree_; }
  const std::filesystem::path& out() const { return out_; }

 private:
  std::filesystem::path out_;
  ArtifactTree tree_;
};

inline bool has(const std::vector<Finding>& fs, const std::string& rule, const std::string& path) {
  for (const auto& f : fs)
    if (f.rule == rule && f.path == path) return true;
  return false;
}

inline const Finding* find(const std::vector<Finding>& fs, const std::string& rule) {
  for (const auto& f : fs)
    if (f.rule == rule) return &f;
  return nullptr;
}

}  // namespace probity::testing
