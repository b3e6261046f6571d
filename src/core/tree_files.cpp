#include "probity/tree_files.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "core/resolve.hpp"
#include "probity/limits.hpp"

namespace probity {
namespace detail {
namespace {

void push_components(std::deque<std::string>& q, std::string_view p, bool front) {
  std::vector<std::string> parts;
  std::size_t i = 0;
  while (i <= p.size()) {
    std::size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    if (j > i) parts.emplace_back(p.substr(i, j - i));
    i = j + 1;
  }
  if (front)
    q.insert(q.begin(), parts.begin(), parts.end());
  else
    q.insert(q.end(), parts.begin(), parts.end());
}

/// Directory descriptors from the root (index 0, not owned) down to the current directory.
class DirStack {
 public:
  explicit DirStack(int root) : fds_{root} {}
  ~DirStack() {
    for (std::size_t i = 1; i < fds_.size(); ++i) ::close(fds_[i]);
  }
  DirStack(const DirStack&) = delete;
  DirStack& operator=(const DirStack&) = delete;
  [[nodiscard]] int top() const { return fds_.back(); }
  [[nodiscard]] std::size_t depth() const { return fds_.size() - 1; }
  void push(int fd) { fds_.push_back(fd); }
  void pop() {
    ::close(fds_.back());
    fds_.pop_back();
  }
  void to_root() {
    while (depth() > 0) pop();
  }

