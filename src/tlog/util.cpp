// Small-file helpers for the transparency log (base64 is probity/base64.hpp).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "probity/tlog.hpp"

namespace probity::tlog {
Status write_file_atomic(const std::filesystem::path& path, std::string_view data,
                         bool private_mode) {
  const auto tmp = path.string() + ".tmp";
  const int fd =
      ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, private_mode ? 0600 : 0644);
  if (fd < 0) return fail(std::string("cannot create: ") + std::strerror(errno), 0, tmp);
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return fail(std::string("write failed: ") + std::strerror(errno), done, tmp);
    }
    done += std::size_t(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) return fail("fsync failed", 0, tmp);
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    return fail(std::string("rename failed: ") + std::strerror(errno), 0, path.string());
  // The rename is durable only once the directory is synced.
  auto dir = path.parent_path();
  if (dir.empty()) dir = ".";
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

}  // namespace probity::tlog
