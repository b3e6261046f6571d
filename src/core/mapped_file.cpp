#include "probity/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <utility>

namespace probity {
namespace {

/// Live mappings (start -> size), so that release() only ever touches a file mapping.
std::mutex g_maps_mu;
std::map<const std::uint8_t*, std::uint64_t>& live_maps() {
  static std::map<const std::uint8_t*, std::uint64_t> maps;
  return maps;
}

}  // namespace

void MappedFile::release(std::span<const std::uint8_t> range) {
  if (range.empty()) return;
  static const std::uintptr_t kPage = std::uintptr_t(sysconf(_SC_PAGESIZE));
  std::lock_guard lock(g_maps_mu);
  auto& maps = live_maps();
  auto it = maps.upper_bound(range.data());
  if (it == maps.begin()) return;
  --it;
  const auto start = reinterpret_cast<std::uintptr_t>(it->first);
  const auto end = start + it->second;
  auto from = reinterpret_cast<std::uintptr_t>(range.data());
  auto to = from + range.size();
  if (from < start || to > end) return;
  from = (from + kPage - 1) & ~(kPage - 1);  // whole pages inside the range only
  to &= ~(kPage - 1);
  if (to > from) madvise(reinterpret_cast<void*>(from), to - from, MADV_DONTNEED);
}

Result<MappedFile> MappedFile::open(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fail(std::string("cannot open: ") + std::strerror(errno) +
                    " (check the path and that it is readable)",
                0, path.string());
  return from_fd(fd, path.string());
}

Result<MappedFile> MappedFile::from_fd(int fd, const std::string& name) {
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    return fail(std::string("cannot stat: ") + std::strerror(e), 0, name);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail("not a regular file", 0, name);
  }
  MappedFile m;
  m.size_ = static_cast<std::uint64_t>(st.st_size);
  if (m.size_ > 0) {
    void* p = mmap(nullptr, m.size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int e = errno;
      ::close(fd);
      return fail(std::string("cannot map: ") + std::strerror(e), 0, name);
    }
    madvise(p, m.size_, MADV_SEQUENTIAL);
    m.data_ = static_cast<const std::uint8_t*>(p);
    std::lock_guard lock(g_maps_mu);
    live_maps()[m.data_] = m.size_;
  }
  ::close(fd);
  return m;
}

Result<std::string> read_file_capped(const std::filesystem::path& path, std::uint64_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fail(std::string("cannot open: ") + std::strerror(errno) +
                    " (check the path and that it is readable)",
                0, path.string());
  auto too_big = [&] {
    return fail("file is larger than the cap of " + std::to_string(max_bytes) + " bytes", max_bytes,
                path.string());
  };
  struct stat st {};
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
      static_cast<std::uint64_t>(st.st_size) > max_bytes) {
    ::close(fd);
    return too_big();
  }
  std::string data;
  char buf[65536];
  for (;;) {
    const ssize_t got = ::read(fd, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      const int e = errno;
      ::close(fd);
      return fail(std::string("read error: ") + std::strerror(e), data.size(), path.string());
    }
    if (got == 0) break;
    if (data.size() + static_cast<std::uint64_t>(got) > max_bytes) {
      ::close(fd);
      return too_big();
    }
    data.append(buf, static_cast<std::size_t>(got));
  }
  ::close(fd);
  return data;
}

MappedFile::MappedFile(MappedFile&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    if (data_) unmap(data_, size_);
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}

MappedFile::~MappedFile() {
  if (data_) unmap(data_, size_);
}

void MappedFile::unmap(const std::uint8_t* data, std::uint64_t size) {
  {
    std::lock_guard lock(g_maps_mu);
    live_maps().erase(data);
  }
  munmap(const_cast<std::uint8_t*>(data), size);
}

}  // namespace probity
