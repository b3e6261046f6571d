// What the source does not explain (issue 18 item 2, docs/source-audit.md "Binaries against
// their source"): SourceIndex (the strings and names C/C++ files hold, from a bounded lexer),
// binary_text (an ELF's strings, defined symbols and DWARF file names, through libelf) and the
// stage that maps every ELF of an image to the tree.
//
// Why a lexer of our own and not libclang: explaining strings needs every literal of every
// file, including files libclang cannot parse in an unconfigured tree (missing generated
// headers, other architectures' #ifdef branches, files no build includes); a token-level pass
// sees them all in linear time, and libclang stays for the checks that need the AST.
#include <gelf.h>
#include <libelf.h>
#include <string.h>  // memmem

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <mutex>

#include "checks_support/elf_info.hpp"
#include "core/bytes.hpp"
#include "core/elf_memory.hpp"
#include "probity/checks.hpp"
#include "probity/diff.hpp"
#include "probity/inventory.hpp"
#include "probity/limits.hpp"
#include "probity/source.hpp"
#include "probity/task_pool.hpp"
#include "probity/tree_files.hpp"
#include "probity/unpack.hpp"
#include "source/internal.hpp"

namespace probity {
namespace {

namespace fs = std::filesystem;

/// Shortest NUL-terminated text run taken from a binary as a string (a heuristic, not a cap:
/// `strings` uses 4; 6 keeps pointer and table bytes out).
constexpr std::size_t kMinBinaryString = 6;
/// Shortest piece of a string explained as two literals laid end to end (a heuristic).
/// A heuristic, not a cap.
constexpr std::size_t kMinPiece = 4;
/// A binary whose strings the source explains less than this is reported once, as a binary
/// without source origin, not string by string (a heuristic).
/// A heuristic, not a cap.
constexpr double kMinOriginShare = 0.5;

bool ident_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
}
bool ident_char(char c) {
  return ident_start(c) || (c >= '0' && c <= '9');
}
bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
int hex_val(char c) {
  return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

void put_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | ((cp >> 18) & 0x07));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

/// The bytes a C string literal's body (between the quotes) stands for.
std::string unescape(std::string_view b) {
  std::string out;
  out.reserve(b.size());
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (b[i] != '\\' || i + 1 >= b.size()) {
      out += b[i];
      continue;
    }
    const char c = b[++i];
    switch (c) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case 'a':
        out += '\a';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'v':
        out += '\v';
        break;
      case 'e':
        out += '\x1b';
        break;
      case 'x': {
        unsigned v = 0;
        std::size_t n = 0;
        while (i + 1 < b.size() && is_hex(b[i + 1])) v = (v << 4) | unsigned(hex_val(b[++i])), ++n;
        out += n ? char(v & 0xFF) : 'x';
        break;
      }
      case 'u':
      case 'U': {
        const std::size_t want = c == 'u' ? 4 : 8;
        std::uint32_t v = 0;
        std::size_t n = 0;
        while (n < want && i + 1 < b.size() && is_hex(b[i + 1]))
          v = (v << 4) | std::uint32_t(hex_val(b[++i])), ++n;
        if (v > 0x10FFFF) v = 0xFFFD;
        put_utf8(out, v);
        break;
      }
      default:
        if (c >= '0' && c <= '7') {
          unsigned v = unsigned(c - '0');
          for (int k = 0; k < 2 && i + 1 < b.size() && b[i + 1] >= '0' && b[i + 1] <= '7'; ++k)
            v = v * 8 + unsigned(b[++i] - '0');
          out += char(v & 0xFF);
        } else {
          out += c;  // \\ \" \' \? and unknown escapes
        }
    }
  }
  return out;
}

/// One piece of a concatenation: literal text, a macro (resolved at finish()), or a gap.
struct Piece {
  enum Kind { kText, kMacro, kGap } kind = kText;
  std::string text;  ///< the literal, or the macro's name
};

/// A piece as patterns and macro values keep it: "T<text>", "M<name>" or "G".
std::string encode(const Piece& p) {
  return p.kind == Piece::kText ? "T" + p.text : p.kind == Piece::kMacro ? "M" + p.text : "G";
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// SourceIndex

void SourceIndex::add_literal(std::string s) {
  // A literal holding NULs ("a\0b") is several C strings in the binary.
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t nul = s.find('\0', start);
    if (nul == std::string::npos) nul = s.size();
    if (nul > start) {
      if (bytes_ + (nul - start) > kMaxSourceLiteralBytes) {
        full_ = true;
        return;
      }
      if (literals_.emplace(s.substr(start, nul - start)).second) bytes_ += nul - start;
    }
    start = nul + 1;
  }
}

void SourceIndex::add_pattern(Pattern p) {
  patterns_.push_back(std::move(p));
}

bool SourceIndex::add_c(std::string_view t) {
  add_code(t);
  return lex(t, false);
}

