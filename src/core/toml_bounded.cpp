#include "core/toml_bounded.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "probity/limits.hpp"
#include "probity/mapped_file.hpp"

namespace probity {
namespace {

/// Index just past the string that opens at `i` (basic or literal, one-line or multi-line); a
/// one-line string stops at the end of its line, an unclosed one at the end of the text (toml++
/// reports either).
std::size_t skip_string(std::string_view t, std::size_t i) {
  const char q = t[i];
  const std::string_view triple = q == '"' ? R"(""")" : "'''";
  const bool multi = t.substr(i, 3) == triple;
  for (std::size_t j = i + (multi ? 3 : 1); j < t.size(); ++j) {
    const char c = t[j];
    if (q == '"' && c == '\\') {
      ++j;  // the escaped character (or the newline of a line-ending backslash)
    } else if (!multi && c == '\n') {
      return j;
    } else if (c == q && !multi) {
      return j + 1;
    } else if (c == q && t.substr(j, 3) == triple) {
      j += 3;
      // Up to two more quotes belong to the string: """a""""" ends with a"".
      for (int extra = 0; extra < 2 && j < t.size() && t[j] == q; ++extra) ++j;
      return j;
    }
  }
  return t.size();
}

/// An open array ('[') or inline table ('{') and the depth it sits at.
struct Open {
  char kind;
  std::uint32_t depth;
};

/// The 1-based line of byte `at`, and the start of that line (printable, shortened).
std::string where(std::string_view t, std::size_t at) {
  const auto line = std::count(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(at), '\n') + 1;
  const std::size_t from = at == 0 ? 0 : t.rfind('\n', at - 1) + 1;  // npos + 1 == 0
  std::string text;
  for (std::size_t i = from; i < t.size() && t[i] != '\n' && text.size() < 60; ++i) {
    const auto c = static_cast<unsigned char>(t[i]);
    text += c >= 0x20 && c < 0x7f ? char(c) : '?';
  }
  return fmt::format("line {} ('{}{}')", line, text, text.size() == 60 ? "..." : "");
}

/// Byte offset of a 1-based line and column (as toml++ reports them), clamped to the text.
std::size_t offset_of(std::string_view t, std::size_t line, std::size_t column) {
  std::size_t at = 0;
  for (std::size_t l = 1; l < line && at < t.size(); ++l) {
    const std::size_t nl = t.find('\n', at);
    if (nl == std::string_view::npos) return t.size();
    at = nl + 1;
  }
  return std::min(t.size(), at + (column > 0 ? column - 1 : 0));
}

}  // namespace

Status check_toml_bounds(std::string_view t, const std::string& file) {
  if (t.size() > kMaxTomlBytes)
    return std::unexpected(
        Error{fmt::format("{} bytes of TOML, over the cap of {} bytes (kMaxTomlBytes)", t.size(),
                          kMaxTomlBytes),
              file, kMaxTomlBytes, "cap-toml-bytes"});
  auto too_deep = [&](std::size_t at) {
    return std::unexpected(Error{fmt::format("TOML nested more than {} deep (kMaxTomlDepth) at {}",
                                             kMaxTomlDepth, where(t, at)),
                                 file, at, "cap-toml-depth"});
  };
  std::vector<Open> open;   // arrays and inline tables open at this point
  std::uint32_t table = 0;  // depth of the table the last header opened (0: the root)
  std::uint32_t value = 0;  // depth of the value being read
  std::uint32_t dots = 0;   // dots so far in the key being read
  bool key = true;          // reading a key: at the start of a top-level line, or in { }
  bool line_start = true;   // nothing but blanks since the last top-level newline
  for (std::size_t i = 0; i < t.size(); ++i) {
    const char c = t[i];
    if (c == ' ' || c == '\t' || c == '\r') continue;
    if (c == '\n') {
      if (open.empty()) key = line_start = true, dots = 0;
      continue;
    }
    const bool at_line_start = line_start;
    line_start = false;
    switch (c) {
      case '#': {
        const std::size_t nl = t.find('\n', i);
        if (nl == std::string_view::npos) return {};
        i = nl - 1;  // the newline is handled next
        line_start = at_line_start;
        break;
      }
      case '"':
      case '\'':
        i = skip_string(t, i) - 1;
        break;
      case '.':
        if (key) ++dots;
        break;
      case '=':
        if (key) {
          value = (open.empty() ? table : open.back().depth) + dots + 1;
          if (value > kMaxTomlDepth) return too_deep(i);
          key = false;
          dots = 0;
        }
        break;
      case '[':
        if (open.empty() && at_line_start) {
          // A table header [a.b] or an array of tables [[a.b]]. Each segment counts two levels:
          // it may step through an array of tables into its last element ([[a]] then [a.b]).
          const bool array = i + 1 < t.size() && t[i + 1] == '[';
          std::uint32_t segments = 1;
          std::size_t j = i + (array ? 2 : 1);
          while (j < t.size() && t[j] != ']' && t[j] != '\n') {
            if (t[j] == '"' || t[j] == '\'') {
              j = skip_string(t, j);
              continue;
            }
            if (t[j] == '.' && ++segments > kMaxTomlDepth) return too_deep(i);
            ++j;
          }
          table = 2 * segments;
          if (table > kMaxTomlDepth) return too_deep(i);
          key = false;  // the rest of the line is a comment at most
          if (j >= t.size()) return {};
          i = t[j] == ']' ? j : j - 1;
          break;
        }
        [[fallthrough]];
      case '{': {
        // An array element sits one level below its array; any other value where its key put it.
        const std::uint32_t d =
            std::max(value, open.empty() ? std::uint32_t{0} : open.back().depth + 1);
        if (d > kMaxTomlDepth) return too_deep(i);
        open.push_back({c, d});
        key = c == '{';
        dots = 0;
        break;
      }
      case ']':
      case '}':
        if (!open.empty()) {
          value = open.back().depth;
          open.pop_back();
        }
        key = false;
        break;
      case ',':
        if (!open.empty() && open.back().kind == '{') key = true, dots = 0;
        break;
      default:
        break;
    }
  }
  return {};
}

Result<toml::table> parse_toml_bounded(std::string_view text, const std::string& file) {
  if (auto ok = check_toml_bounds(text, file); !ok) return std::unexpected(ok.error());
  try {
    // This toml++ build reports syntax errors by exception; they stop at this boundary.
    return toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    const auto& at = e.source().begin;
    return fail(
        fmt::format("TOML error at line {}, column {}: {}", at.line, at.column, e.description()),
        offset_of(text, at.line, at.column), file);
  }
}

std::uint64_t toml_offset(std::string_view text, const toml::source_region& where) {
  return offset_of(text, where.begin.line, where.begin.column);
}

Result<toml::table> load_toml_bounded(const std::filesystem::path& path) {
  auto text = read_file_capped(path, kMaxTomlBytes);
  if (!text) return std::unexpected(text.error());
  return parse_toml_bounded(*text, path.string());
}

}  // namespace probity
