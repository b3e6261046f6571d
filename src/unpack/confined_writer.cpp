#include "unpack/confined_writer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "core/resolve.hpp"
#include "probity/limits.hpp"

namespace probity::unpacker {
namespace {

std::vector<std::string_view> split(std::string_view p) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i <= p.size()) {
    std::size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    std::string_view c = p.substr(i, j - i);
    if (!c.empty() && c != ".") out.push_back(c);
    i = j + 1;
  }
  return out;
}

std::string join(const std::vector<std::string_view>& parts) {
  std::string s;
  for (auto& c : parts) {
    if (!s.empty()) s.push_back('/');
    s.append(c);
  }
  return s;
}

std::string errno_text(const char* what, const std::string& rel) {
  return std::string(what) + " '" + rel + "': " + std::strerror(errno);
}

}  // namespace

Result<SanitizedPath> sanitize_path(std::string_view raw) {
  if (raw.size() > kMaxPathBytes) return fail("path longer than the cap (kMaxPathBytes)");
  if (raw.find('\0') != std::string_view::npos) return fail("path contains a NUL byte");
  SanitizedPath out;
  out.was_absolute = !raw.empty() && raw.front() == '/';
  auto parts = split(raw);
  for (auto& c : parts)
    if (c == "..") return fail("path has a '..' component (would escape the output directory)");
  out.path = join(parts);
  return out;
}

Result<std::string> confine_symlink(std::string_view link_path, std::string_view target) {
  if (target.empty()) return fail("empty symlink target");
  if (target.size() > kMaxLinkBytes) return fail("symlink target longer than the cap");
  if (target.find('\0') != std::string_view::npos) return fail("symlink target has a NUL byte");
  // Resolve lexically against the link's directory (or the root for absolute targets).
  std::vector<std::string_view> base;
  if (target.front() != '/') {
    base = split(link_path);
    if (!base.empty()) base.pop_back();
  }
  const auto link_parts = split(link_path);
  const std::size_t link_depth = link_parts.empty() ? 0 : link_parts.size() - 1;
  std::vector<std::string_view> resolved = base;
  for (auto c : split(target)) {
    if (c == "..") {
      if (resolved.empty()) return fail("symlink target leaves the extracted root");
      resolved.pop_back();
    } else {
      resolved.push_back(c);
    }
  }
  if (target.front() != '/') return std::string(target);  // relative and stays inside: keep as is
  // Absolute: rewrite as a relative path from the link's directory to the resolved target.
  std::string rel;
  for (std::size_t i = 0; i < link_depth; ++i) rel += "../";
  rel += join(resolved);
  if (rel.empty()) rel = ".";
  return rel;
}

Result<ConfinedDir> ConfinedDir::create(int parent_fd, const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
    return fail("bad directory name '" + name + "'");
  if (mkdirat(parent_fd, name.c_str(), 0755) != 0 && errno != EEXIST)
    return fail(errno_text("cannot create directory", name));
  int fd = openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return fail(errno_text("cannot open directory", name));
  return ConfinedDir(fd);
}

Result<ConfinedDir> ConfinedDir::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail(errno_text("cannot open directory", path));
  return ConfinedDir(fd);
}

ConfinedDir::ConfinedDir(ConfinedDir&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
ConfinedDir& ConfinedDir::operator=(ConfinedDir&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}
ConfinedDir::~ConfinedDir() {
  if (fd_ >= 0) ::close(fd_);
}

Result<int> ConfinedDir::open_parent(const std::string& rel, std::string& leaf, bool create) const {
  auto parts = split(rel);
  if (parts.empty()) return fail("empty path");
  for (auto& c : parts)
    if (c == "..") return fail("path has a '..' component");
  leaf = std::string(parts.back());
  int dir = dup(fd_);
  if (dir < 0) return fail(errno_text("dup", rel));
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    std::string c(parts[i]);
    // O_NOFOLLOW: a symlink planted earlier in the archive can never redirect a write. The
    // directory usually exists already (files of one directory come together): open first and
    // create only what is missing, one mkdirat per new directory instead of one per file.
    constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    int next = openat(dir, c.c_str(), kDirFlags);
    if (next < 0 && errno == ENOENT && create) {
      if (mkdirat(dir, c.c_str(), 0755) != 0 && errno != EEXIST) {
        std::string msg = errno_text("cannot create directory", c);
        ::close(dir);
        return fail(msg);
      }
      next = openat(dir, c.c_str(), kDirFlags);
    }
    int e = errno;
    ::close(dir);
    if (next < 0) {
      errno = e;
      return fail(e == ELOOP || e == ENOTDIR
                      ? "a path component is a symlink or not a directory: '" + c +
                            "' (refusing to write through it)"
                      : errno_text("cannot open directory", c));
    }
    dir = next;
  }
  return dir;
}