 private:
  std::vector<int> fds_;
};

}  // namespace

WalkResult walk_in_root(int root_fd, std::string_view dir, std::string_view path,
                        const WalkOptions& opt) {
  std::deque<std::string> q;
  if (path.empty() || path.front() != '/') push_components(q, dir, false);
  push_components(q, path, false);
  DirStack dirs(root_fd);
  std::size_t missing = 0;  // components below the last real directory, resolved lexically
  std::uint32_t hops = 0;
  while (!q.empty()) {
    std::string c = std::move(q.front());
    q.pop_front();
    if (c == ".") continue;
    const bool last = q.empty();
    if (c == "..") {
      if (missing > 0)
        --missing;
      else if (dirs.depth() > 0)
        dirs.pop();
      else if (!opt.clamp_at_root)
        return {WalkEnd::kEscapes};
      continue;
    }
    if (missing > 0) {
      ++missing;
      continue;
    }
    struct stat st {};
    if (::fstatat(dirs.top(), c.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      const int e = errno;
      if (e != ENOENT && e != ENOTDIR) return {WalkEnd::kError, -1, e};
      if (!opt.lexical_when_missing) return {WalkEnd::kMissing, -1, e};
      missing = 1;
      continue;
    }
    if (S_ISLNK(st.st_mode) && (!last || opt.follow_last)) {
      if (++hops > kMaxLinkHops) return {WalkEnd::kLoop, -1, ELOOP};
      std::string target(kMaxLinkBytes + 1, '\0');
      const ssize_t n = ::readlinkat(dirs.top(), c.c_str(), target.data(), target.size());
      if (n < 0) return {WalkEnd::kError, -1, errno};
      if (std::size_t(n) > kMaxLinkBytes) return {WalkEnd::kLoop, -1, ENAMETOOLONG};
      target.resize(std::size_t(n));
      if (target.empty()) return {WalkEnd::kMissing, -1, ENOENT};
      if (target.front() == '/') dirs.to_root();
      push_components(q, target, true);
      if (q.empty()) q.emplace_back(".");  // a link to "/" itself
      continue;
    }
    if (last) {
      if (!opt.open_final) return {WalkEnd::kOpened};
      const int fd = ::openat(dirs.top(), c.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) return {errno == ELOOP ? WalkEnd::kLoop : WalkEnd::kError, -1, errno};
      return {WalkEnd::kOpened, fd};
    }
    if (!S_ISDIR(st.st_mode)) {
      if (!opt.lexical_when_missing) return {WalkEnd::kMissing, -1, ENOTDIR};
      missing = 1;
      continue;
    }
    const int next = ::openat(dirs.top(), c.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0) return {WalkEnd::kError, -1, errno};
    dirs.push(next);
  }
  // The path ended in a directory (".", "..", a trailing link to a directory, or nothing).
  if (missing > 0 && !opt.lexical_when_missing) return {WalkEnd::kMissing, -1, ENOENT};
  if (!opt.open_final) return {WalkEnd::kOpened};
  const int fd = ::openat(dirs.top(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return {WalkEnd::kError, -1, errno};
  return {WalkEnd::kOpened, fd};
}

}  // namespace detail

namespace {

std::atomic<bool> g_no_openat2{false};

Result<int> walk_open(int root_fd, std::string_view path, const ResolveOptions& opt) {
  detail::WalkOptions w;
  w.follow_last = opt.follow_last;
  const auto r = detail::walk_in_root(root_fd, {}, path, w);
  switch (r.end) {
    case detail::WalkEnd::kOpened:
      return r.fd;
    case detail::WalkEnd::kLoop:
      return fail_code("link-loop", r.err == ELOOP && !opt.follow_last
                                        ? std::string("is a symlink (expected a regular file)")
                                        : "more than " + std::to_string(kMaxLinkHops) +
                                              " symlinks while resolving (kMaxLinkHops)");
    case detail::WalkEnd::kMissing:
      return fail_code("not-found", std::string("not found: ") + std::strerror(r.err));
    case detail::WalkEnd::kEscapes:
    case detail::WalkEnd::kError:
      break;
  }
  return fail_code("io", std::string("cannot open: ") + std::strerror(r.err));
}

}  // namespace

Result<int> open_in_root(int root_fd, std::string_view path, const ResolveOptions& opt) {
  if (path.find('\0') != std::string_view::npos) return fail("path contains a NUL byte");
  if (path.size() > kMaxPathBytes) return fail("path longer than the cap (kMaxPathBytes)");
  if (opt.force_walk || g_no_openat2.load(std::memory_order_relaxed))
    return walk_open(root_fd, path, opt);
  open_how how{};
  how.flags = O_RDONLY | O_CLOEXEC | (opt.follow_last ? 0 : O_NOFOLLOW);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  const std::string p(path.empty() ? "." : std::string(path));
  const long fd = ::syscall(SYS_openat2, root_fd, p.c_str(), &how, sizeof how);
  if (fd >= 0) return int(fd);
  const int e = errno;
  if (e == ENOSYS || e == EPERM || e == E2BIG) {
    // No openat2 (an old kernel, or a sandbox that filters it): the walk does the same.
    if (e == ENOSYS) g_no_openat2 = true;
    return walk_open(root_fd, path, opt);
  }
  if (e == ELOOP)
    return fail_code("link-loop", opt.follow_last
                                      ? "more than " + std::to_string(kMaxLinkHops) +
                                            " symlinks while resolving (kMaxLinkHops)"
                                      : std::string("is a symlink (expected a regular file)"));
  if (e == ENOENT || e == ENOTDIR)
    return fail_code("not-found", std::string("not found: ") + std::strerror(e));
  return fail_code("io", std::string("cannot open: ") + std::strerror(e));
}

Result<TreeFiles> TreeFiles::open(const std::filesystem::path& out_dir) {
  const int fd = ::open(out_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return fail(std::string("cannot open the output directory: ") + std::strerror(errno), 0,
                out_dir.string());
  return TreeFiles(fd);
}

Result<TreeFiles> TreeFiles::open_directory(const std::filesystem::path& root) {
  const int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return fail(std::string("cannot open the directory: ") + std::strerror(errno), 0,
                root.string());
  return TreeFiles(fd, true);
}

TreeFiles::TreeFiles(TreeFiles&& o) noexcept : fd_(std::exchange(o.fd_, -1)), plain_(o.plain_) {}
TreeFiles& TreeFiles::operator=(TreeFiles&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
    plain_ = o.plain_;
  }
  return *this;
}
TreeFiles::~TreeFiles() {
  if (fd_ >= 0) ::close(fd_);
}

Result<int> TreeFiles::open_root(std::string_view container_dir) const {
  if (fd_ < 0) return fail("no output directory");
  // A container's root: "extracted/<id>-<format>", two plain components made by unpack.
  constexpr std::string_view kPrefix = "extracted/";
  const std::string_view name =
      container_dir.starts_with(kPrefix) ? container_dir.substr(kPrefix.size()) : "";
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string_view::npos)
    return fail("not a container directory: '" + std::string(container_dir) + "'");
  const int ex = ::openat(fd_, "extracted", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (ex < 0) return fail(std::string("cannot open extracted/: ") + std::strerror(errno));
  const int root =
      ::openat(ex, std::string(name).c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  const int e = errno;
  ::close(ex);
  if (root < 0)
    return fail(std::string("cannot open ") + std::string(container_dir) + ": " + std::strerror(e));
  return root;
}

Result<int> TreeFiles::open_path(std::string_view container_dir, std::string_view path) const {
  if (plain_) {
    if (fd_ < 0) return fail("no directory");
    return open_in_root(fd_, path);
  }
  auto root = open_root(container_dir);
  if (!root) return root;
  auto fd = open_in_root(*root, path);
  ::close(*root);
  return fd;
}

Result<int> TreeFiles::open(const FileRecord& f) const {
  ResolveOptions opt;
  opt.follow_last = false;
  Result<int> fd = fail("no directory");
  if (plain_) {
    if (fd_ < 0) return fail("no directory", 0, f.path);
    fd = open_in_root(fd_, f.extracted, opt);
  } else {
    // extracted = "extracted/<id>-<format>/<path inside the container>"
    const auto first = f.extracted.find('/');
    const auto second = first == std::string::npos ? first : f.extracted.find('/', first + 1);
    if (second == std::string::npos) return fail("not extracted inside a container", 0, f.path);
    auto root = open_root(std::string_view(f.extracted).substr(0, second));
    if (!root) return fail(root.error().message, 0, f.path);
    fd = open_in_root(*root, std::string_view(f.extracted).substr(second + 1), opt);
    ::close(*root);
  }
  if (!fd) {
    Error err = fd.error();
    err.file = f.path;
    return std::unexpected(err);
  }
  struct stat st {};
  if (::fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(*fd);
    return fail_code("not-regular", "not a regular file on disk");
  }
  return fd;
}

Result<MappedFile> TreeFiles::map(const FileRecord& f) const {
  auto fd = open(f);
  if (!fd) return std::unexpected(fd.error());
  return MappedFile::from_fd(*fd, f.path);
}

namespace {
/// At most `cap` bytes of `fd`, which it closes.
std::string read_capped(int fd, std::uint64_t cap) {
  std::string s;
  char buf[65536];
  while (s.size() < cap) {
    const ssize_t n = ::read(fd, buf, std::min<std::uint64_t>(sizeof buf, cap - s.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    s.append(buf, std::size_t(n));
  }
  ::close(fd);
  return s;
}
}  // namespace

Result<std::string> TreeFiles::read(const FileRecord& f, std::uint64_t cap) const {
  auto fd = open(f);
  if (!fd) return std::unexpected(fd.error());
  return read_capped(*fd, cap);
}

Result<std::string> TreeFiles::read_path(std::string_view container_dir, std::string_view path,
                                         std::uint64_t cap) const {
  auto fd = open_path(container_dir, path);
  if (!fd) return std::unexpected(fd.error());
  struct stat st {};
  if (::fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(*fd);
    return fail("not a regular file", 0, std::string(path));
  }
  return read_capped(*fd, cap);
}

}  // namespace probity