bool SourceIndex::lex(std::string_view t, bool comment) {
  if (full_) return false;
  std::vector<Piece> seq;
  std::optional<std::string> pending;  // an identifier that may be a macro inside a sequence
  int call_depth = 0;                  // inside a macro call's arguments within a sequence
  bool directive = false;              // inside a preprocessor line
  bool line_start = true;
  // #define NAME "literal" ...: the macro's value when its body is one sequence of literals,
  // string macros and gaps.
  std::string define_name;
  bool define_object = false;
  std::size_t flushes = 0, define_flushes_at = 0;

  auto flush = [&] {
    pending.reset();
    call_depth = 0;
    bool any = false;
    for (const auto& p : seq) any |= p.kind != Piece::kGap;
    if (!any) {
      seq.clear();
      return;
    }
    ++flushes;
    // Merge adjacent texts and adjacent gaps.
    std::vector<Piece> out;
    for (auto& p : seq) {
      if (!out.empty() && p.kind == Piece::kText && out.back().kind == Piece::kText)
        out.back().text += p.text;
      else if (!out.empty() && p.kind == Piece::kGap && out.back().kind == Piece::kGap)
        continue;
      else
        out.push_back(std::move(p));
    }
    seq.clear();
    for (const auto& p : out)
      if (p.kind == Piece::kText) add_literal(p.text);
    if (out.size() == 1 && out[0].kind == Piece::kText) return;
    // Kept as pieces; macros resolved at finish().
    Pattern pat;
    for (auto& p : out) pat.pieces.push_back(encode(p));
    add_pattern(std::move(pat));
  };
  auto end_pending = [&] {
    if (pending && !seq.empty()) seq.push_back({Piece::kMacro, *pending});
    pending.reset();
  };
  auto end_directive = [&] {
    if (!directive) return;
    end_pending();
    if (!define_name.empty() && define_object && flushes == define_flushes_at &&
        std::any_of(seq.begin(), seq.end(),
                    [](const Piece& p) { return p.kind == Piece::kText; })) {
      std::vector<std::string> value;
      for (const auto& p : seq) value.push_back(encode(p));
      auto& values = macros_[define_name];
      if (values.size() < kMaxExplainMacroValues) values.insert(std::move(value));
    }
    flush();
    define_name.clear();
    define_object = false;
    directive = false;
  };
  auto on_literal = [&](std::string lit) {
    if (call_depth > 0) {
      add_literal(std::move(lit));
      return;
    }
    if (pending) seq.push_back({Piece::kMacro, *std::exchange(pending, std::nullopt)});
    seq.push_back({Piece::kText, std::move(lit)});
  };

  const std::size_t n = t.size();
  std::size_t i = 0;
  while (i < n) {
    const char c = t[i];
    if (c == '\n') {
      // A backslash before the newline continues a directive.
      std::size_t k = i;
      while (k > 0 && (t[k - 1] == ' ' || t[k - 1] == '\t' || t[k - 1] == '\r')) --k;
      if (!(k > 0 && t[k - 1] == '\\')) end_directive();
      line_start = true;
      ++i;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v' || c == '\\') {
      ++i;
      continue;
    }
    // Comments: their text is lexed on its own (once, not recursively), for the build-time
    // metadata some trees keep there (BusyBox's //applet: and //usage: lines).
    if (c == '/' && i + 1 < n && t[i + 1] == '/') {
      const std::size_t b = i + 2;
      while (i < n && t[i] != '\n') ++i;
      if (!comment) lex(t.substr(b, i - b), true);
      continue;
    }
    if (c == '/' && i + 1 < n && t[i + 1] == '*') {
      const auto e = t.find("*/", i + 2);
      const std::size_t end = e == std::string_view::npos ? n : e;
      if (!comment) lex(t.substr(i + 2, end - i - 2), true);
      i = e == std::string_view::npos ? n : e + 2;
      continue;
    }
    const bool at_line_start = line_start;
    line_start = false;
    if (c == '#' && at_line_start && !directive) {
      // A preprocessor directive: include names, string macros, stringification in bodies.
      end_pending();
      flush();
      directive = true;
      ++i;
      while (i < n && (t[i] == ' ' || t[i] == '\t')) ++i;
      std::size_t s = i;
      while (i < n && ident_char(t[i])) ++i;
      const std::string_view name = t.substr(s, i - s);
      if (name == "include" || name == "include_next" || name == "import") {
        while (i < n && (t[i] == ' ' || t[i] == '\t')) ++i;
        if (i < n && (t[i] == '<' || t[i] == '"')) {
          const char close = t[i] == '<' ? '>' : '"';
          const std::size_t b = ++i;
          while (i < n && t[i] != close && t[i] != '\n') ++i;
          if (i < n && t[i] == close && i > b && i - b < 256) includes_.emplace(t.substr(b, i - b));
        }
        while (i < n && t[i] != '\n') ++i;
        continue;
      }
      if (name == "define") {
        while (i < n && (t[i] == ' ' || t[i] == '\t')) ++i;
        s = i;
        while (i < n && ident_char(t[i])) ++i;
        define_name = std::string(t.substr(s, i - s));
        if (!define_name.empty()) identifiers_.insert(define_name);
        define_object = true;
        define_flushes_at = flushes;
        if (i < n && t[i] == '(') {  // function-like: skip the parameters
          define_object = false;
          while (i < n && t[i] != ')' && t[i] != '\n') ++i;
          if (i < n && t[i] == ')') ++i;
        }
      } else if (name == "error" || name == "warning" || name == "pragma" || name == "line") {
        while (i < n && t[i] != '\n') ++i;
      }
      continue;
    }
    if (c == '#') {
      // In a macro body, #param stringifies: a gap in a sequence. ## pastes: ends one.
      if (i + 1 < n && t[i + 1] == '#') {
        end_pending();
        flush();
        i += 2;
        continue;
      }
      ++i;
      while (i < n && (t[i] == ' ' || t[i] == '\t')) ++i;
      if (i < n && ident_start(t[i])) {
        while (i < n && ident_char(t[i])) ++i;
        if (pending) seq.push_back({Piece::kMacro, *std::exchange(pending, std::nullopt)});
        seq.push_back({Piece::kGap, {}});
      }
      continue;
    }
    // String literal, with an optional encoding prefix; raw strings.
    auto lex_string = [&](std::size_t q, bool raw) {
      // q: index of the opening quote
      if (raw) {
        std::size_t p = q + 1;
        while (p < n && t[p] != '(' && p - q <= 17) ++p;
        if (p >= n || t[p] != '(') {
          i = q + 1;
          return;
        }
        const std::string close = ")" + std::string(t.substr(q + 1, p - q - 1)) + "\"";
        const auto e = t.find(close, p + 1);
        const std::size_t end = e == std::string_view::npos ? n : e;
        on_literal(std::string(t.substr(p + 1, end - p - 1)));
        i = e == std::string_view::npos ? n : e + close.size();
        return;
      }
      std::size_t p = q + 1;
      while (p < n && t[p] != '"' && t[p] != '\n') p += t[p] == '\\' && p + 1 < n ? 2 : 1;
      on_literal(unescape(t.substr(q + 1, std::min(p, n) - q - 1)));
      i = p < n && t[p] == '"' ? p + 1 : p;
    };
    if (c == '"') {
      lex_string(i, false);
      continue;
    }
    if (c == '\'') {
      std::size_t p = i + 1;
      while (p < n && t[p] != '\'' && t[p] != '\n') p += t[p] == '\\' && p + 1 < n ? 2 : 1;
      i = p < n && t[p] == '\'' ? p + 1 : p;
      end_pending();
      if (call_depth == 0) flush();
      continue;
    }
    if (ident_start(c)) {
      std::size_t s = i;
      while (i < n && ident_char(t[i])) ++i;
      const std::string_view id = t.substr(s, i - s);
      if (i < n && (t[i] == '"' || t[i] == '\'') &&
          (id == "L" || id == "u" || id == "U" || id == "u8" || id == "R" || id == "LR" ||
           id == "uR" || id == "UR" || id == "u8R")) {
        if (t[i] == '"') lex_string(i, id.back() == 'R');
        continue;  // a character literal's prefix: the quote is lexed next
      }
      identifiers_.emplace(id);
      if (call_depth > 0) continue;
      if (pending) flush();  // two names in a row: not a concatenation
      pending = std::string(id);
      continue;
    }
    if (c >= '0' && c <= '9') {
      while (i < n && (ident_char(t[i]) || t[i] == '.' || t[i] == '\'')) ++i;
      end_pending();
      if (call_depth == 0) flush();
      continue;
    }
    // Punctuation.
    ++i;
    if (c == '(') {
      if (call_depth > 0) {
        ++call_depth;
      } else if (pending && !seq.empty()) {
        // "text" MACRO(...) "text": the call is a gap (IF_FEATURE_X("o:") and the like).
        pending.reset();
        seq.push_back({Piece::kGap, {}});
        call_depth = 1;
      } else {
        flush();
      }
      continue;
    }
    if (c == ')' && call_depth > 0) {
      --call_depth;
      continue;
    }
    if (call_depth > 0) continue;
    end_pending();
    flush();
  }
  end_directive();
  end_pending();
  flush();
  return !full_;
}

