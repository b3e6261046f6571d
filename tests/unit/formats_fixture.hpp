// Helpers for the format tests: unpack a fixture made by tests/fixtures/make-formats.sh and look
// up containers, files and warnings in the returned tree.
#pragma once

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
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

/// A fixture generated into PROBITY_FIXTURES_DIR/`dir` by tests/fixtures/`script`; fails the
/// test (with a hint) when it was not generated.
inline std::filesystem::path generated(const char* dir, const char* script,
                                       const std::string& name) {
  auto p = std::filesystem::path(PROBITY_FIXTURES_DIR) / dir / name;
  EXPECT_TRUE(std::filesystem::exists(p))
      << p << " missing: run `make fixtures` (tests/fixtures/" << script << ")";
  return p;
}

/// A gtest parameter name from a fixture's file name: "sqfs3-le-lzma.img" -> "sqfs3_le_lzma".
inline std::string file_case_name(std::string n) {
  n = n.substr(0, n.find('.'));
  for (char& ch : n)
    if (ch == '-') ch = '_';
  return n;
}

/// The public vectors of other projects: ../shared/vectors/formats (or $PROBITY_SHARED_VECTORS);
/// empty when absent (the vector tests then skip).
inline std::filesystem::path shared_vectors_dir() {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("PROBITY_SHARED_VECTORS"); env && *env) return env;
  // The source tree's parent (a clone) or grandparent (a worktree under wt/) holds shared/.
  for (fs::path p = fs::path(PROBITY_SOURCE_DIR); !p.empty() && p != p.root_path();
       p = p.parent_path()) {
    const auto cand = p.parent_path() / "shared" / "vectors" / "formats";
    if (fs::exists(cand / "MANIFEST.tsv")) return cand;
  }
  return {};
}

/// One row of MANIFEST.tsv (local_path, ..., expected, family, kind).
struct VectorRow {
  std::string path, expected, family, kind;
};

/// The rows of `dir`/MANIFEST.tsv whose family is one of `families`.
inline std::vector<VectorRow> vector_rows(const std::filesystem::path& dir,
                                          const std::set<std::string>& families) {
  std::vector<VectorRow> rows;
  std::ifstream in(dir / "MANIFEST.tsv");
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> col;
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, '\t');) col.push_back(c);
    if (col.size() >= 9 && families.contains(col[7]))
      rows.push_back({col[0], col[6], col[7], col[8]});
  }
  return rows;
}

/// fact_extractor's squashFS test images hold three files whose contents it ships in
/// expected/get_files_test/ of the vectors folder `dir`: what differs in container `cid`, as
/// messages (none: all as expected).
inline std::vector<std::string> fact_extractor_problems(const Unpacked& u, std::uint32_t cid,
                                                        const std::filesystem::path& dir) {
  std::vector<std::string> problems;
  const auto ref = dir / "fact_extractor" / "expected" / "get_files_test";
  int regular = 0;
  for (const auto* r : u.files_of(cid)) regular += r->type == EntryType::kFile;
  if (regular != 3) problems.push_back(std::to_string(regular) + " regular files");
  for (const char* rel : {"testfile1", "testfile2", "generic folder/test file 3_.txt"}) {
    const FileRecord* r = u.file(cid, rel);
    if (!r) {
      problems.push_back(std::string("missing ") + rel);
      continue;
    }
    if (r->truncated) problems.push_back(std::string("truncated ") + rel);
    if (std::filesystem::exists(ref / rel) && r->sha256 != file_sha(ref / rel))
      problems.push_back(std::string("content differs: ") + rel);
  }
  return problems;
}

/// What a filesystem keeps of the source tree (cramfs drops mtimes and cuts gids to 8 bits...).
struct TreeCheck {
  bool mtime = true;
  bool owner = true;
  bool hardlinks = true;        ///< hard links recorded as links (else as separate regular files)
  std::set<std::string> extra;  ///< records allowed beyond the source tree (lost+found)
};

/// Every entry of the source tree `src` is in container `cid` with the same type, mode, link
/// target, content hash (and owner, mtime when the format keeps them); nothing else is.
inline void expect_tree(const struct Unpacked& u, std::uint32_t cid,
                        const std::filesystem::path& src, const TreeCheck& chk);

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

namespace probity::test {

inline void expect_tree(const Unpacked& u, std::uint32_t cid, const std::filesystem::path& src,
                        const TreeCheck& chk) {
  namespace fs = std::filesystem;
  std::set<std::string> seen;
  for (const auto& de : fs::recursive_directory_iterator(src)) {
    const std::string rel = de.path().lexically_relative(src).string();
    seen.insert(rel);
    struct stat st {};
    ASSERT_EQ(::lstat(de.path().c_str(), &st), 0) << de.path();
    const FileRecord* r = u.file(cid, rel);
    ASSERT_NE(r, nullptr) << "missing " << rel;
    EXPECT_EQ(r->mode, st.st_mode & 07777) << rel;
    if (chk.owner) {
      EXPECT_EQ(r->uid, st.st_uid) << rel;
      EXPECT_EQ(r->gid, st.st_gid) << rel;
    }
    if (chk.mtime && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode)) {
      EXPECT_EQ(r->mtime, st.st_mtime) << rel;
    }
    switch (st.st_mode & S_IFMT) {
      case S_IFREG:
        if (r->type == EntryType::kHardlink) {
          EXPECT_TRUE(chk.hardlinks) << rel;
          const FileRecord* target = u.file(cid, r->link);
          ASSERT_NE(target, nullptr) << rel << " -> " << r->link;
          EXPECT_EQ(target->sha256, file_sha(de.path())) << rel;
        } else {
          EXPECT_EQ(r->type, EntryType::kFile) << rel;
          EXPECT_EQ(r->size, std::uint64_t(st.st_size)) << rel;
          EXPECT_EQ(r->sha256, file_sha(de.path())) << rel;
          EXPECT_FALSE(r->truncated) << rel;
          if (!r->extracted.empty()) {
            EXPECT_EQ(file_sha(u.out() / r->extracted), r->sha256) << rel;
          }
        }
        break;
      case S_IFDIR:
        EXPECT_EQ(r->type, EntryType::kDir) << rel;
        break;
      case S_IFLNK:
        EXPECT_EQ(r->type, EntryType::kSymlink) << rel;
        EXPECT_EQ(r->link, fs::read_symlink(de.path()).string()) << rel;
        break;
      case S_IFCHR:
        EXPECT_EQ(r->type, EntryType::kCharDev) << rel;
        break;
      case S_IFBLK:
        EXPECT_EQ(r->type, EntryType::kBlockDev) << rel;
        break;
      case S_IFIFO:
        EXPECT_EQ(r->type, EntryType::kFifo) << rel;
        break;
      default:
        break;
    }
  }
  for (const FileRecord* r : u.files_of(cid))
    EXPECT_TRUE(seen.contains(r->path) || chk.extra.contains(r->path)) << "extra " << r->path;
}

}  // namespace probity::test
