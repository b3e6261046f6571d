// Broadcom SAO images (set-top boxes and cable gateways): a sequence of "SOBJ" records, each a
// 64-byte big-endian header and its data back to back: magic, a CRC-32 of header bytes 8-63, a
// four-character name (META, DTBB, KRNL, RTFS...), a size at 16 and a CRC-32 of the data at 52.
// Both CRCs are checked (a mismatch is a warning, the record is still written).
#include <fmt/format.h>

#include "probity/limits.hpp"
#include "unpack/format.hpp"
#include "unpack/vendor.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"SOBJ", 0}};
constexpr std::string_view kDescription = "Broadcom SAO image (SOBJ records, CRC-32 checked)";
constexpr std::uint64_t kHeader = 64;

struct Record {
  std::uint64_t offset = 0, size = 0;
  std::string name;
};

/// A record header at `at`: its name is four printable characters and its size fits in 32 bits.
std::optional<Record> record_at(Bytes d, std::uint64_t at) {
  if (!starts_with(d, "SOBJ", at) || d.size() - at < kHeader) return std::nullopt;
  Record r{at, *read_be<std::uint32_t>(d, at + 16), std::string()};
  for (std::uint64_t i = 8; i < 12; ++i) {
    const auto c = d[at + i];
    if (c < 0x20 || c > 0x7e) return std::nullopt;
    r.name.push_back(char(c));
  }
  return r;
}

std::optional<Probe> probe(Bytes d) {
  auto r = record_at(d, 0);
  if (!r) return std::nullopt;
  // The header's own CRC makes a lone magic a match only by chance of 2^-32.
  if (crc32_of(sub(d, 8, kHeader - 8)) != *read_be<std::uint32_t>(d, 4)) {
    // A first record whose header CRC was not kept (a META record edited by hand) still counts
    // when its data CRC holds.
    const Bytes data = sub(d, kHeader, r->size);
    if (data.size() < r->size || crc32_of(data) != *read_be<std::uint32_t>(d, 52))
      return std::nullopt;
  }
  return Probe{0, fmt::format("Broadcom SAO, first object {}", r->name)};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  std::uint64_t at = 0;
  std::uint32_t n = 0;
  std::string names;
  while (n < kMaxSaoRecords) {
    auto r = record_at(d, at);
    if (!r) break;
    const Bytes data = sub(d, at + kHeader, r->size);
    const bool cut = data.size() < r->size;
    if (crc32_of(sub(d, at + 8, kHeader - 8)) != *read_be<std::uint32_t>(d, at + 4))
      sink.warn("crc-mismatch", fmt::format("SAO object {}: header CRC-32 does not match", r->name),
                r->name, at);
    if (!cut && crc32_of(data) != *read_be<std::uint32_t>(d, at + 52))
      sink.warn("crc-mismatch", fmt::format("SAO object {}: data CRC-32 does not match", r->name),
                r->name, at + kHeader);
    std::string name = safe_file_name(r->name, fmt::format("object{}", n));
    if (auto st = sink.file(Entry{name}, data, cut); !st) return fail(st.error().message, at);
    names += (names.empty() ? "" : ", ") + name;
    ++n;
    if (cut)
      return fail(
          fmt::format("SAO object {} truncated: {} bytes of {}", r->name, data.size(), r->size),
          d.size());
    at += kHeader + r->size;
  }
  sink.describe(fmt::format("Broadcom SAO, {} objects: {}", n, names));
  if (n == kMaxSaoRecords && record_at(d, at))
    return fail(fmt::format("more than {} SAO objects: the rest not read", n), at);
  return at;
}

}  // namespace

const Format kFormat_broadcom_sao =
    make_format(kind::kFirmwareHeader, "broadcom_sao", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