Result<int> ConfinedDir::create_file(const std::string& rel, bool executable, bool* replaced) {
  std::string leaf;
  auto dir = open_parent(rel, leaf, true);
  if (!dir) return std::unexpected(dir.error());
  const mode_t mode = executable ? 0755 : 0644;
  int fd = openat(*dir, leaf.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0 && errno == EEXIST) {
    // Last entry wins, as in tar; but only a file or a link is replaced (unlinkat never follows).
    struct stat st {};
    if (fstatat(*dir, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode) &&
        unlinkat(*dir, leaf.c_str(), 0) == 0) {
      if (replaced) *replaced = true;
      fd = openat(*dir, leaf.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    }
  }
  int e = errno;
  ::close(*dir);
  if (fd < 0) {
    errno = e;
    return fail(errno_text("cannot create file", rel));
  }
  return fd;
}

Status ConfinedDir::make_dir(const std::string& rel) {
  std::string leaf;
  auto dir = open_parent(rel, leaf, true);
  if (!dir) return std::unexpected(dir.error());
  int rc = mkdirat(*dir, leaf.c_str(), 0755);
  int e = errno;
  struct stat st {};
  bool ok = rc == 0 || (e == EEXIST && fstatat(*dir, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                        S_ISDIR(st.st_mode));
  ::close(*dir);
  if (!ok) {
    errno = e;
    return fail(errno_text("cannot create directory", rel));
  }
  return {};
}

Status ConfinedDir::make_symlink(const std::string& rel, const std::string& target,
                                 bool* replaced) {
  std::string leaf;
  auto dir = open_parent(rel, leaf, true);
  if (!dir) return std::unexpected(dir.error());
  int rc = symlinkat(target.c_str(), *dir, leaf.c_str());
  if (rc != 0 && errno == EEXIST) {
    struct stat st {};
    if (fstatat(*dir, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode) &&
        unlinkat(*dir, leaf.c_str(), 0) == 0) {
      if (replaced) *replaced = true;
      rc = symlinkat(target.c_str(), *dir, leaf.c_str());
    }
  }
  int e = errno;
  ::close(*dir);
  if (rc != 0) {
    errno = e;
    return fail(errno_text("cannot create symlink", rel));
  }
  return {};
}

Status ConfinedDir::make_hardlink(const std::string& rel, const std::string& existing,
                                  bool* replaced) {
  std::string src_leaf, dst_leaf;
  auto src_dir = open_parent(existing, src_leaf, false);
  if (!src_dir) return fail("hard link source '" + existing + "' not found inside the root");
  struct stat st {};
  if (fstatat(*src_dir, src_leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) {
    ::close(*src_dir);
    return fail("hard link source '" + existing + "' is not an extracted regular file");
  }
  auto dst_dir = open_parent(rel, dst_leaf, true);
  if (!dst_dir) {
    ::close(*src_dir);
    return std::unexpected(dst_dir.error());
  }
  // Last entry wins; never a directory (EISDIR).
  if (unlinkat(*dst_dir, dst_leaf.c_str(), 0) == 0 && replaced) *replaced = true;
  int rc = linkat(*src_dir, src_leaf.c_str(), *dst_dir, dst_leaf.c_str(), 0);
  int e = errno;
  ::close(*src_dir);
  ::close(*dst_dir);
  if (rc != 0) {
    errno = e;
    return fail(errno_text("cannot create hard link", rel));
  }
  return {};
}

Status ConfinedDir::check_symlink(const std::string& rel, const std::string& target) const {
  auto parts = split(rel);
  if (!parts.empty()) parts.pop_back();
  detail::WalkOptions opt;
  opt.clamp_at_root = false;  // the host's kernel: `..` at our root leaves it
  opt.open_final = false;
  opt.lexical_when_missing = true;
  const auto r = detail::walk_in_root(fd_, join(parts), target, opt);
  switch (r.end) {
    case detail::WalkEnd::kEscapes:
      return fail("resolved through the links already extracted, the target leaves the root");
    case detail::WalkEnd::kLoop:
      return fail("the target's resolution follows more than " + std::to_string(kMaxLinkHops) +
                  " links (kMaxLinkHops)");
    case detail::WalkEnd::kError:
      errno = r.err;
      return fail(errno_text("cannot resolve the target of", rel));
    case detail::WalkEnd::kOpened:
    case detail::WalkEnd::kMissing:
      break;
  }
  return {};
}

Status ConfinedDir::remove(const std::string& rel) {
  std::string leaf;
  auto dir = open_parent(rel, leaf, false);
  if (!dir) return std::unexpected(dir.error());
  const int rc = unlinkat(*dir, leaf.c_str(), 0);
  const int e = errno;
  ::close(*dir);
  if (rc != 0) {
    errno = e;
    return fail(errno_text("cannot remove", rel));
  }
  return {};
}

Result<int> ConfinedDir::open_read(const std::string& rel) const {
  std::string leaf;
  auto dir = open_parent(rel, leaf, false);
  if (!dir) return std::unexpected(dir.error());
  int fd = openat(*dir, leaf.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  int e = errno;
  ::close(*dir);
  if (fd < 0) {
    errno = e;
    return fail(errno_text("cannot open", rel));
  }
  return fd;
}

}  // namespace probity::unpacker
