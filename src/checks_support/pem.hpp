// PEM block scanning over raw bytes (internal): shared by the key and certificate checks.
#pragma once

#include <functional>
#include <string_view>

#include "core/bytes.hpp"
#include "probity/limits.hpp"

namespace probity::checks {

/// Calls fn(label, whole block text from BEGIN to the end of END, offset) for each
/// "-----BEGIN <label>-----" ... "-----END <label>-----" block. Returns true when it stopped at
/// kMaxPemBlocks with more "-----BEGIN " left in the file (the caller reports the cap).
[[nodiscard]] inline bool for_each_pem(
    Bytes b, const std::function<void(std::string_view, std::string_view, std::uint64_t)>& fn) {
  std::string_view s(reinterpret_cast<const char*>(b.data()), b.size());
  constexpr std::string_view kBegin = "-----BEGIN ";
  std::size_t n = 0;
  for (std::size_t at = s.find(kBegin); at != s.npos; at = s.find(kBegin, at + 1)) {
    if (n == kMaxPemBlocks) return true;
    std::size_t lab = at + kBegin.size();
    std::size_t lab_end = s.find("-----", lab);
    if (lab_end == s.npos || lab_end - lab > 64) continue;
    std::string_view label = s.substr(lab, lab_end - lab);
    std::string end = "-----END " + std::string(label) + "-----";
    std::size_t e = s.find(end, lab_end);
    if (e == s.npos || e - at > kMaxPemBlockBytes) continue;
    ++n;
    fn(label, s.substr(at, e + end.size() - at), at);
    at = e;
  }
  return false;
}

}  // namespace probity::checks
