// Case-insensitive multi-literal search in one pass (vectorscan), shared by checks that look for
// a handful of words in every file (internal).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/bytes.hpp"

namespace probity::checks {

class Literals {
 public:
  /// Compiles `words` (matched case-insensitively); `single` reports each word once per scan.
  Literals(const std::vector<std::string>& words, bool single);
  ~Literals();
  Literals(const Literals&) = delete;
  Literals& operator=(const Literals&) = delete;
  [[nodiscard]] bool ok() const { return db_ != nullptr; }
  /// fn(word index, offset just past the match); return false to stop. Thread-safe.
  void scan(Bytes b, const std::function<bool(unsigned, std::uint64_t)>& fn) const;

 private:
  void* db_ = nullptr;
};

/// The printable run around offset `at` (as `strings` would cut it), at most kMaxStringLength.
std::string_view string_around(Bytes b, std::uint64_t at, std::uint64_t* start = nullptr);

}  // namespace probity::checks
