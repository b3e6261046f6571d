// lzip (.lz), decoded with liblzma's lzip decoder (liblzma >= 5.4). Concatenated members decode
// into one output, as `lzip -d` writes them; data after the last member ends the span.
#include <lzma.h>

#include <fmt/format.h>

#include "unpack/format.hpp"
#include "unpack/liblzma_pump.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"LZIP\x01", 0}, {std::string_view("LZIP\0", 5), 0}};

std::optional<Probe> probe(Bytes d) {
  if (d.size() < 26 || !starts_with(d, "LZIP") || d[4] > 1) return std::nullopt;
  // Coded dictionary size: log2 of the base in bits 4..0 (4 KiB .. 512 MiB), a fraction of it
  // to subtract in bits 7..5 (none in version 0).
  const unsigned log2 = d[5] & 0x1f;
  if (log2 < 12 || log2 > 29 || (d[4] == 0 && (d[5] >> 5) != 0)) return std::nullopt;
  const std::uint64_t base = std::uint64_t(1) << log2;
  const std::uint64_t dict = base - (base / 16) * (d[5] >> 5);
  return Probe{0, fmt::format("lzip version {}, dictionary {} KiB", d[4], dict / 1024)};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  return decode_liblzma(d, sink, "lzip member", [](lzma_stream* s) {
    return lzma_lzip_decoder(s, kMaxDecoderMemory, LZMA_CONCATENATED);
  });
}

}  // namespace

const Format kFormat_lzip =
    make_format(kind::kCheckedStream, "lzip", "lzip stream (liblzma)", kMagics, probe, extract);

}  // namespace probity::unpacker
