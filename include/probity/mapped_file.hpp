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

  /// Drops the pages of `range` from this process's page tables when it lies in a live
  /// MappedFile (they are read back from the file if touched again); does nothing for any other
  /// memory. Readers that stream through a large mapping call it behind them, so that a 1 GB
  /// blob read once does not stay resident (peak RSS, docs/architecture.md "Memory").
  static void release(std::span<const std::uint8_t> range);
  [[nodiscard]] std::uint64_t size() const { return size_; }

 private:
  static void unmap(const std::uint8_t* data, std::uint64_t size);
  const std::uint8_t* data_ = nullptr;
  std::uint64_t size_ = 0;
};

/// Reads a whole file that must not be larger than `max_bytes`: a regular file is refused by its
/// size before anything is read, anything else (a pipe) as soon as it passes the cap. The error
/// names the file (offset: the cap).
Result<std::string> read_file_capped(const std::filesystem::path& path, std::uint64_t max_bytes);

}  // namespace probity