void SourceIndex::merge(SourceIndex&& o) {
  if (literals_.empty()) {
    literals_ = std::move(o.literals_);
    bytes_ = o.bytes_;
  } else {
    for (auto& s : o.literals_) add_literal(s);
  }
  identifiers_.merge(o.identifiers_);
  includes_.merge(o.includes_);
  for (auto& [name, values] : o.macros_) {
    auto& mine = macros_[name];
    for (const auto& v : values)
      if (mine.size() < kMaxExplainMacroValues) mine.insert(v);
  }
  std::move(o.patterns_.begin(), o.patterns_.end(), std::back_inserter(patterns_));
  code_ += o.code_;
  full_ = full_ || o.full_;
}

void SourceIndex::finish() {
  // Resolve macros in patterns: a macro whose value is a literal of the tree becomes text
  // (each of its values: `#if` branches define one name several ways, up to kMaxExplainExpansions
  // combinations); an unknown one stays a gap.
  std::vector<Pattern> resolved;
  // Expands macro pieces (values may name macros themselves: up to three levels).
  std::function<void(const std::vector<std::string>&, int, std::vector<std::vector<std::string>>&)>
      expand = [&](const std::vector<std::string>& in, int depth,
                   std::vector<std::vector<std::string>>& variants) {
        for (const auto& piece : in) {
          const bool macro = !piece.empty() && piece[0] == 'M';
          const auto m = macro && depth < 3 ? macros_.find(piece.substr(1)) : macros_.end();
          if (!macro || m == macros_.end()) {
            for (auto& v : variants) v.push_back(macro ? std::string("G") : piece);
            continue;
          }
          std::vector<std::vector<std::string>> next;
          for (const auto& value : m->second)
            for (const auto& v : variants) {
              if (next.size() >= kMaxExplainExpansions) break;
              std::vector<std::vector<std::string>> one = {v};
              expand(value, depth + 1, one);
              for (auto& x : one)
                if (next.size() < kMaxExplainExpansions) next.push_back(std::move(x));
            }
          variants = std::move(next);
        }
      };
  for (auto& p : patterns_) {
    std::vector<std::vector<std::string>> variants(1);  // each: "T<text>" and "G" pieces
    expand(p.pieces, 0, variants);
    for (auto& v : variants) {
      std::vector<std::string> pieces;  // merged: "T<text>" and "G"
      for (auto& x : v) {
        const bool is_gap = x == "G";
        if (!pieces.empty() && (pieces.back() == "G") == is_gap) {
          if (!is_gap) pieces.back() += x.substr(1);
          continue;
        }
        pieces.push_back(std::move(x));
      }
      // A NUL inside a piece ends one C string and starts the next: split there.
      std::vector<std::vector<std::string>> strings(1);  // "T<text>"/"G" per C string
      for (auto& x : pieces) {
        if (x == "G") {
          strings.back().push_back("G");
          continue;
        }
        std::size_t start = 1;
        for (;;) {
          const auto nul = x.find('\0', start);
          const auto part = x.substr(start, nul == std::string::npos ? nul : nul - start);
          if (!part.empty()) strings.back().push_back("T" + part);
          if (nul == std::string::npos) break;
          strings.emplace_back();
          start = nul + 1;
        }
      }
      for (auto& str : strings) {
        Pattern q;
        q.open_start = !str.empty() && str.front() == "G";
        q.open_end = !str.empty() && str.back() == "G";
        for (auto& x : str)
          if (x != "G") {
            q.literal_bytes += x.size() - 1;
            q.pieces.push_back(x.substr(1));
          }
        if (q.pieces.empty()) continue;
        if (q.pieces.size() == 1 && !q.open_start && !q.open_end) {
          add_literal(q.pieces[0]);  // every macro resolved
          continue;
        }
        resolved.push_back(std::move(q));
      }
    }
  }
  patterns_ = std::move(resolved);
  std::sort(patterns_.begin(), patterns_.end(), [](const Pattern& a, const Pattern& b) {
    return std::tie(a.pieces, a.open_start, a.open_end) <
           std::tie(b.pieces, b.open_start, b.open_end);
  });
  patterns_.erase(std::unique(patterns_.begin(), patterns_.end(),
                              [](const Pattern& a, const Pattern& b) {
                                return a.pieces == b.pieces && a.open_start == b.open_start &&
                                       a.open_end == b.open_end;
                              }),
                  patterns_.end());
  by_first_.clear();
  by_last_.clear();
  for (std::size_t k = 0; k < patterns_.size(); ++k) {
    const Pattern& p = patterns_[k];
    if (!p.open_start && !p.pieces.front().empty())
      by_first_.emplace(p.pieces.front().substr(0, 3), k);
    else if (!p.open_end && !p.pieces.back().empty())
      by_last_.emplace(p.pieces.back().substr(p.pieces.back().size() -
                                              std::min<std::size_t>(3, p.pieces.back().size())),
                       k);
  }
  sorted_.assign(literals_.begin(), literals_.end());
  reversed_.clear();
  reversed_.reserve(literals_.size());
  corpus_.clear();
  corpus_.reserve(bytes_ + literals_.size());
  for (const auto& s : literals_) {
    reversed_.emplace_back(s.rbegin(), s.rend());
    corpus_ += s;
    corpus_ += '\x01';
  }
  std::sort(reversed_.begin(), reversed_.end());
}

