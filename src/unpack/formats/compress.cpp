// Unix compress (.Z, LZW), decoded by libarchive's built-in compress filter under its raw
// format. The stream has no end marker: it spans the rest of the blob. The probe checks the
// first LZW codes itself (the header alone is two bytes and a flags byte).
#include <archive.h>

#include <fmt/format.h>

#include <algorithm>

#include "unpack/archive_reader.hpp"
#include "unpack/format.hpp"
#include "unpack/stream.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"\x1f\x9d", 0}};

/// LZW codes the probe checks (a probe threshold, not a cap): 72 bytes of stream.
constexpr std::size_t kTrialCodes = 64;

/// The two-byte magic is found about once per 64 KiB of random data (and a valid flags byte
/// behind it once in 16 of those): the first codes, 9 bits wide, LSB first, must each be
/// decodable as ncompress decodes them: the first a literal (< 256), every later one a literal,
/// an entry already in the table or the one being made (KwKwK), or CLEAR (256, block mode only)
/// after a few codes. Random bytes fail within a few codes (each later code is out of range
/// with a probability near one half); a real stream passes.
bool codes_plausible(Bytes body, bool block_mode) {
  const std::size_t codes = std::min<std::size_t>(body.size() * 8 / 9, kTrialCodes);
  std::uint32_t free_ent = block_mode ? 257 : 256;  // the next table entry
  for (std::size_t k = 0; k < codes; ++k) {
    const std::size_t bit = k * 9;
    const std::uint32_t two = body[bit / 8] | (std::uint32_t(body[bit / 8 + 1]) << 8);
    const std::uint32_t code = (two >> (bit % 8)) & 0x1ff;
    if (k == 0) {
      if (code >= 256) return false;
      continue;
    }
    if (block_mode && code == 256) return k >= 8;  // CLEAR: a real stream does not start so
    if (code > free_ent) return false;
    ++free_ent;
  }
  return codes > 0;
}

std::optional<Probe> probe(Bytes d) {
  if (d.size() < 4 || d[0] != 0x1f || d[1] != 0x9d) return std::nullopt;
  // Flags: code width 9..16 bits in bits 4..0, bits 6..5 reserved (zero), bit 7 block mode.
  const unsigned bits = d[2] & 0x1f;
  if (bits < 9 || bits > 16 || (d[2] & 0x60)) return std::nullopt;
  if (!codes_plausible(sub(d, 3), (d[2] & 0x80) != 0)) return std::nullopt;
  return Probe{0, fmt::format("compress (.Z), {}-bit codes", bits)};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto reader = new_archive_reader();
  if (!reader) return std::unexpected(reader.error());
  struct archive* a = reader->get();
  // Only the built-in LZW filter and the raw format: no external program is ever run.
  archive_read_support_filter_compress(a);
  archive_read_support_format_raw(a);
  if (archive_read_open_memory(a, d.data(), d.size()) != ARCHIVE_OK)
    return fail(fmt::format("not a compress stream: {}", archive_message(a)));
  if (archive_filter_code(a, 0) != ARCHIVE_FILTER_COMPRESS)  // raw bytes are not a .Z stream
    return fail("not a compress stream (libarchive's LZW filter did not take it)");
  struct archive_entry* e = nullptr;
  if (archive_read_next_header(a, &e) != ARCHIVE_OK)
    return fail(fmt::format("compress stream unreadable: {}", archive_message(a)));
  const int last = archive_filter_count(a) - 1;
  auto consumed = [&] {
    return std::uint64_t(std::max<la_int64_t>(archive_filter_bytes(a, last), 0));
  };
  auto r = pump_stream(
      sink, "decompressed", [&](std::uint8_t* buf, std::size_t cap) -> Result<StepResult> {
        const la_ssize_t n = archive_read_data(a, buf, cap);
        if (n < 0)
          return fail(fmt::format("corrupt compress data: {}", archive_message(a)), consumed());
        return StepResult{std::size_t(n), n == 0, consumed()};
      });
  if (!r) return r;
  return d.size();
}

}  // namespace

const Format kFormat_compress = make_format(
    kind::kRawStream, "compress", "Unix compress .Z stream (libarchive)", kMagics, probe, extract);

}  // namespace probity::unpacker
