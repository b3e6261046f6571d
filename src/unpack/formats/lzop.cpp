// lzop (.lzo): the container is parsed here (libarchive reads it only through an external
// `lzop` program, which probity never runs); each block is decoded with liblzo2's
// lzo1x_decompress_safe and checked against the block's Adler-32/CRC-32 when it has one.
// Layout: the 9-byte magic, a header (version, method, flags, mode, mtime, name, header
// checksum, optional extra field), then blocks of (uncompressed size, compressed size,
// checksums, data) ending with an uncompressed size of 0.
#include <lzo/lzo1x.h>
#include <zlib.h>

#include <mutex>
#include <vector>

#include <fmt/format.h>

#include "unpack/format.hpp"
#include "unpack/stream.hpp"

namespace probity::unpacker {
namespace {

constexpr std::string_view kMagic("\x89LZO\x00\x0d\x0a\x1a\x0a", 9);
constexpr Magic kMagics[] = {{kMagic, 0}};

constexpr std::uint32_t kAdler32D = 0x1, kAdler32C = 0x2, kExtraField = 0x40, kCrc32D = 0x100,
                        kCrc32C = 0x200, kFilter = 0x800, kHeaderCrc32 = 0x1000;

struct Header {
  std::uint64_t size = 0;  ///< bytes up to the first block
  std::uint16_t version = 0;
  std::uint8_t method = 0;
  std::uint32_t flags = 0;
  std::string name;
};

std::uint32_t checksum(bool crc, Bytes b) {
  return crc ? std::uint32_t(crc32(0, b.data(), uInt(b.size())))
             : std::uint32_t(adler32(1, b.data(), uInt(b.size())));
}

/// The header, or an error naming the offset where it stops making sense.
Result<Header> parse_header(Bytes d) {
  if (!starts_with(d, kMagic)) return fail("not an lzop file", 0);
  Header h;
  std::uint64_t p = 9;
  auto u8 = [&](std::uint8_t& v) {
    if (p + 1 > d.size()) return false;
    v = d[p++];
    return true;
  };
  auto u16 = [&](std::uint16_t& v) {
    auto r = read_be<std::uint16_t>(d, p);
    if (!r) return false;
    v = *r, p += 2;
    return true;
  };
  auto u32 = [&](std::uint32_t& v) {
    auto r = read_be<std::uint32_t>(d, p);
    if (!r) return false;
    v = *r, p += 4;
    return true;
  };
  std::uint16_t lib = 0, needed = 0;
  std::uint8_t level = 0, name_len = 0;
  std::uint32_t filter = 0, mode = 0, mtime = 0, mtime_high = 0;
  if (!u16(h.version) || !u16(lib)) return fail("lzop header truncated", p);
  if (h.version < 0x0900) return fail(fmt::format("lzop version {:#x} unknown", h.version), 9);
  if (h.version >= 0x0940 && !u16(needed)) return fail("lzop header truncated", p);
  if (!u8(h.method)) return fail("lzop header truncated", p);
  if (h.method < 1 || h.method > 3)
    return fail(fmt::format("lzop method {} is not LZO1X", h.method), p - 1);
  if (h.version >= 0x0940 && !u8(level)) return fail("lzop header truncated", p);
  if (!u32(h.flags)) return fail("lzop header truncated", p);
  if ((h.flags & kFilter) && !u32(filter)) return fail("lzop header truncated", p);
  if (!u32(mode) || !u32(mtime)) return fail("lzop header truncated", p);
  if (h.version >= 0x0940 && !u32(mtime_high)) return fail("lzop header truncated", p);
  if (!u8(name_len) || p + name_len > d.size()) return fail("lzop header truncated", p);
  h.name.assign(reinterpret_cast<const char*>(d.data() + p), name_len);
  p += name_len;
  std::uint32_t sum = 0;
  const std::uint64_t sum_at = p;
  if (!u32(sum)) return fail("lzop header truncated", p);
  if (sum != checksum(h.flags & kHeaderCrc32, sub(d, 9, sum_at - 9)))
    return fail("lzop header checksum mismatch", sum_at);
  if (h.flags & kExtraField) {
    std::uint32_t len = 0, extra_sum = 0;
    if (!u32(len) || len > d.size() - p) return fail("lzop extra field truncated", p);
    p += len;
    if (!u32(extra_sum)) return fail("lzop extra field truncated", p);
  }
  h.size = p;
  return h;
}

std::optional<Probe> probe(Bytes d) {
  auto h = parse_header(d);
  if (!h) return std::nullopt;
  return Probe{0, h->name.empty() ? fmt::format("lzop, method {}", h->method)
                                  : fmt::format("lzop, method {}, name \"{}\"", h->method,
                                                safe_file_name(h->name, "?"))};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto h = parse_header(d);
  if (!h) return std::unexpected(h.error());
  static std::once_flag once;
  std::call_once(once, [] { (void)lzo_init(); });
  std::string name = h->name;
  if (auto slash = name.rfind('/'); slash != std::string::npos) name = name.substr(slash + 1);
  auto out = sink.open_file(Entry{safe_file_name(name, "decompressed"), EntryType::kFile, 0644});
  if (!out) return fail_at(out.error(), 0);
  std::uint64_t p = h->size, produced = 0;
  std::vector<std::uint8_t> buf;
  auto broken = [&](std::string msg, std::uint64_t at) {
    out->mark_truncated();
    out->close();
    return fail(std::move(msg), at);
  };
  for (;;) {
    if (auto st = sink.check_time(); !st) {
      out->mark_truncated();
      out->close();
      return fail_at(st.error(), p);
    }
    const std::uint64_t block_at = p;
    auto dst_len = read_be<std::uint32_t>(d, p);
    if (!dst_len) return broken("lzop stream truncated (no end marker)", p);
    p += 4;
    if (*dst_len == 0) break;
    if (*dst_len > kMaxLzopBlockBytes)
      return broken(fmt::format("lzop block of {} bytes exceeds the cap ({} MiB)", *dst_len,
                                kMaxLzopBlockBytes / kMiB),
                    block_at);
    auto src_len = read_be<std::uint32_t>(d, p);
    if (!src_len) return broken("lzop block header truncated", p);
    p += 4;
    if (*src_len == 0 || *src_len > *dst_len)
      return broken(fmt::format("lzop block sizes inconsistent ({} from {})", *dst_len, *src_len),
                    block_at);
    std::optional<std::uint32_t> d_adler, d_crc;
    auto take = [&](std::optional<std::uint32_t>& v) {
      v = read_be<std::uint32_t>(d, p);
      p += 4;
      return v.has_value();
    };
    if ((h->flags & kAdler32D) && !take(d_adler)) return broken("lzop block header truncated", p);
    if ((h->flags & kCrc32D) && !take(d_crc)) return broken("lzop block header truncated", p);
    if (*src_len < *dst_len) {
      std::optional<std::uint32_t> ignored;          // checksums of the compressed bytes: the
      if ((h->flags & kAdler32C) && !take(ignored))  // decoded ones are checked instead
        return broken("lzop block header truncated", p);
      if ((h->flags & kCrc32C) && !take(ignored)) return broken("lzop block header truncated", p);
    }
    if (p > d.size() || *src_len > d.size() - p)
      return broken(fmt::format("lzop block of {} bytes truncated", *src_len), p);
    Bytes in = sub(d, p, *src_len);
    Bytes plain = in;
    if (*src_len < *dst_len) {
      buf.resize(*dst_len);
      lzo_uint got = *dst_len;
      if (lzo1x_decompress_safe(in.data(), in.size(), buf.data(), &got, nullptr) != LZO_E_OK ||
          got != *dst_len)
        return broken("corrupt LZO1X block", p);
      plain = Bytes(buf.data(), got);
    }
    if ((d_adler && *d_adler != checksum(false, plain)) ||
        (d_crc && *d_crc != checksum(true, plain)))
      return broken("lzop block checksum mismatch", block_at);
    p += *src_len;
    produced += plain.size();
    if (auto st = out->write(plain); !st) {
      out->close();
      return fail_at(st.error(), p);
    }
    if (auto st = sink.check_ratio(p, produced); !st) {
      out->mark_truncated();
      out->close();
      return fail_at(st.error(), p);
    }
  }
  out->close();
  return p;
}

}  // namespace

const Format kFormat_lzop =
    make_format(kind::kCheckedStream, "lzop", "lzop stream (liblzo2)", kMagics, probe, extract);

}  // namespace probity::unpacker
