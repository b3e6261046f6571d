// Small text helpers shared by the checks (internal).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.hpp"
#include "core/text.hpp"
#include "probity/limits.hpp"

namespace probity::checks {

/// Shortest printable run taken as a string in binaries (as `strings` does by default + 2).
/// A heuristic (what counts as a string), not a cap.
inline constexpr std::size_t kMinStringLength = 6;

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

inline std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  return out;
}

/// Whitespace-separated words.
inline std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r')) ++i;
    std::size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t' && s[j] != '\r') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

/// Calls fn(line, line_start_offset) for each line.
inline void for_each_line(std::string_view text,
                          const std::function<void(std::string_view, std::uint64_t)>& fn) {
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    fn(text.substr(start, end - start), start);
    start = end + 1;
  }
}

/// The line without a trailing shell-style comment ('#' at the start of a word).
inline std::string_view strip_comment(std::string_view line) {
  for (std::size_t i = 0; i < line.size(); ++i)
    if (line[i] == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t'))
      return line.substr(0, i);
  return line;
}

inline std::string_view basename(std::string_view p) {
  auto k = p.rfind('/');
  return k == std::string_view::npos ? p : p.substr(k + 1);
}

/// True when `path` is `suffix` or ends with "/" + suffix.
inline bool path_is(std::string_view path, std::string_view suffix) {
  if (path == suffix) return true;
  return path.size() > suffix.size() && path.ends_with(suffix) &&
         path[path.size() - suffix.size() - 1] == '/';
}

/// True when some directory component of `path` is `dir` (e.g. "etc").
inline bool under_dir(std::string_view path, std::string_view dir) {
  std::string needle = "/" + std::string(dir) + "/";
  return path.starts_with(std::string(dir) + "/") || path.find(needle) != std::string_view::npos;
}

/// Printable ASCII runs of at least kMinStringLength bytes: fn(string, offset).
inline void for_each_string(Bytes b, const std::function<void(std::string_view, std::uint64_t)>& fn,
                            std::size_t min_len = kMinStringLength) {
  std::size_t i = 0;
  while (i < b.size()) {
    std::size_t j = i;
    while (j < b.size() && ((b[j] >= 0x20 && b[j] < 0x7f) || b[j] == '\t')) ++j;
    if (j - i >= min_len) {
      std::size_t n = std::min(j - i, kMaxStringLength);
      fn(std::string_view(reinterpret_cast<const char*>(b.data() + i), n), i);
    }
    i = j + 1;
  }
}

/// A printable, one-line excerpt of at most `max` characters.
inline std::string excerpt(std::string_view s, std::size_t max = 200) {
  std::string o;
  for (char c : s.substr(0, max)) o.push_back((c >= 0x20 && c < 0x7f) ? c : '.');
  if (s.size() > max) o += "...";
  return o;
}

}  // namespace probity::checks
