// Hashing helpers (OpenSSL EVP).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

#include "probity/error.hpp"

namespace probity {

/// Incremental SHA-256.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  void update(std::span<const std::uint8_t> bytes);
  /// Lower-case hex digest; the object is spent afterwards.
  std::string hex();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string sha256_hex(std::span<const std::uint8_t> bytes);
Result<std::string> sha256_file(const std::filesystem::path& path);

}  // namespace probity
