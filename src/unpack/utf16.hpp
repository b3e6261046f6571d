// UTF-16 names (FAT long names, exFAT file names): one conversion for both.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace probity::unpacker {

/// UTF-8 of UTF-16 code units (unpaired surrogates become '_').
inline std::string utf16_to_utf8(const std::vector<std::uint16_t>& u) {
  std::string s;
  for (std::size_t i = 0; i < u.size(); ++i) {
    std::uint32_t c = u[i];
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < u.size() && u[i + 1] >= 0xdc00 && u[i + 1] < 0xe000)
      c = 0x10000 + ((c - 0xd800) << 10) + (u[++i] - 0xdc00);
    else if (c >= 0xd800 && c < 0xe000)
      c = '_';
    if (c < 0x80) {
      s += char(c);
    } else if (c < 0x800) {
      s += char(0xc0 | c >> 6), s += char(0x80 | (c & 0x3f));
    } else if (c < 0x10000) {
      s += char(0xe0 | c >> 12), s += char(0x80 | ((c >> 6) & 0x3f)), s += char(0x80 | (c & 0x3f));
    } else {
      s += char(0xf0 | c >> 18), s += char(0x80 | ((c >> 12) & 0x3f));
      s += char(0x80 | ((c >> 6) & 0x3f)), s += char(0x80 | (c & 0x3f));
    }
  }
  return s;
}

}  // namespace probity::unpacker
