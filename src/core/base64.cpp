#include "probity/base64.hpp"

namespace probity {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int decode_char(char c, bool url_ok) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  if (url_ok && c == '-') return 62;
  if (url_ok && c == '_') return 63;
  return -1;
}

std::optional<std::vector<std::uint8_t>> decode_lenient(std::string_view s) {
  std::vector<std::uint8_t> out;
  out.reserve(s.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    if (c == '=') break;
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    const int v = decode_char(c, false);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | std::uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(std::uint8_t(acc >> bits));
    }
  }
  return out;
}

std::optional<std::vector<std::uint8_t>> decode_strict(std::string_view s, bool url_ok) {
  // DSSE producers may omit padding in the URL-safe form; restore it before the strict check.
  std::string padded;
  if (url_ok && s.size() % 4 != 0 && s.find('=') == std::string_view::npos) {
    padded.assign(s);
    padded.append((4 - s.size() % 4) % 4, '=');
    s = padded;
  }
  if (s.size() % 4 != 0) return std::nullopt;
  std::vector<std::uint8_t> out;
  out.reserve(s.size() / 4 * 3);
  for (std::size_t i = 0; i < s.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int j = 0; j < 4; ++j) {
      const char c = s[i + j];
      if (c == '=') {
        // Padding only in the last quantum, only in its last two places, and contiguous.
        if (i + 4 != s.size() || j < 2) return std::nullopt;
        ++pad;
        v[j] = 0;
        continue;
      }
      if (pad) return std::nullopt;
      v[j] = decode_char(c, url_ok);
      if (v[j] < 0) return std::nullopt;
    }
    const std::uint32_t w = (std::uint32_t(v[0]) << 18) | (std::uint32_t(v[1]) << 12) |
                            (std::uint32_t(v[2]) << 6) | std::uint32_t(v[3]);
    out.push_back(std::uint8_t(w >> 16));
    if (pad < 2) out.push_back(std::uint8_t(w >> 8));
    if (pad < 1) out.push_back(std::uint8_t(w));
    // Non-canonical encodings (stray bits in the padding) are rejected: one value, one text.
    if (pad == 1 && (w & 0xff) != 0) return std::nullopt;
    if (pad == 2 && (w & 0xffff) != 0) return std::nullopt;
  }
  return out;
}

}  // namespace

std::string base64_encode(std::span<const std::uint8_t> b, bool pad) {
  std::string out;
  out.reserve((b.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= b.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t(b[i]) << 16) | (std::uint32_t(b[i + 1]) << 8) | b[i + 2];
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == b.size()) {
    const std::uint32_t v = std::uint32_t(b[i]) << 16;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    if (pad) out += "==";
  } else if (i + 2 == b.size()) {
    const std::uint32_t v = (std::uint32_t(b[i]) << 16) | (std::uint32_t(b[i + 1]) << 8);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    if (pad) out += '=';
  }
  return out;
}

std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text, Base64Mode mode) {
  if (mode == Base64Mode::kLenient) return decode_lenient(text);
  return decode_strict(text, mode == Base64Mode::kUrlOk);
}

}  // namespace probity