bool SourceIndex::is_suffix(std::string_view s) const {
  const std::string r(s.rbegin(), s.rend());
  const auto it = std::lower_bound(reversed_.begin(), reversed_.end(), r);
  return it != reversed_.end() && it->starts_with(r);
}

bool SourceIndex::is_prefix(std::string_view s) const {
  const auto it = std::lower_bound(sorted_.begin(), sorted_.end(), s,
                                   [](const std::string& a, std::string_view b) { return a < b; });
  return it != sorted_.end() && it->starts_with(s);
}

bool SourceIndex::pattern_match(const Pattern& p, std::string_view s) const {
  // What the literals pin down must be a real part of the string: 4 bytes and a fifth of it.
  if (p.literal_bytes < 4 || p.literal_bytes * 5 < s.size()) return false;
  std::size_t pos = 0;
  for (std::size_t k = 0; k < p.pieces.size(); ++k) {
    const std::string& piece = p.pieces[k];
    const bool last = k + 1 == p.pieces.size();
    if (k == 0 && !p.open_start) {
      if (!s.starts_with(piece)) return false;
      pos = piece.size();
      if (last && !p.open_end) return pos == s.size();
      continue;
    }
    if (last && !p.open_end) return s.ends_with(piece) && s.size() - piece.size() >= pos;
    const auto at = s.find(piece, pos);
    if (at == std::string_view::npos) return false;
    pos = at + piece.size();
  }
  return true;
}

SourceIndex::Match SourceIndex::explain(std::string_view s) const {
  if (s.empty()) return Match::kLiteral;
  if (literals_.contains(std::string(s))) return Match::kLiteral;
  if (identifiers_.contains(std::string(s))) return Match::kIdentifier;
  if (is_suffix(s)) return Match::kSuffix;
  for (std::size_t k = 1; k <= std::min<std::size_t>(3, s.size()); ++k) {
    const auto [b, e] = by_first_.equal_range(std::string(s.substr(0, k)));
    for (auto it = b; it != e; ++it)
      if (pattern_match(patterns_[it->second], s)) return Match::kPattern;
    const auto [b2, e2] = by_last_.equal_range(std::string(s.substr(s.size() - k)));
    for (auto it = b2; it != e2; ++it)
      if (pattern_match(patterns_[it->second], s)) return Match::kPattern;
  }
  if (!corpus_.empty() && ::memmem(corpus_.data(), corpus_.size(), s.data(), s.size()))
    return Match::kSubstring;
  // An expression the preprocessor turned into a string (#X in assert-like macros): the code
  // text, whitespace collapsed as stringification does.
  if (s.size() >= kMinPiece && s.find_first_of("\n\t\r") == std::string_view::npos &&
      !code_.empty() && ::memmem(code_.data(), code_.size(), s.data(), s.size()))
    return Match::kStringified;
  // Literals laid end to end: char arrays without a NUL, merged tails, the pieces of a
  // sequence that #if blocks interrupt. The first piece may be a literal's tail and the last
  // one's head; every piece at least kMinPiece bytes (so that single letters cannot spell a
  // planted string).
  if (s.size() <= kMaxExplainPiecesString) {
    const std::size_t n = s.size();
    std::vector<char> reach(n + 1, 0);
    for (std::size_t j = kMinPiece; j < n; ++j) reach[j] = is_suffix(s.substr(0, j));
    for (std::size_t i = kMinPiece; i + kMinPiece <= n; ++i) {
      if (!reach[i]) continue;
      for (std::size_t j = i + kMinPiece; j <= n; ++j) {
        if (reach[j]) continue;
        const std::string_view piece = s.substr(i, j - i);
        if (literals_.contains(std::string(piece)) || (j == n && is_prefix(piece))) reach[j] = 1;
      }
      if (reach[n]) return Match::kPieces;
    }
  }
  return Match::kNone;
}

