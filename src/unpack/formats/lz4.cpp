// LZ4: the frame format (liblz4's LZ4F API) and the legacy format the Linux kernel uses for
// compressed kernels and initramfs (magic 0x184C2102, blocks of at most 8 MiB).
#include <lz4.h>
#include <lz4frame.h>

#include <fmt/format.h>

#include "unpack/format.hpp"
#include "unpack/stream.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"\x04\x22\x4d\x18", 0}, {"\x02\x21\x4c\x18", 0}};
constexpr std::uint32_t kLegacyBlock = 8 * 1024 * 1024;

bool is_legacy(Bytes d) {
  return starts_with(d, "\x02\x21\x4c\x18");
}

std::optional<Probe> probe(Bytes d) {
  if (d.size() < 8) return std::nullopt;
  if (is_legacy(d)) {
    auto n = read_le<std::uint32_t>(d, 4);
    if (!n || *n == 0 || *n > std::uint32_t(LZ4_compressBound(kLegacyBlock))) return std::nullopt;
    return Probe{0, "lz4 legacy"};
  }
  if (!starts_with(d, "\x04\x22\x4d\x18")) return std::nullopt;
  if ((d[4] >> 6) != 1) return std::nullopt;  // FLG version must be 01
  return Probe{0, "lz4 frame"};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  if (is_legacy(d)) {
    // Legacy blocks decode to up to 8 MiB, larger than pump_stream's chunk: decode directly.
    auto out = sink.open_file(Entry{"decompressed", EntryType::kFile, 0644});
    if (!out) return fail_at(out.error(), 0);
    std::vector<char> block(kLegacyBlock);
    std::uint64_t off = 4, total = 0;
    for (;;) {
      auto n = read_le<std::uint32_t>(d, off);
      if (!n || *n == 0x184C2102 || *n == 0 ||
          *n > std::uint32_t(LZ4_compressBound(kLegacyBlock)) || off + 4 + *n > d.size())
        break;
      const int got = LZ4_decompress_safe(reinterpret_cast<const char*>(d.data() + off + 4),
                                          block.data(), int(*n), int(block.size()));
      if (got < 0) {
        out->mark_truncated();
        return fail("corrupt lz4 legacy block", off);
      }
      off += 4 + *n;
      total += std::uint64_t(got);
      if (auto st = out->write({reinterpret_cast<std::uint8_t*>(block.data()), std::size_t(got)});
          !st)
        return fail_at(st.error(), off);
      if (auto st = sink.check_ratio(off, total); !st) return fail_at(st.error(), off);
      if (auto st = sink.check_time(); !st) return fail_at(st.error(), off);
    }
    sink.describe(fmt::format("lz4 legacy, {} bytes decoded", total));
    return off;
  }
  LZ4F_dctx* z = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&z, LZ4F_VERSION)))
    return fail("liblz4: cannot initialise");
  struct Guard {
    LZ4F_dctx* z;
    ~Guard() { LZ4F_freeDecompressionContext(z); }
  } guard{z};
  std::uint64_t pos = 0;
  return pump_stream(
      sink, "decompressed", [&](std::uint8_t* buf, std::size_t cap) -> Result<StepResult> {
        std::size_t out_size = cap, in_size = d.size() - pos;
        const std::size_t rc =
            LZ4F_decompress(z, buf, &out_size, d.data() + pos, &in_size, nullptr);
        if (LZ4F_isError(rc))
          return fail(fmt::format("corrupt lz4 frame: {}", LZ4F_getErrorName(rc)), pos);
        pos += in_size;
        if (rc != 0 && pos >= d.size() && out_size == 0) return fail("truncated lz4 frame", pos);
        return StepResult{out_size, rc == 0, pos};
      });
}

}  // namespace

const Format kFormat_lz4 =
    make_format(kind::kRawStream, "lz4", "LZ4 frame and legacy (liblz4)", kMagics, probe, extract);

}  // namespace probity::unpacker
