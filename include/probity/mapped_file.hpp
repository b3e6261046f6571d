// Read-only memory mapping of a file, and capped reading of a small one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

#include "probity/error.hpp"

namespace probity {

/// A read-only mapping; empty files map to an empty span.
class MappedFile {
 public:
  static Result<MappedFile> open(const std::filesystem::path& path);
  /// Maps an already open descriptor (taken over and closed by the mapping).
  static Result<MappedFile> from_fd(int fd, const std::string& name);
  MappedFile() = default;
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  [[nodiscard]] std::span<const std::uint8_t> bytes() const { return {data_, size_}; }
  [[nodiscard]] std::uint64_t size() const { return size_; }

 private:
  const std::uint8_t* data_ = nullptr;
  std::uint64_t size_ = 0;
};

/// Reads a whole file that must not be larger than `max_bytes`: a regular file is refused by its
/// size before anything is read, anything else (a pipe) as soon as it passes the cap. The error
/// names the file (offset: the cap).
Result<std::string> read_file_capped(const std::filesystem::path& path, std::uint64_t max_bytes);

}  // namespace probity
