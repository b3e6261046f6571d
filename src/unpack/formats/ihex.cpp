// Intel HEX (I8HEX, I16HEX, I32HEX) to the binary it describes. Each line is
// ":" LL AAAA TT data CC, the checksum making the byte sum zero; record types 00 data, 01 end,
// 02 extended segment address, 03 start segment address, 04 extended linear address, 05 start
// linear address. The records are laid from the lowest address to the highest (hex_image.hpp).
#include <fmt/format.h>

#include "unpack/format.hpp"
#include "unpack/hex_image.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{":", 0}};

/// Decodes one record; `base` is the current extended address (changed by types 02 and 04).
Result<HexRecord> record(std::string_view line, std::uint64_t& base) {
  if (line.size() < 11 || line[0] != ':' || line.size() % 2 != 1)
    return fail("not an Intel HEX record");
  auto b = hex_bytes(line.substr(1));
  if (!b) return fail("not hex digits");
  const auto* u = reinterpret_cast<const std::uint8_t*>(b->data());
  const std::size_t count = u[0];
  if (b->size() != count + 5) return fail("record length disagrees with its byte count");
  std::uint8_t sum = 0;
  for (std::size_t i = 0; i < b->size(); ++i) sum = std::uint8_t(sum + u[i]);
  if (sum != 0) return fail("record checksum mismatch");
  const std::uint32_t addr = std::uint32_t(u[1]) << 8 | u[2];
  const std::uint8_t type = u[3];
  HexRecord r;
  switch (type) {
    case 0x00:
      r.kind = HexRecord::kData;
      r.address = base + addr;
      r.data = b->substr(4, count);
      return r;
    case 0x01:
      r.kind = HexRecord::kEnd;
      return r;
    case 0x02:
    case 0x04:
      if (count != 2) return fail("extended address record is not 2 bytes");
      base = (std::uint64_t(u[4]) << 8 | u[5]) << (type == 0x02 ? 4 : 16);
      return r;
    case 0x03:
    case 0x05:
      if (count != 4) return fail("start address record is not 4 bytes");
      return r;
    default:
      return fail(fmt::format("unknown record type {:02x}", type));
  }
}

std::optional<Probe> probe(Bytes d) {
  const TextLine line = text_line(d, 0);
  std::uint64_t base = 0;
  auto r = record(line.text, base);
  if (!r || r->kind == HexRecord::kEnd) return std::nullopt;
  return Probe{0, "Intel HEX"};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  std::uint64_t base = 0;
  return decode_hex_records(d, sink, "Intel HEX", "image.bin",
                            [&](std::string_view line) { return record(line, base); });
}

}  // namespace

const Format kFormat_ihex = make_format(kind::kFirmwareAtStart, "ihex",
                                        "Intel HEX records to binary", kMagics, probe, extract);

}  // namespace probity::unpacker
