// Small text helpers every stage shares.
#pragma once

#include <string>
#include <string_view>

namespace probity {

/// `s` with ASCII letters lowered (bytes above 0x7f kept as they are, whatever the locale).
inline std::string lower(std::string_view s) {
  std::string o(s);
  for (char& c : o)
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  return o;
}

}  // namespace probity
