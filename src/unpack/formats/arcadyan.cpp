// Arcadyan obfuscated LZMA kernels (Arcadyan-made routers sold under many brands; the scheme as
// binwalk 3's reader undoes it): an lzma-alone stream whose first 32 bytes (properties,
// dictionary, size and the start of the range coder) were moved 100 bytes further, nibble- and
// byte-pair-swapped, behind 4 leading bytes. Laid out, the image is: 4 bytes, block B1 (32
// bytes), 68 bytes, block B2 (32 bytes, starting "\x00\xd5\x08\x00" for the usual 0x5d
// properties and an 8 MiB dictionary), the rest of the stream. Undoing it: B2 goes back in front
// of the 68 bytes and B1 after them, then B2's bytes are nibble-swapped and swapped in pairs;
// the lzma-alone stream starts at byte 4.
//
// There is no checksum: the probe undoes the first 32 KiB and asks the lzma format's own probe
// (its header checks and a bounded trial decode) whether a stream starts there. At most
// kMaxArcadyanBytes are copied and undone; the kernel is decoded here and written as
// "decompressed".
#include <lzma.h>

#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "unpack/format.hpp"
#include "unpack/liblzma_pump.hpp"

namespace probity::unpacker {
namespace {

// A string_view of all four bytes: built from the bare literal it would stop at the first NUL.
constexpr std::string_view kMagic("\x00\xd5\x08\x00", 4);
constexpr Magic kMagics[] = {{kMagic, 0x68}};
constexpr std::string_view kDescription = "Arcadyan obfuscated LZMA kernel (liblzma)";
constexpr std::size_t kBlock = 32, kB1 = 4, kB2 = 0x68, kStream = 4;
constexpr std::size_t kShortest = 0x100;        // binwalk's lower bound
constexpr std::size_t kProbeWindow = 32 << 10;  // enough for the lzma probe's trial decode

/// The first `n` bytes of `d`, de-obfuscated (n >= kB2 + kBlock).
std::unique_ptr<std::uint8_t[]> undo(Bytes d, std::size_t n) {
  auto out = std::make_unique_for_overwrite<std::uint8_t[]>(n);
  std::memcpy(out.get(), d.data(), n);
  std::memcpy(out.get() + kB1, d.data() + kB2, kBlock);                                // B2 first
  std::memcpy(out.get() + kB1 + kBlock, d.data() + kB1 + kBlock, kB2 - kB1 - kBlock);  // the 68
  std::memcpy(out.get() + kB2, d.data() + kB1, kBlock);                                // then B1
  for (std::size_t i = kB1; i < kB1 + kBlock; ++i)
    out[i] = static_cast<std::uint8_t>((out[i] << 4) | (out[i] >> 4));
  for (std::size_t i = kB1; i < kB1 + kBlock; i += 2) std::swap(out[i], out[i + 1]);
  return out;
}

std::optional<Probe> lzma_probe(Bytes stream) {
  static const Format* lzma = find_format("lzma");
  return lzma ? lzma->probe(stream) : std::nullopt;
}

std::optional<Probe> probe(Bytes d) {
  if (d.size() <= kShortest || !starts_with(d, kMagic, kB2)) return std::nullopt;
  const std::size_t n = std::min<std::size_t>(d.size(), kProbeWindow);
  const auto plain = undo(d, n);
  auto p = lzma_probe(Bytes(plain.get() + kStream, n - kStream));
  if (!p) return std::nullopt;
  return Probe{0, "Arcadyan obfuscated LZMA, " + p->description};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  if (!probe(d)) return fail("not an Arcadyan obfuscated LZMA stream", 0);
  const std::size_t n = std::min<std::uint64_t>(d.size(), kMaxArcadyanBytes);
  const auto plain = undo(d, n);
  sink.describe(fmt::format("Arcadyan obfuscated LZMA, leading bytes {:02x}{:02x}{:02x}{:02x}",
                            d[0], d[1], d[2], d[3]));
  auto used =
      decode_liblzma(Bytes(plain.get() + kStream, n - kStream), sink, "Arcadyan lzma stream",
                     [](lzma_stream* s) { return lzma_alone_decoder(s, kMaxDecoderMemory); });
  if (!used) {
    Error e = used.error();
    e.offset += kStream;
    return std::unexpected(std::move(e));
  }
  if (n < d.size() && kStream + *used == n)
    sink.warn("cap-file", fmt::format("Arcadyan stream longer than kMaxArcadyanBytes ({} bytes): "
                                      "only its first {} bytes were decoded",
                                      kMaxArcadyanBytes, n));
  return kStream + *used;
}

}  // namespace

const Format kFormat_arcadyan =
    make_format(kind::kFirmwareHeader, "arcadyan", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