void SourceIndex::add_code(std::string_view t) {
  // Code text as stringification spells it: comments dropped, whitespace runs one space,
  // literals kept as written.
  const std::size_t n = t.size();
  bool space = true;
  for (std::size_t i = 0; i < n; ++i) {
    if (bytes_ + code_.size() >= kMaxSourceLiteralBytes) {
      full_ = true;
      return;
    }
    const char c = t[i];
    if (c == '/' && i + 1 < n && (t[i + 1] == '/' || t[i + 1] == '*')) {
      const bool line = t[i + 1] == '/';
      const auto e = line ? t.find('\n', i + 2) : t.find("*/", i + 2);
      i = e == std::string_view::npos ? n : (line ? e : e + 1);
      if (!space) code_ += ' ', space = true;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      if (!space) code_ += ' ', space = true;
      continue;
    }
    if (c == '"' || c == '\'') {
      std::size_t p = i + 1;
      while (p < n && t[p] != c && t[p] != '\n') p += t[p] == '\\' && p + 1 < n ? 2 : 1;
      const std::size_t end = std::min(p + 1, n);
      code_.append(t.substr(i, end - i));
      i = end - 1;
      space = false;
      continue;
    }
    code_ += c;
    space = false;
  }
  code_ += '\x01';
}

bool SourceIndex::has_identifier(std::string_view name) const {
  return identifiers_.contains(std::string(name));
}

// ---------------------------------------------------------------------------------------------
// The binary side

namespace {

bool text_byte(std::uint8_t b) {
  return (b >= 0x20 && b < 0x7f) || b == '\t' || b == '\n' || b == '\r' || b == 0x1b;
}

/// NUL-terminated text runs of `data` (at file offset `base`) into `out`.
void take_strings(Bytes data, std::uint64_t base, BinaryText& out) {
  std::size_t start = 0;
  for (std::size_t k = 0; k < data.size(); ++k) {
    const std::uint8_t b = data[k];
    if (text_byte(b)) continue;
    if (b == 0 && k - start >= kMinBinaryString) {
      const std::string_view s(reinterpret_cast<const char*>(data.data()) + start, k - start);
      const auto alnum = std::count_if(s.begin(), s.end(), [](char ch) {
        return (ch >= '0' && ch <= '9') || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z');
      });
      if (alnum >= 2) {
        if (out.strings.size() >= kMaxExplainStrings) {
          out.truncated = true;
          return;
        }
        out.strings.push_back({std::string(s), base + start});
      }
    }
    start = k + 1;
  }
}

bool source_file_name(std::string_view s) {
  for (std::string_view ext : {".c", ".cc", ".cpp", ".cxx", ".C", ".S"})
    if (s.size() > ext.size() && s.ends_with(ext)) return true;
  return false;
}

/// A name a symbol table holds, as the source spells it: the version suffix and GCC's clone
/// suffixes (.constprop.0, .isra.0, .part.0, .lto_priv.0, .cold) removed.
std::string symbol_base(std::string_view name) {
  if (const auto at = name.find('@'); at != std::string_view::npos) name = name.substr(0, at);
  if (const auto dot = name.find('.'); dot != std::string_view::npos && dot > 0)
    name = name.substr(0, dot);
  return std::string(name);
}

}  // namespace

std::optional<BinaryText> binary_text(std::span<const std::uint8_t> bytes) {
  const ElfPtr elf = open_elf(bytes);
  if (!elf) return std::nullopt;
  Elf* e = elf.get();
  GElf_Ehdr eh;
  if (!gelf_getehdr(e, &eh)) return std::nullopt;
  BinaryText out;
  std::size_t shstrndx = 0;
  const bool have_names = elf_getshdrstrndx(e, &shstrndx) == 0;
  std::size_t sections = 0;
  std::set<std::string> units;
  for (Elf_Scn* scn = nullptr; (scn = elf_nextscn(e, scn)) != nullptr;) {
    if (++sections > kMaxExplainSections) break;
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh)) continue;
    const char* nm = have_names ? elf_strptr(e, shstrndx, sh.sh_name) : nullptr;
    const std::string_view name = nm ? nm : "";
    const bool in_file = sh.sh_type != SHT_NOBITS && sh.sh_offset <= bytes.size() &&
                         sh.sh_size <= bytes.size() - sh.sh_offset;
    if (!in_file) continue;
    const Bytes data = bytes.subspan(sh.sh_offset, sh.sh_size);
    if (sh.sh_type == SHT_PROGBITS && (sh.sh_flags & SHF_ALLOC) && !(sh.sh_flags & SHF_EXECINSTR) &&
        (name.starts_with(".rodata") || name == ".data" || name.starts_with(".data.") ||
         name == ".sdata" || name == ".rdata" || name == ".lit4" || name == ".lit8")) {
      if (name == ".data.rel.ro" || name.starts_with(".data.rel.ro.")) continue;  // pointers
      take_strings(data, sh.sh_offset, out);
      continue;
    }
    if ((name == ".debug_str" || name == ".debug_line_str") && !(sh.sh_flags & SHF_COMPRESSED)) {
      std::size_t start = 0;
      for (std::size_t k = 0; k < data.size(); ++k) {
        if (data[k] != 0) continue;
        const std::string_view s(reinterpret_cast<const char*>(data.data()) + start, k - start);
        if (source_file_name(s) && units.size() < kMaxExplainStrings) units.emplace(s);
        start = k + 1;
      }
      continue;
    }
    if (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM) {
      Elf_Data* d = elf_getdata(scn, nullptr);
      if (!d || !sh.sh_entsize) continue;
      const std::size_t count =
          std::min<std::size_t>(sh.sh_size / sh.sh_entsize, probity::kMaxElfSymbols);
      for (std::size_t k = 0; k < count; ++k) {
        GElf_Sym sym;
        if (!gelf_getsym(d, int(k), &sym)) break;
        const int type = GELF_ST_TYPE(sym.st_info);
        if (sym.st_shndx == SHN_UNDEF || (type != STT_FUNC && type != STT_OBJECT)) continue;
        const char* sn = elf_strptr(e, sh.sh_link, sym.st_name);
        if (!sn || !*sn || *sn == '$') continue;
        if (out.symbols.size() >= kMaxExplainStrings) {
          out.truncated = true;
          break;
        }
        out.symbols.push_back({symbol_base(sn), type == STT_FUNC});
      }
    }
  }
  if (sections == 0) take_strings(bytes, 0, out);  // no section headers: the whole file
  std::sort(out.symbols.begin(), out.symbols.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  out.symbols.erase(std::unique(out.symbols.begin(), out.symbols.end(),
                                [](const auto& a, const auto& b) { return a.name == b.name; }),
                    out.symbols.end());
  out.units.assign(units.begin(), units.end());
  return out;
}

