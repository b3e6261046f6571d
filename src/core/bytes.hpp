// Bounds-checked reads of untrusted bytes. Internal to src/.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace probity {

using Bytes = std::span<const std::uint8_t>;

/// Reads an unsigned integer of N bytes at `off`, nullopt if it does not fit in `b`.
template <class T>
std::optional<T> read_le(Bytes b, std::uint64_t off) {
  if (off > b.size() || b.size() - off < sizeof(T)) return std::nullopt;
  T v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) v |= T(b[off + i]) << (8 * i);
  return v;
}
template <class T>
std::optional<T> read_be(Bytes b, std::uint64_t off) {
  if (off > b.size() || b.size() - off < sizeof(T)) return std::nullopt;
  T v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) v = T(v << 8) | T(b[off + i]);
  return v;
}

/// The sub-span [off, off+len) clamped to `b`.
inline Bytes sub(Bytes b, std::uint64_t off, std::uint64_t len = UINT64_MAX) {
  if (off >= b.size()) return {};
  return b.subspan(off, std::min<std::uint64_t>(len, b.size() - off));
}

inline bool starts_with(Bytes b, std::string_view magic, std::uint64_t off = 0) {
  // An empty magic (avb.cpp's: every blob's start) matches without memcmp, whose pointers must
  // not be null even for a length of 0 (an empty blob's span has a null data()).
  return off <= b.size() && b.size() - off >= magic.size() &&
         (magic.empty() || std::memcmp(b.data() + off, magic.data(), magic.size()) == 0);
}

/// A NUL-terminated string of at most `max` bytes starting at `off` (cut at the end of `b`).
inline std::string cstr(Bytes b, std::uint64_t off, std::size_t max) {
  std::string s;
  for (std::size_t i = 0; i < max && off + i < b.size() && b[off + i]; ++i)
    s.push_back(static_cast<char>(b[off + i]));
  return s;
}

/// Shannon entropy, bits per byte.
inline double entropy(Bytes b) {
  if (b.empty()) return 0.0;
  std::uint64_t counts[256] = {};
  for (auto c : b) ++counts[c];
  double h = 0;
  for (auto c : counts) {
    if (!c) continue;
    double p = double(c) / double(b.size());
    h -= p * std::log2(p);
  }
  return h;
}

}  // namespace probity
