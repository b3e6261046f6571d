// Helpers for the format tests: unpack a fixture made by tests/fixtures/make-formats.sh and look
// up containers, files and warnings in the returned tree.
#pragma once

#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "probity/hash.hpp"
#include "probity/unpack.hpp"

namespace probity::test {

inline std::filesystem::path formats_fixtures() {
  return std::filesystem::path(PROBITY_FIXTURES_DIR) / "formats";
}

/// A fixture path; fails the test (with a hint) when the fixtures were not generated.
inline std::filesystem::path fixture(const std::string& name) {
  auto p = formats_fixtures() / name;
  EXPECT_TRUE(std::filesystem::exists(p))
      << p << " missing: run `make fixtures` (tests/fixtures/make-formats.sh)";
  return p;
}

inline std::string file_sha(const std::filesystem::path& p) {
  auto r = sha256_file(p);
  EXPECT_TRUE(r.has_value()) << p;
  return r ? *r : std::string();
}

inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

inline void write_bytes(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), std::streamsize(bytes.size()));
}

/// A fresh scratch directory, removed at the end of the test.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("probity-formats-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&& o) noexcept : path(std::move(o.path)) { o.path.clear(); }
  ~TempDir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
  static int& counter() {
    static int n = 0;
    return n;
  }
};

struct Unpacked {
  TempDir tmp;
  ArtifactTree tree;
  [[nodiscard]] std::filesystem::path out() const { return tmp.path / "out"; }

  [[nodiscard]] std::vector<const Container*> containers(const std::string& format) const {
    std::vector<const Container*> v;
    for (const auto& c : tree.containers)
      if (c.format == format) v.push_back(&c);
    return v;
  }
  [[nodiscard]] std::vector<const FileRecord*> files_of(std::uint32_t container) const {
    std::vector<const FileRecord*> v;
    for (const auto& f : tree.files)
      if (f.container == container) v.push_back(&f);
    return v;
  }
  [[nodiscard]] const FileRecord* file(std::uint32_t container, const std::string& path) const {
    for (const auto& f : tree.files)
      if (f.container == container && f.path == path) return &f;
    return nullptr;
  }
  [[nodiscard]] std::vector<const Warning*> warnings(const std::string& code) const {
    std::vector<const Warning*> v;
    for (const auto& w : tree.warnings)
      if (w.code == code) v.push_back(&w);
    return v;
  }
  /// The first container of `format` (fails the test when absent).
  [[nodiscard]] const Container& only(const std::string& format) const {
    auto v = containers(format);
    EXPECT_FALSE(v.empty()) << "no " << format << " container";
    static const Container kNone;
    return v.empty() ? kNone : *v.front();
  }
};

inline Unpacked unpack_file(const std::filesystem::path& image) {
  Unpacked u;
  UnpackOptions opt;
  auto r = unpack(image, u.out(), opt);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  if (r) u.tree = std::move(*r);
  return u;
}

/// Unpacks the first `keep` bytes of a fixture (a truncated variant).
inline Unpacked unpack_prefix(const std::filesystem::path& image, std::size_t keep,
                              const TempDir& scratch) {
  std::string bytes = read_text(image);
  bytes.resize(std::min(bytes.size(), keep));
  auto p = scratch.path / ("prefix-" + image.filename().string());
  write_bytes(p, bytes);
  return unpack_file(p);
}

}  // namespace probity::test
