// DOS date and time fields (FAT directory entries, ARJ headers): one conversion for both.
#pragma once

#include <cstdint>

namespace probity::unpacker {

/// Seconds since 1970 of a DOS date and time (no time zone: taken as UTC).
inline std::int64_t dos_time(std::uint16_t date, std::uint16_t time) {
  std::int64_t y = 1980 + (date >> 9), m = (date >> 5) & 15, dd = date & 31;
  if (m < 1 || m > 12 || dd < 1) return 0;
  // Days from the civil date (proleptic Gregorian).
  y -= m <= 2;
  const std::int64_t era = y / 400, yoe = y - era * 400;
  const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + dd - 1;
  const std::int64_t days = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
  return days * 86400 + (time >> 11) * 3600 + ((time >> 5) & 63) * 60 + (time & 31) * 2;
}

}  // namespace probity::unpacker
