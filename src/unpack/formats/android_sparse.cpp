// Android sparse images (system.img as fastboot flashes it; libsparse's format): a 28-byte
// header (magic 0xed26ff3a, version 1.0, block size, output blocks, chunk count, CRC32), then
// chunks of 12-byte headers: raw (the blocks follow), fill (a 4-byte pattern), don't care (a
// hole) and CRC32 (of the output so far). The output is the expanded image, carved again.
#include <zlib.h>

#include <fmt/format.h>

#include <vector>

#include "unpack/format.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"\x3a\xff\x26\xed", 0}};
constexpr std::string_view kDescription = "Android sparse image (expanded to raw)";
constexpr std::uint16_t kRaw = 0xcac1, kFill = 0xcac2, kDontCare = 0xcac3, kCrc32 = 0xcac4;

struct Header {
  std::uint32_t header_bytes = 0, chunk_header_bytes = 0, block = 0, blocks = 0, chunks = 0,
                crc = 0;
};

std::optional<Header> header(Bytes d) {
  if (d.size() < 28 || !starts_with(d, "\x3a\xff\x26\xed")) return std::nullopt;
  Header h;
  if (*read_le<std::uint16_t>(d, 4) != 1) return std::nullopt;  // major version 1
  h.header_bytes = *read_le<std::uint16_t>(d, 8);
  h.chunk_header_bytes = *read_le<std::uint16_t>(d, 10);
  h.block = *read_le<std::uint32_t>(d, 12);
  h.blocks = *read_le<std::uint32_t>(d, 16);
  h.chunks = *read_le<std::uint32_t>(d, 20);
  h.crc = *read_le<std::uint32_t>(d, 24);
  if (h.header_bytes < 28 || h.chunk_header_bytes < 12 || h.block == 0 || h.block % 4 != 0 ||
      h.block > kMaxSparseBlockBytes)
    return std::nullopt;
  return h;
}

std::optional<Probe> probe(Bytes d) {
  auto h = header(d);
  if (!h) return std::nullopt;
  return Probe{0, fmt::format("Android sparse image, {} blocks of {} bytes, {} chunks", h->blocks,
                              h->block, h->chunks)};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto h = header(d);
  if (!h) return fail("bad Android sparse header", 0);
  sink.describe(*probe(d).transform([](const Probe& p) { return p.description; }));
  auto out = sink.open_file(Entry{"image.raw", EntryType::kFile, 0644});
  if (!out) return fail_at(out.error(), 0);
  std::uint64_t p = h->header_bytes, blocks = 0, produced = 0;
  uLong crc = crc32(0, nullptr, 0);
  std::vector<std::uint8_t> pattern(std::min<std::uint64_t>(h->block, 64 * 1024) / 4 * 4);
  auto broken = [&](std::string msg, std::uint64_t at) {
    out->mark_truncated();
    out->close();
    return fail(std::move(msg), at);
  };
  // Writes `n` bytes of `pattern` repeated (zeros for a hole); the CRC follows the output.
  auto repeat = [&](std::uint64_t n) -> Status {
    while (n > 0) {
      const std::uint64_t k = std::min<std::uint64_t>(n, pattern.size());
      crc = crc32(crc, pattern.data(), uInt(k));
      if (auto st = out->write({pattern.data(), k}); !st) return st;
      n -= k, produced += k;
      // A fill or hole expands from 16 bytes: the ratio cap (output against the whole sparse
      // file, as holes come anywhere in a real image) stops a bomb as it grows.
      if (auto st = sink.check_ratio(d.size(), produced); !st) return st;
    }
    return {};
  };
  for (std::uint32_t c = 0; c < h->chunks; ++c) {
    if (auto st = sink.check_time(); !st) {
      out->mark_truncated();
      out->close();
      return fail_at(st.error(), p);
    }
    const std::uint64_t at = p;
    auto type = read_le<std::uint16_t>(d, p);
    auto count = read_le<std::uint32_t>(d, p + 4);
    auto total = read_le<std::uint32_t>(d, p + 8);
    if (!type || !count || !total) return broken("sparse chunk header truncated", p);
    if (*total < h->chunk_header_bytes || *total > d.size() - p)
      return broken(fmt::format("chunk {} of {} bytes runs past the end", c, *total), at);
    const std::uint64_t body = p + h->chunk_header_bytes, body_len = *total - h->chunk_header_bytes;
    const std::uint64_t bytes = std::uint64_t(*count) * h->block;
    if (*type != kCrc32 && blocks + *count > h->blocks)
      return broken(
          fmt::format("chunk {} goes past the {} blocks the header declares", c, h->blocks), at);
    switch (*type) {
      case kRaw: {
        if (body_len != bytes)
          return broken(
              fmt::format("raw chunk {} holds {} bytes for {} blocks", c, body_len, *count), at);
        Bytes raw = sub(d, body, bytes);
        for (std::uint64_t o = 0; o < raw.size(); o += 1u << 30)
          crc = crc32(crc, raw.data() + o, uInt(std::min<std::uint64_t>(1u << 30, raw.size() - o)));
        if (auto st = out->write(raw); !st) return fail_at(st.error(), at);
        produced += bytes;
        break;
      }
      case kFill:
      case kDontCare: {
        if (*type == kFill && body_len != 4) return broken("fill chunk without a 4-byte value", at);
        for (std::size_t i = 0; i < pattern.size(); i += 4)
          for (int k = 0; k < 4; ++k) pattern[i + k] = *type == kFill ? d[body + k] : 0;
        if (auto st = repeat(bytes); !st) return fail_at(st.error(), at);
        break;
      }
      case kCrc32: {
        auto want = read_le<std::uint32_t>(d, body);
        if (body_len != 4 || !want) return broken("CRC32 chunk without a 4-byte value", at);
        if (*want != std::uint32_t(crc))
          sink.warn("crc-mismatch",
                    fmt::format("CRC32 chunk {} says {:08x}, the data {:08x}", c, *want,
                                std::uint32_t(crc)),
                    "image.raw", at);
        break;
      }
      default:
        return broken(fmt::format("unknown chunk type {:#06x}", *type), at);
    }
    if (*type != kCrc32) blocks += *count;
    p += *total;
    if (auto st = sink.check_ratio(d.size(), produced); !st) {
      out->mark_truncated();
      out->close();
      return fail_at(st.error(), p);
    }
  }
  if (blocks != h->blocks)
    sink.warn("format-error",
              fmt::format("chunks cover {} blocks, the header {}", blocks, h->blocks), "image.raw",
              p);
  if (h->crc != 0 && h->crc != std::uint32_t(crc))
    sink.warn("crc-mismatch",
              fmt::format("image CRC32 {:08x}, the header says {:08x}", std::uint32_t(crc), h->crc),
              "image.raw");
  out->close();
  return p;
}

}  // namespace

const Format kFormat_android_sparse =
    make_format(kind::kFirmwareHeader, "android_sparse", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