Severity unexplained_string_severity(std::string_view s) {
  if (s.size() < kMinBinaryString || s.size() > 128) return Severity::kMedium;
  bool letter = false, other = false;
  for (const char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '%' || c == 0x1b)
      return Severity::kMedium;
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
      letter = true;
    else
      other = true;
  }
  return letter && other ? Severity::kHigh : Severity::kMedium;
}

// ---------------------------------------------------------------------------------------------
// The stage

namespace source_detail {
namespace {

/// Names the C standard reserves to the implementation (7.1.3): a double underscore, or an
/// underscore and a capital. A binary's such symbols come from the compiler and C library.
bool reserved_name(std::string_view s) {
  return s.size() >= 2 && s[0] == '_' && (s[1] == '_' || (s[1] >= 'A' && s[1] <= 'Z'));
}

/// getopt's option syntax ("^b:c:f:n", "-1:r--t:t--r", "K:S:K--S", BusyBox's "^vqsalrDb"):
/// letters and digits with ':' (or a leading '^') and nothing but getopt's punctuation.
bool getopt_string(std::string_view s) {
  if (s.find(':') == std::string_view::npos && !s.starts_with('^')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || (c >= '0' && c <= '9') ||
           std::string_view(":+*?^-=!#").find(c) != std::string_view::npos;
  });
}

/// An enumerator's name as a helper macro stringifies it (VLAN_PLUS_VID): capitals, digits
/// and at least one underscore.
bool enum_name(std::string_view s) {
  return s.find('_') != std::string_view::npos && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
         });
}

/// The <source-name>s of an Itanium-mangled C++ name (_ZN3foo3barEv -> foo, bar), or {} when
/// it is not one.
std::vector<std::string> mangled_names(std::string_view s) {
  std::vector<std::string> out;
  if (!s.starts_with("_Z")) return out;
  for (std::size_t i = 2; i < s.size();) {
    if (s[i] < '1' || s[i] > '9') {
      ++i;
      continue;
    }
    std::size_t len = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && len < 100000)
      len = len * 10 + std::size_t(s[i++] - '0');
    if (len == 0 || len > s.size() - i) break;
    out.emplace_back(s.substr(i, len));
    i += len;
  }
  return out;
}

std::string printable(std::string_view s) {
  std::string out;
  for (const char c : s.substr(0, 200)) {
    if (c == '\n')
      out += "\\n";
    else if (c == '\t')
      out += "\\t";
    else if (c == '\r')
      out += "\\r";
    else if (static_cast<unsigned char>(c) < 0x20)
      out += "\\e";
    else
      out += c;
  }
  if (s.size() > 200) out += "...";
  return out;
}

/// Headers the tree includes, read from the toolchain's include directory (and its
/// multiarch subdirectories), then the headers those include, up to kMaxToolchainHeaders.
SourceIndex toolchain_index(const fs::path& dir, const std::set<std::string>& includes,
                            std::uint64_t& read, std::vector<SourceSkip>& skipped) {
  SourceIndex idx;
  auto root = TreeFiles::open_directory(dir);
  if (!root) {
    skipped.push_back({dir.string(), "toolchain-unreadable", root.error().to_string(), false});
    return idx;
  }
  std::vector<std::string> prefixes = {""};
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string n = it->path().filename().string();
    if (n.find("-linux-") != std::string::npos && it->is_directory(ec)) prefixes.push_back(n + "/");
  }
  std::sort(prefixes.begin() + 1, prefixes.end());
  std::set<std::string> seen;
  std::deque<std::string> queue(includes.begin(), includes.end());
  bool capped = false;
  while (!queue.empty()) {
    const std::string name = std::move(queue.front());
    queue.pop_front();
    if (name.empty() || name[0] == '/' || name.find("..") != std::string::npos) continue;
    if (!seen.insert(name).second) continue;
    for (const auto& pre : prefixes) {
      auto text = root->read_path("", pre + name, kMaxSourceFileBytes);
      if (!text) continue;
      if (read >= kMaxToolchainHeaders) {
        capped = true;
        break;
      }
      ++read;
      SourceIndex one;
      one.add_c(*text);
      for (const auto& inc : one.includes())
        if (!seen.contains(inc)) queue.push_back(inc);
      idx.merge(std::move(one));
    }
    if (capped) break;
  }
  if (capped)
    skipped.push_back({dir.string(), "cap-toolchain-headers",
                       "more than " + std::to_string(kMaxToolchainHeaders) +
                           " headers (kMaxToolchainHeaders): the rest not read; strings they "
                           "would explain are reported",
                       false});
  idx.finish();
  return idx;
}

}  // namespace

