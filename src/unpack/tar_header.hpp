// What the tar formats (ustar/GNU/pax in `tar`, pre-POSIX v7 in `tar_v7`) share: the header
// checksum and the record padding after the end-of-archive blocks.
#pragma once

#include <algorithm>
#include <cstdint>

#include "core/bytes.hpp"

namespace probity::unpacker::tar {

/// The 512-byte header's checksum (the sum of its bytes with the checksum field read as spaces)
/// equals the octal value stored at 148. The field ends with NUL or a space; Perl's Archive::Tar
/// and old GNU tar pad it with leading spaces (" 11123\0 ").
inline bool checksum_ok(Bytes d) {
  if (d.size() < 512) return false;
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < 512; ++i) sum += (i >= 148 && i < 156) ? ' ' : d[i];
  std::uint32_t stored = 0;
  bool digits = false;
  std::size_t i = 148;
  while (i < 156 && d[i] == ' ') ++i;
  for (; i < 156 && d[i] && d[i] != ' '; ++i) {
    if (d[i] < '0' || d[i] > '7') return false;
    stored = stored * 8 + (d[i] - '0');
    digits = true;
  }
  return digits && stored == sum;
}

/// tar pads the archive with zero blocks to a whole record (10 KiB by default): the span grows
/// over those blocks from `end`.
inline std::uint64_t span_with_padding(Bytes d, std::uint64_t end) {
  constexpr std::uint64_t kRecord = 10240;
  auto zero_block = [&](std::uint64_t at) {
    Bytes b = sub(d, at, 512);
    return b.size() == 512 &&
           std::all_of(b.begin(), b.end(), [](std::uint8_t c) { return c == 0; });
  };
  while (end % kRecord != 0 && zero_block(end)) end += 512;
  return end;
}

}  // namespace probity::unpacker::tar
