// Motorola S-records (S19, S28, S37) to the binary they describe. Each line is
// "S" T CC address data SS: CC counts the address, data and checksum bytes, SS is the ones'
// complement of the low byte of their sum with CC. S0 header, S1/S2/S3 data with 16/24/32-bit
// addresses, S5/S6 record counts, S7/S8/S9 end (with the start address).
#include <fmt/format.h>

#include "unpack/format.hpp"
#include "unpack/hex_image.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"S0", 0}, {"S1", 0}, {"S2", 0}, {"S3", 0}};

Result<HexRecord> record(std::string_view line) {
  if (line.size() < 10 || line[0] != 'S' || line[1] < '0' || line[1] > '9' || line[1] == '4' ||
      line.size() % 2 != 0)
    return fail("not an S-record");
  auto b = hex_bytes(line.substr(2));
  if (!b) return fail("not hex digits");
  const auto* u = reinterpret_cast<const std::uint8_t*>(b->data());
  const std::size_t count = u[0];
  if (b->size() != count + 1) return fail("record length disagrees with its byte count");
  std::uint8_t sum = 0;
  for (std::size_t i = 0; i + 1 < b->size(); ++i) sum = std::uint8_t(sum + u[i]);
  if (std::uint8_t(~sum) != u[b->size() - 1]) return fail("record checksum mismatch");
  const int type = line[1] - '0';
  static constexpr std::size_t kAddrBytes[10] = {2, 2, 3, 4, 0, 2, 3, 4, 3, 2};
  const std::size_t alen = kAddrBytes[type];
  if (count < alen + 1) return fail("record shorter than its address");
  std::uint64_t addr = 0;
  for (std::size_t i = 0; i < alen; ++i) addr = addr << 8 | u[1 + i];
  HexRecord r;
  if (type >= 1 && type <= 3) {
    r.kind = HexRecord::kData;
    r.address = addr;
    r.data = b->substr(1 + alen, count - alen - 1);
  } else if (type >= 7) {
    r.kind = HexRecord::kEnd;
  }
  return r;
}

std::optional<Probe> probe(Bytes d) {
  auto r = record(text_line(d, 0).text);
  if (!r || r->kind == HexRecord::kEnd) return std::nullopt;
  return Probe{0, "Motorola S-record"};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  return decode_hex_records(d, sink, "S-record", "image.bin", record);
}

}  // namespace

const Format kFormat_srec = make_format(kind::kFirmwareAtStart, "srec",
                                        "Motorola S-records to binary", kMagics, probe, extract);

}  // namespace probity::unpacker