std::vector<Finding> explain_binaries(const SourceOptions& opt, const fs::path& tree_root,
                                      const std::vector<FileRecord>& tree_files,
                                      const TreeFiles& tree, TaskPool& pool, double min_coverage,
                                      SourceResult& result) {
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  std::vector<Finding> findings;

  // 1. The tree's index: every text file (C/C++ first of all, but build files, Kconfig
  // defaults and configuration carry strings the build puts into binaries too).
  std::vector<SourceIndex> per_slot(pool.concurrency());
  std::atomic<std::size_t> next{0};
  pool.for_each(pool.concurrency(), [&](unsigned slot, std::size_t) {
    for (std::size_t i; (i = next.fetch_add(1)) < tree_files.size();) {
      const FileRecord& f = tree_files[i];
      auto text = tree.read(f, opt.max_file_bytes);
      if (!text) continue;                    // listed as unreadable by the components pass
      if (text->find('\0') < 8192) continue;  // not text
      per_slot[slot].add_c(*text);
    }
  });
  SourceIndex index;
  for (auto& s : per_slot) index.merge(std::move(s));
  per_slot.clear();
  index.finish();
  if (index.full())
    result.skipped.push_back({"", "cap-literal-bytes",
                              "string literals past " + std::to_string(kMaxSourceLiteralBytes) +
                                  " bytes (kMaxSourceLiteralBytes) not indexed",
                              true});

  // 2. The toolchain: headers the tree includes, from the toolchain's include directory.
  SourceIndex toolchain;
  bool have_toolchain = false;
  if (opt.learn_toolchain) {
    fs::path dir = opt.toolchain;
    std::error_code ec;
    if (dir.empty() && fs::is_directory("/usr/include", ec)) dir = "/usr/include";
    if (!dir.empty()) {
      toolchain =
          toolchain_index(dir, index.includes(), result.stats.toolchain_headers, result.skipped);
      have_toolchain = true;
    }
  }

  // 3. The binaries.
  ArtifactTree image_tree;
  std::optional<TreeFiles> image_files;
  std::vector<std::uint8_t> image_elf;  // --image naming an ELF itself
  if (!opt.image.empty()) {
    std::vector<std::uint8_t> head(64);
    if (FILE* fp = std::fopen(opt.image.c_str(), "rb")) {
      head.resize(std::fread(head.data(), 1, head.size(), fp));
      std::fclose(fp);
    }
    if (elf_facts(head)) {
      auto m = MappedFile::open(opt.image);
      if (!m) return findings;
      if (m->size() > kMaxExplainBinaryBytes) {
        result.skipped.push_back({opt.image.string(), "cap-binary-bytes",
                                  "larger than kMaxExplainBinaryBytes: not mapped", true});
        return findings;
      }
      image_elf.assign(m->bytes().begin(), m->bytes().end());
      FileRecord f;
      f.path = opt.image.filename().string();
      f.kind = "elf";
      image_tree.files.push_back(f);
    } else {
      UnpackOptions uo;
      uo.pool = &pool;
      const fs::path dir = opt.out / "image";
      auto t = unpack(opt.image, dir, uo);
      if (!t) {
        result.skipped.push_back(
            {opt.image.string(), "image-unreadable", t.error().to_string(), true});
        return findings;
      }
      image_tree = std::move(*t);
      inventory(image_tree, dir, pool);
      auto tf = TreeFiles::open(dir);
      if (!tf) return findings;
      image_files = std::move(*tf);
      if (image_tree.coverage.share() < 1.0 || !image_tree.warnings.empty())
        result.skipped.push_back({opt.image.string(), "image-incomplete",
                                  std::to_string(image_tree.warnings.size()) +
                                      " unpack warning(s), coverage " +
                                      std::to_string(image_tree.coverage.share()) +
                                      ": binaries not extracted are not mapped (see " +
                                      (dir / "manifest.json").string() + ")",
                                  image_tree.coverage.share() < min_coverage});
    }
  } else if (!opt.scan_dir.empty()) {
    auto rep = read_report(opt.scan_dir / "report.json");
    if (!rep) {
      result.skipped.push_back(
          {opt.scan_dir.string(), "scan-unreadable", rep.error().to_string(), true});
      return findings;
    }
    image_tree = std::move(rep->tree);
    auto tf = TreeFiles::open(opt.scan_dir);
    if (!tf) {
      result.skipped.push_back(
          {opt.scan_dir.string(), "scan-unreadable", tf.error().to_string(), true});
      return findings;
    }
    image_files = std::move(*tf);
  }
  std::vector<const FileRecord*> elves;
  for (const auto& f : image_tree.files)
    if (f.kind == "elf" && f.type == EntryType::kFile) elves.push_back(&f);
  if (elves.size() > kMaxExplainBinaries) {
    result.skipped.push_back({"", "cap-binaries",
                              std::to_string(elves.size() - kMaxExplainBinaries) +
                                  " ELF files past kMaxExplainBinaries: not mapped",
                              true});
    elves.resize(kMaxExplainBinaries);
  }
  std::set<std::string> base_names;  // DWARF units are matched by file name
  for (const auto& tf : tree_files) base_names.insert(fs::path(tf.path).filename().string());
  // __FILE__: a string naming a source file of the tree (by its file name).
  auto file_name = [&](std::string_view s) {
    if (!source_file_name(s) && !s.ends_with(".h")) return false;
    const auto slash = s.rfind('/');
    return base_names.contains(
        std::string(slash == std::string_view::npos ? s : s.substr(slash + 1)));
  };
  std::vector<std::optional<BinaryExplained>> out(elves.size());
  std::vector<std::vector<SourceSkip>> skips(pool.concurrency());
  next = 0;
  pool.for_each(pool.concurrency(), [&](unsigned slot, std::size_t) {
    for (std::size_t i; (i = next.fetch_add(1)) < elves.size();) {
      const FileRecord& f = *elves[i];
      std::optional<MappedFile> map;
      Bytes bytes;
      if (!image_elf.empty()) {
        bytes = Bytes(image_elf.data(), image_elf.size());
      } else {
        if (f.extracted.empty() || !image_files) {
          skips[slot].push_back({f.path, "binary-not-extracted", "no extracted copy", true});
          continue;
        }
        if (f.size > kMaxExplainBinaryBytes) {
          skips[slot].push_back(
              {f.path, "cap-binary-bytes",
               std::to_string(f.size) + " bytes, more than kMaxExplainBinaryBytes: not mapped",
               true});
          continue;
        }
        auto m = image_files->map(f);
        if (!m) {
          skips[slot].push_back({f.path, "binary-unreadable", m.error().to_string(), true});
          continue;
        }
        map = std::move(*m);
        bytes = map->bytes();
      }
      auto text = binary_text(bytes);
      if (!text) {
        skips[slot].push_back({f.path, "binary-unreadable", "libelf does not read it", true});
        continue;
      }
      BinaryExplained b;
      b.path = f.path;
      b.container = f.container;
      b.sha256 = f.sha256;
      b.truncated = text->truncated;
      if (text->truncated)
        skips[slot].push_back({f.path, "cap-binary-strings",
                               "more than kMaxExplainStrings strings or symbols: the rest not "
                               "mapped",
                               true});
      auto note = [&](std::string kind, std::string s, std::uint64_t off, Severity sev) {
        ++b.unexplained_total;
        if (b.unexplained.size() < kMaxUnexplainedFindings)
          b.unexplained.push_back({std::move(kind), std::move(s), off, sev});
      };
      for (auto& s : text->strings) {
        ++b.strings;
        if (index.explain(s.text) != SourceIndex::Match::kNone || file_name(s.text)) {
          ++b.strings_source;
        } else if (have_toolchain && toolchain.explain(s.text) != SourceIndex::Match::kNone) {
          ++b.strings_toolchain;
        } else {
          // Medium, not high, when all but a one-letter prefix is explained (long-option
          // tables: a short option's letter before the name), for getopt's syntax and for
          // stringified enumerator names.
          Severity sev = unexplained_string_severity(s.text);
          if (sev == Severity::kHigh &&
              (index.explain(std::string_view(s.text).substr(1)) != SourceIndex::Match::kNone ||
               getopt_string(s.text) || enum_name(s.text)))
            sev = Severity::kMedium;
          note("string", s.text, s.offset, sev);
        }
      }
      for (auto& s : text->symbols) {
        ++b.symbols;
        auto parts = mangled_names(s.name);
        const bool source =
            parts.empty() ? index.has_identifier(s.name)
                          : std::all_of(parts.begin(), parts.end(), [&](const std::string& p) {
                              return index.has_identifier(p) ||
                                     (have_toolchain && toolchain.has_identifier(p));
                            });
        if (source) {
          ++b.symbols_source;
        } else if (reserved_name(s.name) || (have_toolchain && toolchain.has_identifier(s.name))) {
          ++b.symbols_toolchain;
        } else {
          note("symbol", s.name, 0, s.function ? Severity::kHigh : Severity::kMedium);
        }
      }
      for (auto& u : text->units) {
        ++b.units;
        if (base_names.contains(fs::path(u).filename().string())) {
          ++b.units_source;
        } else if (u.starts_with("/usr/") || u.find("sysdeps/") != std::string::npos ||
                   u.find("libgcc") != std::string::npos || u.find("csu/") != std::string::npos) {
          ++b.units_toolchain;
        } else {
          note("unit", u, 0, Severity::kHigh);
        }
      }
      out[i] = std::move(b);
    }
  });
  for (auto& s : skips) result.skipped.insert(result.skipped.end(), s.begin(), s.end());

  for (auto& b : out) {
    if (!b) continue;
    const bool no_origin = b->strings >= 20 && b->string_share() < kMinOriginShare;
    auto make = [&](const std::string& rule, Severity sev, std::string excerpt,
                    std::uint64_t offset, std::string message) {
      Finding f;
      f.rule = rule;
      f.category = "provenance";
      f.severity = sev;
      f.path = b->path;
      f.container = b->container;
      f.message = std::move(message);
      f.evidence.excerpt = printable(excerpt);
      f.evidence.offset = offset;
      f.id = finding_id(rule, "binary:" + b->path, excerpt);
      findings.push_back(std::move(f));
    };
    if (no_origin) {
      make("binary-without-source", Severity::kHigh,
           std::to_string(b->strings - b->strings_source - b->strings_toolchain) + " of " +
               std::to_string(b->strings) + " strings unexplained",
           0,
           "the source tree explains " + std::to_string(int(100 * b->string_share())) +
               " % of this binary's " + std::to_string(b->strings) +
               " strings: it was not built from this source (or from much more than it)");
      continue;
    }
    for (const auto& u : b->unexplained) {
      if (u.kind == "string")
        make("unexplained-string", u.severity, u.text, u.offset,
             "string in the binary that no source file, string macro or toolchain header holds");
      else if (u.kind == "symbol")
        make("unexplained-symbol", u.severity, u.text, 0,
             "defined symbol with no identifier of that name in the source tree");
      else
        make("unexplained-unit", u.severity, u.text, 0,
             "DWARF names a source file the tree does not have");
    }
  }
  for (auto& b : out)
    if (b) result.binaries.push_back(std::move(*b));
  result.stats.explain_ms = std::uint64_t(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count());
  (void)tree_root;
  return findings;
}

}  // namespace source_detail
}  // namespace probity
