// Hashing helpers (OpenSSL EVP).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

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
/// Lower-case hex of `bytes` (the one hex encoder).
std::string to_hex(std::span<const std::uint8_t> bytes);
/// The bytes of an even-length hex string (either case); nullopt when it is not one.
std::optional<std::string> from_hex(std::string_view hex);
Result<std::string> sha256_file(const std::filesystem::path& path);

}  // namespace probity
