// Names of enumerators from one table in declaration order, so a to_string is one line and an
// enumerator added without its name fails to compile (the table's size is checked).
#pragma once

#include <cstddef>

namespace probity {

/// names[e] for an enum whose enumerators run 0..N-1 with `Last` the final one; `fallback` for a
/// value outside (a cast from a stored integer).
template <auto Last, std::size_t N>
constexpr const char* enum_name(decltype(Last) e, const char* const (&names)[N],
                                const char* fallback) {
  static_assert(static_cast<std::size_t>(Last) + 1 == N, "one name for each enumerator");
  const auto i = static_cast<std::size_t>(e);
  return i < N ? names[i] : fallback;
}

}  // namespace probity
