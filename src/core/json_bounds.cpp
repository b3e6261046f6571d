// The size and depth pre-scan every JSON reader runs before parsing (include/probity/json.hpp).
// nlohmann's copy, comparison and dump recurse once per nesting level, and so does any walk over
// a parsed document: a report.json nested 100,000 deep overflowed the stack of `probity attest`.
// The scan is iterative and keeps one small frame per open level (at most kMaxJsonDepth), only
// to name the path to the level that is too deep.
#include <fmt/format.h>

#include <array>
#include <vector>

#include "probity/json.hpp"

namespace probity {
namespace {

/// The bytes the scan acts on; everything else (whitespace, scalars) is skipped by table lookup.
constexpr std::array<bool, 256> kStructural = [] {
  std::array<bool, 256> t{};
  for (unsigned char c : {'"', '{', '}', '[', ']', ':', ','}) t[c] = true;
  return t;
}();

/// One open array or object: enough to print its path.
struct Frame {
  bool object = false;
  bool want_key = false;    ///< (object) the next string is a key
  std::uint64_t index = 0;  ///< (array) element index
  std::string_view key;     ///< (object) the last key read, raw (escapes not resolved)
};

/// The index of the quote that closes the string opened at `open`, or npos when it is not closed.
/// A quote preceded by an odd run of backslashes is escaped.
std::size_t string_end(std::string_view t, std::size_t open) {
  for (std::size_t from = open + 1;;) {
    const std::size_t q = t.find('"', from);
    if (q == std::string_view::npos) return q;
    std::size_t bs = 0;
    while (q - bs > open + 1 && t[q - bs - 1] == '\\') ++bs;
    if (bs % 2 == 0) return q;
    from = q + 1;
  }
}

/// "/verdict/clauses/0/...": the JSON pointer of the open levels, keys shortened and made
/// printable, at most kShown levels (then "/...").
std::string pointer(const std::vector<Frame>& frames) {
  constexpr std::size_t kShown = 8, kKeyBytes = 40;
  std::string out;
  for (std::size_t i = 0; i < frames.size() && i < kShown; ++i) {
    out += '/';
    if (!frames[i].object) {
      out += std::to_string(frames[i].index);
      continue;
    }
    const std::string_view k = frames[i].key.substr(0, kKeyBytes);
    for (unsigned char c : k) {
      if (c == '~')
        out += "~0";
      else if (c == '/')
        out += "~1";
      else
        out += c >= 0x20 && c < 0x7f ? char(c) : '?';
    }
    if (frames[i].key.size() > kKeyBytes) out += "...";
  }
  if (frames.size() > kShown) out += "/...";
  return out;
}

}  // namespace

Status check_json_bounds(std::string_view text, const std::string& file, std::uint64_t max_bytes) {
  if (text.size() > max_bytes)
    return std::unexpected(
        Error{fmt::format("{} bytes of JSON, over the cap of {} bytes", text.size(), max_bytes),
              file, max_bytes, "cap-json-bytes"});
  std::vector<Frame> frames;
  frames.reserve(16);
  const std::size_t n = text.size();
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (!kStructural[c]) continue;
    switch (c) {
      case '"': {
        const std::size_t end = string_end(text, i);
        if (end == std::string_view::npos) return {};  // unterminated: the parser says so
        if (!frames.empty() && frames.back().want_key)
          frames.back().key = text.substr(i + 1, end - i - 1);
        i = end;
        break;
      }
      case '{':
      case '[':
        if (frames.size() >= kMaxJsonDepth)
          return std::unexpected(
              Error{fmt::format("JSON nested more than {} deep (kMaxJsonDepth) at {}",
                                kMaxJsonDepth, pointer(frames)),
                    file, i, "cap-json-depth"});
        frames.push_back({c == '{', c == '{', 0, {}});
        break;
      case '}':
      case ']':
        if (!frames.empty()) frames.pop_back();  // a mismatch is the parser's to report
        break;
      case ':':
        if (!frames.empty()) frames.back().want_key = false;
        break;
      default:  // ','
        if (!frames.empty()) {
          if (frames.back().object)
            frames.back().want_key = true;
          else
            ++frames.back().index;
        }
        break;
    }
  }
  return {};
}

Result<nlohmann::json> parse_json_bounded(std::string_view text, const std::string& file,
                                          std::uint64_t max_bytes,
                                          const nlohmann::json::parser_callback_t& keep) {
  if (auto ok = check_json_bounds(text, file, max_bytes); !ok) return std::unexpected(ok.error());
  // nlohmann's lexer takes a NUL byte for the end of input: "{...}\0anything" would parse as
  // the object and the bytes after the NUL would go unread. No JSON text holds a raw NUL.
  if (const auto z = text.find('\0'); z != std::string_view::npos)
    return fail("not valid JSON: a NUL byte", z, file);
  try {
    // The parser itself is iterative (and, after the check, so much the better for what follows).
    return nlohmann::json::parse(text.begin(), text.end(), keep);
  } catch (const nlohmann::json::parse_error& e) {
    // what() is "[json.exception.parse_error.101] parse error at line 1, column 2: ...".
    std::string_view what = e.what();
    if (const auto sp = what.find("] "); sp != std::string_view::npos) what.remove_prefix(sp + 2);
    return fail("not valid JSON: " + std::string(what), e.byte > 0 ? e.byte - 1 : 0, file);
  } catch (const nlohmann::json::exception& e) {
    return fail(std::string("not valid JSON: ") + e.what(), 0, file);
  }
}

}  // namespace probity
