// The link resolver (open_in_root through openat2 and through the walk) and the unpacker's
// physical link check, over trees of links made from the input. The input is split at NUL bytes
// into "path\ttarget" lines: a link at `path` with `target` (a line without a tab is a
// directory). Invariants checked:
// - whatever open_in_root opens lies inside the root (its /proc/self/fd path starts with the
//   root), through openat2 and through the walk alike;
// - a link ConfinedDir::check_symlink accepts resolves on the host (realpath) inside the root or
//   nowhere.
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "probity/tree_files.hpp"
#include "unpack/confined_writer.hpp"

namespace {

namespace fs = std::filesystem;

std::string fd_path(int fd) {
  char buf[PATH_MAX];
  const std::string link = "/proc/self/fd/" + std::to_string(fd);
  const ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, std::size_t(n)) : std::string();
}

bool inside(const std::string& p, const std::string& root) {
  return p == root || p.starts_with(root + "/");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fs::path base =
      fs::temp_directory_path() / ("resolve-fuzz-" + std::to_string(::getpid()));
  fs::remove_all(base);
  const fs::path root_path = base / "root";
  fs::create_directories(root_path);
  const std::string root = fs::canonical(root_path).string();
  auto dir = probity::unpacker::ConfinedDir::open(root);
  if (!dir) return 0;

  std::vector<std::string> paths;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= size && paths.size() < 32; ++i) {
    if (i < size && data[i] != 0) continue;
    const std::string line(reinterpret_cast<const char*>(data + start), i - start);
    start = i + 1;
    const auto tab = line.find('\t');
    auto clean = probity::unpacker::sanitize_path(line.substr(0, tab));
    if (!clean || clean->path.empty()) continue;
    paths.push_back(clean->path);
    if (tab == std::string::npos) {
      (void)dir->make_dir(clean->path);
      continue;
    }
    auto target = probity::unpacker::confine_symlink(clean->path, line.substr(tab + 1));
    if (!target || !dir->check_symlink(clean->path, *target)) continue;
    if (!dir->make_symlink(clean->path, *target)) continue;
  }
  // Every accepted link, re-checked on the final tree as Sink::verify_links does, then resolved
  // by the host's kernel: inside the root or nowhere.
  for (const auto& p : paths) {
    std::error_code ec;
    if (!fs::is_symlink(root_path / p, ec)) continue;
    const std::string target = fs::read_symlink(root_path / p, ec).string();
    if (!dir->check_symlink(p, target)) {
      (void)dir->remove(p);
      continue;
    }
    char real[PATH_MAX];
    if (::realpath((root_path / p).c_str(), real) && !inside(real, root)) std::abort();
  }
  for (const auto& p : paths)
    for (bool walk : {false, true}) {
      probity::ResolveOptions o;
      o.force_walk = walk;
      auto fd = probity::open_in_root(dir->fd(), p, o);
      if (!fd) continue;
      const std::string at = fd_path(*fd);
      ::close(*fd);
      if (!at.empty() && !inside(at, root)) std::abort();
    }
  fs::remove_all(base);
  return 0;
}
