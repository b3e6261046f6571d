// base64, hex and small-file helpers for the transparency log.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "probity/tlog.hpp"

namespace probity::tlog {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int decode_char(char c, bool url_ok) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  if (url_ok && c == '-') return 62;
  if (url_ok && c == '_') return 63;
  return -1;
}

}  // namespace

std::string base64_encode(std::span<const std::uint8_t> b) {
  std::string out;
  out.reserve((b.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= b.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t(b[i]) << 16) | (std::uint32_t(b[i + 1]) << 8) | b[i + 2];
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == b.size()) {
    const std::uint32_t v = std::uint32_t(b[i]) << 16;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == b.size()) {
    const std::uint32_t v = (std::uint32_t(b[i]) << 16) | (std::uint32_t(b[i + 1]) << 8);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::optional<Bytes> base64_decode(std::string_view s, bool url_ok) {
  // DSSE producers may omit padding in the URL-safe form; restore it before the strict check.
  std::string padded;
  if (url_ok && s.size() % 4 != 0 && s.find('=') == std::string_view::npos) {
    padded.assign(s);
    padded.append((4 - s.size() % 4) % 4, '=');
    s = padded;
  }
  if (s.size() % 4 != 0) return std::nullopt;
  Bytes out;
  out.reserve(s.size() / 4 * 3);
  for (std::size_t i = 0; i < s.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int j = 0; j < 4; ++j) {
      const char c = s[i + j];
      if (c == '=') {
        // Padding only in the last quantum, only in its last two places, and contiguous.
        if (i + 4 != s.size() || j < 2) return std::nullopt;
        ++pad;
        v[j] = 0;
        continue;
      }
      if (pad) return std::nullopt;
      v[j] = decode_char(c, url_ok);
      if (v[j] < 0) return std::nullopt;
    }
    const std::uint32_t w = (std::uint32_t(v[0]) << 18) | (std::uint32_t(v[1]) << 12) |
                            (std::uint32_t(v[2]) << 6) | std::uint32_t(v[3]);
    out.push_back(std::uint8_t(w >> 16));
    if (pad < 2) out.push_back(std::uint8_t(w >> 8));
    if (pad < 1) out.push_back(std::uint8_t(w));
    // Non-canonical encodings (stray bits in the padding) are rejected: one value, one text.
    if (pad == 1 && (w & 0xff) != 0) return std::nullopt;
    if (pad == 2 && (w & 0xffff) != 0) return std::nullopt;
  }
  return out;
}

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
