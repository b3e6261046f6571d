// lzma-alone (the legacy .lzma format used by old kernels, U-Boot, VxWorks images and
// squashfs-lzma), decoded with liblzma. Its 13-byte header has no real magic: a properties byte
// (lc + 9 lp + 45 pb), a little-endian dictionary size and an 8-byte uncompressed size (all ones:
// unknown). Candidates are the common dictionary sizes (2^n and 2^n + 2^(n-1), 4 KiB to 12 MiB
// after any properties byte, to 128 MiB after the common ones), and an unknown size followed by the
// range coder's zero byte after any properties and dictionary; all are weak magics, so a hit counts
// only where the probe accepts it. The probe accepts every properties byte liblzma decodes (lc + lp
// <= 4), any dictionary up to kMaxLzmaDictBytes and a plausible size, then confirms with a bounded
// trial decode.
#include <lzma.h>

#include <algorithm>
#include <array>
#include <memory>

#include <fmt/format.h>

#include "unpack/format.hpp"
#include "unpack/liblzma_pump.hpp"
#include "unpack/stream.hpp"

namespace probity::unpacker {
namespace {

static_assert(kMaxLzmaDictBytes < kMaxDecoderMemory);

// The dictionary sizes encoders write: 2^n and 3 * 2^n. Up to 12 MiB the 4 little-endian bytes
// after the properties byte are the magic, whatever the properties (the carver searches them
// without their leading zero bytes and checks those on a match); from 16 MiB on that would leave
// one searched byte, so there the common properties bytes are part of the magic.
constexpr std::size_t kSmallDicts = 24;  // 4 KiB..8 MiB, 6 KiB..12 MiB
constexpr std::size_t kLargeDicts = 7;   // 16..128 MiB, 24..96 MiB
constexpr char kLargeProps[] = {0x5d, 0x5e, 0x6d, 0x6e, 0x5a};
constexpr std::size_t kLarge = kLargeDicts * sizeof kLargeProps;

constexpr std::array<std::uint32_t, kSmallDicts + kLargeDicts> kDicts = [] {
  std::array<std::uint32_t, kSmallDicts + kLargeDicts> out{};
  std::size_t i = 0;
  for (int n = 12; n <= 23; ++n) out[i++] = std::uint32_t{1} << n;
  for (int n = 11; n <= 22; ++n) out[i++] = std::uint32_t{3} << n;
  for (int n = 24; n <= 27; ++n) out[i++] = std::uint32_t{1} << n;
  for (int n = 23; n <= 25; ++n) out[i++] = std::uint32_t{3} << n;
  return out;
}();

constexpr std::array<std::array<char, 5>, kSmallDicts + kLarge> kMagicBytes = [] {
  std::array<std::array<char, 5>, kSmallDicts + kLarge> out{};
  auto put = [](std::array<char, 5>& m, std::size_t at, std::uint32_t v) {
    for (std::size_t b = 0; b < 4; ++b) m[at + b] = static_cast<char>((v >> (8 * b)) & 0xff);
  };
  for (std::size_t i = 0; i < kSmallDicts; ++i) put(out[i], 0, kDicts[i]);
  for (std::size_t d = 0; d < kLargeDicts; ++d)
    for (std::size_t p = 0; p < sizeof kLargeProps; ++p) {
      auto& m = out[kSmallDicts + d * sizeof kLargeProps + p];
      m[0] = kLargeProps[p];
      put(m, 1, kDicts[kSmallDicts + d]);
    }
  return out;
}();

constexpr char kUnknownSize[] = "\xff\xff\xff\xff\xff\xff\xff\xff\x00";

constexpr std::array<Magic, kSmallDicts + kLarge + 1> kMagics = [] {
  std::array<Magic, kSmallDicts + kLarge + 1> out{};
  for (std::size_t i = 0; i < kSmallDicts; ++i)
    out[i] = Magic{std::string_view(kMagicBytes[i].data(), 4), 1, true};
  for (std::size_t i = kSmallDicts; i < kSmallDicts + kLarge; ++i)
    out[i] = Magic{std::string_view(kMagicBytes[i].data(), 5), 0, true};
  out.back() = Magic{std::string_view(kUnknownSize, 9), 5, true};
  return out;
}();

constexpr std::size_t kHeader = 13;
/// A declared size below this is refused: a trial decode of a few dozen bytes confirms nothing
/// (zero-heavy tables in a decompressed U-Boot hold "00 00 10 00 00" + a size of 15..46 bytes +
/// a zero byte, and decode cleanly that far). Streams of unknown size have no minimum.
/// A probe threshold, not a cap.
constexpr std::uint64_t kMinKnownSize = 256;
/// The trial decode: at most this much output from at most this much input. Random bytes after a
/// plausible header fail within a few hundred bytes (a match reaching before the start, an
/// impossible distance); a real stream decodes cleanly.
constexpr std::size_t kTrialOutput = 64 * 1024;
constexpr std::size_t kTrialInput = 16 * 1024;

struct Props {
  std::uint32_t lc, lp, pb;
};

std::optional<Props> decode_props(std::uint8_t b) {
  if (b >= 9 * 5 * 5) return std::nullopt;
  Props p{b % 9u, (b / 9u) % 5u, b / 45u};
  // Valid in the format up to lc 8, but liblzma's LZMA1 decoder requires lc + lp <= 4 (the LZMA
  // SDK's encoders never write more).
  if (p.lc + p.lp > LZMA_LCLP_MAX) return std::nullopt;
  return p;
}

/// Decodes the start of the stream with a dictionary of at most kTrialOutput (enough: no match
/// distance can reach further back than what was produced). True when liblzma produces output
/// without an error: it runs out of input or output, or the stream ends where the header says.
bool trial_decode(Bytes d, const Props& p, std::uint32_t dict, std::uint64_t size) {
  lzma_options_lzma o{};
  if (lzma_lzma_preset(&o, 0)) return false;
  o.dict_size =
      static_cast<std::uint32_t>(std::clamp<std::uint64_t>(dict, LZMA_DICT_SIZE_MIN, kTrialOutput));
  o.lc = p.lc;
  o.lp = p.lp;
  o.pb = p.pb;
  const lzma_filter filters[] = {{LZMA_FILTER_LZMA1, &o}, {LZMA_VLI_UNKNOWN, nullptr}};
  lzma_stream s = LZMA_STREAM_INIT;
  if (lzma_raw_decoder(&s, filters) != LZMA_OK) return false;
  struct Guard {
    lzma_stream* s;
    ~Guard() { lzma_end(s); }
  } guard{&s};
  const bool known = size != UINT64_MAX;
  const std::size_t out_cap = known ? std::min<std::uint64_t>(size, kTrialOutput) : kTrialOutput;
  auto buf = std::make_unique_for_overwrite<std::uint8_t[]>(out_cap);
  const Bytes in = sub(d, kHeader, kTrialInput);
  s.next_in = in.data();
  s.avail_in = in.size();
  s.next_out = buf.get();
  s.avail_out = out_cap;
  lzma_ret rc = LZMA_OK;
  while (rc == LZMA_OK && s.avail_in > 0 && s.avail_out > 0) {
    const std::size_t before = s.avail_in + s.avail_out;
    rc = lzma_code(&s, LZMA_RUN);
    if (rc == LZMA_OK && s.avail_in + s.avail_out == before) break;  // no progress
  }
  const std::uint64_t produced = out_cap - s.avail_out;
  if (rc == LZMA_STREAM_END) return produced > 0 && (!known || produced == size);
  return rc == LZMA_OK && produced > 0;
}

std::optional<Probe> probe(Bytes d) {
  if (d.size() < kHeader + 5) return std::nullopt;
  const auto props = decode_props(d[0]);
  if (!props) return std::nullopt;
  const auto dict = *read_le<std::uint32_t>(d, 1);
  if (dict > kMaxLzmaDictBytes) return std::nullopt;
  const auto size = *read_le<std::uint64_t>(d, 5);
  const bool known = size != UINT64_MAX;
  // A declared size must be worth a trial decode and fit what the input can expand to under the
  // ratio cap.
  const std::uint64_t payload = std::min<std::uint64_t>(d.size() - kHeader, kMaxTotalBytes);
  if (known && (size < kMinKnownSize || size > std::max(kRatioFloorBytes, payload * kMaxRatio)))
    return std::nullopt;
  // The range coder's first byte is always zero, and its initial code is never zero in a real
  // stream (that would need the first ~32 bits of decisions all 0); runs of zeros decode "cleanly".
  if (d[kHeader] != 0) return std::nullopt;
  if (d[kHeader + 1] == 0 && d[kHeader + 2] == 0 && d[kHeader + 3] == 0 && d[kHeader + 4] == 0)
    return std::nullopt;
  if (!trial_decode(d, *props, dict, size)) return std::nullopt;
  const std::uint32_t eff_dict = std::max<std::uint32_t>(dict, LZMA_DICT_SIZE_MIN);
  const std::string dict_text = eff_dict % 1024 == 0 ? fmt::format("{} KiB", eff_dict / 1024)
                                                     : fmt::format("{} bytes", eff_dict);
  return Probe{
      0, fmt::format("lzma-alone, {}, properties 0x{:02x} (lc={} lp={} pb={}), dictionary {}",
                     known ? fmt::format("{} bytes", size) : std::string("size unknown"), d[0],
                     props->lc, props->lp, props->pb, dict_text)};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  return decode_liblzma(d, sink, "lzma stream",
                        [](lzma_stream* s) { return lzma_alone_decoder(s, kMaxDecoderMemory); });
}

}  // namespace

const Format kFormat_lzma =
    make_format(kind::kRawStream, "lzma", "lzma-alone stream (liblzma)", kMagics, probe, extract);

}  // namespace probity::unpacker
