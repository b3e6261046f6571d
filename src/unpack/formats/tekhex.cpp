// Tektronix hex, standard and extended, to the binary it describes.
// Standard: "/" AAAA LL HH data DD — a 16-bit address, a byte count, HH the sum of the six
// address and count digits, DD the sum of the data digits (each modulo 256); a count of 0 ends.
// Extended: "%" LL T CC N address data — LL the characters after '%', T 6 data / 3 symbol /
// 8 end, CC the sum of every other digit of the record, N the address's digit count (0 = 16).
#include <fmt/format.h>

#include "unpack/format.hpp"
#include "unpack/hex_image.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"/", 0}, {"%", 0}};
constexpr std::string_view kDescription = "Tektronix hex and extended Tektronix hex to binary";

/// The value of one hex digit, -1 for anything else.
int digit(char c) {
  const auto i = std::string_view("0123456789ABCDEF").find(char(c >= 'a' && c <= 'f' ? c - 32 : c));
  return i == std::string_view::npos ? -1 : int(i);
}

/// The value of `n` hex digits at `s[at]`, or nullopt.
std::optional<std::uint64_t> number(std::string_view s, std::size_t at, std::size_t n) {
  if (at + n > s.size()) return std::nullopt;
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const int x = digit(s[at + i]);
    if (x < 0) return std::nullopt;
    v = v << 4 | std::uint64_t(x);
  }
  return v;
}

/// Sum of the digit values of s[at, at+n) (every character must be a hex digit).
std::optional<std::uint32_t> digit_sum(std::string_view s, std::size_t at, std::size_t n) {
  std::uint32_t sum = 0;
  for (std::size_t i = at; i < at + n && i < s.size(); ++i) {
    const int x = digit(s[i]);
    if (x < 0) return std::nullopt;
    sum += std::uint32_t(x);
  }
  return sum;
}

Result<HexRecord> standard(std::string_view line) {
  auto addr = number(line, 1, 4), count = number(line, 5, 2), hsum = number(line, 7, 2);
  if (!addr || !count || !hsum) return fail("not a Tektronix hex record");
  if ((*digit_sum(line, 1, 6) & 0xff) != *hsum) return fail("header checksum mismatch");
  HexRecord r;
  if (*count == 0) {
    r.kind = HexRecord::kEnd;
    return r;
  }
  if (line.size() != 9 + 2 * *count + 2) return fail("record length disagrees with its count");
  auto data = hex_bytes(line.substr(9, 2 * *count));
  auto dsum = number(line, 9 + 2 * *count, 2);
  if (!data || !dsum) return fail("not hex digits");
  if ((*digit_sum(line, 9, 2 * *count) & 0xff) != *dsum) return fail("data checksum mismatch");
  r.kind = HexRecord::kData;
  r.address = *addr;
  r.data = std::move(*data);
  return r;
}

Result<HexRecord> extended(std::string_view line) {
  auto len = number(line, 1, 2), type = number(line, 3, 1), sum = number(line, 4, 2),
       alen = number(line, 6, 1);
  if (!len || !type || !sum || !alen) return fail("not an extended Tektronix record");
  if (*len != line.size() - 1) return fail("record length disagrees with its length field");
  const std::size_t n = *alen == 0 ? 16 : std::size_t(*alen);
  HexRecord r;
  if (*type == 3) return r;  // symbol record: names, not data (its checksum covers letters)
  if (*type != 6 && *type != 8) return fail(fmt::format("unknown record type {}", *type));
  auto s1 = digit_sum(line, 1, 3), s2 = digit_sum(line, 6, line.size() - 6);
  if (!s1 || !s2) return fail("not hex digits");
  if (((*s1 + *s2) & 0xff) != *sum) return fail("record checksum mismatch");
  auto addr = number(line, 7, n);
  if (!addr || n > 16) return fail("address field truncated");
  if (*type == 8) {
    r.kind = HexRecord::kEnd;
    return r;
  }
  const std::size_t data_at = 7 + n;
  if ((line.size() - data_at) % 2) return fail("odd number of data digits");
  auto data = hex_bytes(line.substr(data_at));
  if (!data) return fail("not hex digits");
  r.kind = HexRecord::kData;
  r.address = *addr;
  r.data = std::move(*data);
  return r;
}

Result<HexRecord> record(std::string_view line) {
  if (line.size() >= 9 && line[0] == '/') return standard(line);
  if (line.size() >= 8 && line[0] == '%') return extended(line);
  return fail("not a Tektronix hex record");
}

std::optional<Probe> probe(Bytes d) {
  auto r = record(text_line(d, 0).text);
  if (!r || r->kind != HexRecord::kData) return std::nullopt;
  return Probe{0, d[0] == '%' ? "extended Tektronix hex" : "Tektronix hex"};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  return decode_hex_records(d, sink,
                            d.empty() || d[0] != '%' ? "Tektronix hex" : "extended Tektronix hex",
                            "image.bin", record);
}

}  // namespace

const Format kFormat_tekhex =
    make_format(kind::kFirmwareAtStart, "tekhex", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
