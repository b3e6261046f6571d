#include "probity/version.hpp"

#include <algorithm>
#include <cctype>
#include <string>

namespace probity {
namespace {

// Rank of one piece of a version; pieces compare by rank first. The end of a version ranks as a
// release (kEnd): pre-release words and '~' sort below it, letters and numbers above it.
enum class Rank : int { kTilde = 0, kDev, kAlpha, kBeta, kPre, kRc, kEnd, kLetters, kNumber };

struct Piece {
  Rank rank = Rank::kEnd;
  std::string_view text;  // digits without leading zeros, or the lower-cased letter run
  std::string lower;
};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

Rank word_rank(const std::string& w) {
  if (w == "dev" || w == "snapshot") return Rank::kDev;
  if (w == "alpha") return Rank::kAlpha;
  if (w == "beta") return Rank::kBeta;
  if (w == "pre" || w == "preview") return Rank::kPre;
  if (w == "rc") return Rank::kRc;
  return Rank::kLetters;
}

// A cursor over one version string that yields its pieces one at a time (no allocation for
// numbers, which are most pieces).
class Pieces {
 public:
  explicit Pieces(std::string_view s) : s_(s) {}

  // Next piece, or a kEnd piece when exhausted.
  Piece next() {
    while (pos_ < s_.size()) {
      const char c = s_[pos_];
      if (c == '~') {
        ++pos_;
        return Piece{Rank::kTilde, {}, {}};
      }
      if (is_digit(c)) {
        std::size_t end = pos_;
        while (end < s_.size() && is_digit(s_[end])) ++end;
        std::size_t start = pos_;
        while (start + 1 < end && s_[start] == '0') ++start;
        pos_ = end;
        return Piece{Rank::kNumber, s_.substr(start, end - start), {}};
      }
      if (is_alpha(c)) {
        std::size_t end = pos_;
        std::string lower;
        while (end < s_.size() && is_alpha(s_[end]))
          lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(s_[end++]))));
        pos_ = end;
        Piece p{word_rank(lower), {}, std::move(lower)};
        return p;
      }
      ++pos_;  // a separator
    }
    return Piece{Rank::kEnd, {}, {}};
  }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

int compare_numbers(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  const int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

bool is_zero(const Piece& p) {
  return p.rank == Rank::kNumber && p.text == "0";
}

// Splits off "N:" (an epoch) when the prefix is all digits.
std::string_view split_epoch(std::string_view& v) {
  const auto colon = v.find(':');
  if (colon == std::string_view::npos || colon == 0) return "0";
  const auto head = v.substr(0, colon);
  if (!std::all_of(head.begin(), head.end(), is_digit)) return "0";
  v.remove_prefix(colon + 1);
  return head;
}

std::string_view trim(std::string_view v) {
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.remove_prefix(1);
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
  if (v.size() > 1 && (v[0] == 'v' || v[0] == 'V') && is_digit(v[1])) v.remove_prefix(1);
  return v;
}

}  // namespace

int compare_versions(std::string_view a, std::string_view b) {
  a = trim(a);
  b = trim(b);
  std::string_view ea = split_epoch(a), eb = split_epoch(b);
  while (ea.size() > 1 && ea[0] == '0') ea.remove_prefix(1);
  while (eb.size() > 1 && eb[0] == '0') eb.remove_prefix(1);
  if (const int c = compare_numbers(ea, eb); c != 0) return c;

  Pieces pa(a), pb(b);
  for (;;) {
    Piece x = pa.next(), y = pb.next();
    if (x.rank == Rank::kEnd && y.rank == Rank::kEnd) return 0;
    // A zero against the end of the other version is padding: "2.9" == "2.9.0".
    if (x.rank == Rank::kEnd && is_zero(y)) continue;
    if (y.rank == Rank::kEnd && is_zero(x)) continue;
    if (x.rank != y.rank) return static_cast<int>(x.rank) < static_cast<int>(y.rank) ? -1 : 1;
    if (x.rank == Rank::kNumber) {
      if (const int c = compare_numbers(x.text, y.text); c != 0) return c;
    } else if (x.rank == Rank::kLetters) {
      if (const int c = x.lower.compare(y.lower); c != 0) return c < 0 ? -1 : 1;
    }
  }
}

}  // namespace probity
