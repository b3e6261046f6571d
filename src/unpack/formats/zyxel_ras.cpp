// ZyXEL RAS image header (NBG6616/6617/6716/6817, ZyXEL's web UI and OpenWrt's mkrasimage): one
// erase block in front of the root filesystem and, optionally, the kernel. Big-endian fields,
// 0xff padding, no magic:
//   0   rootfs checksum (16-bit System V sum, `sum -s`, in a 32-bit field)
//   4   rootfs length
//   8   firmware version, 32 bytes (NUL-terminated, 0xff padded)
//   40  header checksum: the System V sum of the first 2048 bytes with the rootfs checksum
//       standing in its own place
//   44  model, 64 bytes (NUL-terminated, 0xff padded)
//   108 kernel checksum, 112 kernel length (both 0xffffffff when there is no kernel)
// The header is 64 KiB (128 KiB on NAND boards, mkrasimage -l); the length is not stored, so
// both are tried and the one whose rootfs checksum holds is taken. Then rootfs, then kernel.
#include <fmt/format.h>

#include <numeric>

#include "unpack/format.hpp"

namespace probity::unpacker {
namespace {

// Found only at the start of a file: bytes 256..271 lie in the 0xff padding of every header.
constexpr Magic kMagics[] = {
    {"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 256}};
constexpr std::string_view kDescription =
    "ZyXEL RAS image (NBG routers; header and rootfs checksums)";
constexpr std::uint64_t kChecked = 2048;  ///< bytes the header checksum covers
constexpr std::uint64_t kHeaderLengths[] = {0x10000, 0x20000};
constexpr std::uint32_t kAbsent = 0xffffffffu;

/// The plain sum of the bytes of `b`.
std::uint64_t byte_sum(Bytes b) {
  return std::accumulate(b.begin(), b.end(), std::uint64_t(0));
}

/// The 16-bit System V checksum (`sum -s`) of bytes whose plain sum is `s`.
std::uint32_t sysv_fold(std::uint64_t s) {
  const std::uint32_t r = std::uint32_t((s & 0xffff) + ((s & 0xffffffff) >> 16));
  return (r & 0xffff) + (r >> 16);
}

std::uint32_t sysv_sum(Bytes b) {
  return sysv_fold(byte_sum(b));
}

/// A NUL-terminated printable string in `len` bytes at `at`, 0xff after the NUL.
std::optional<std::string> padded_text(Bytes d, std::uint64_t at, std::uint64_t len) {
  std::string s;
  std::uint64_t i = 0;
  for (; i < len && d[at + i] != 0; ++i) {
    const std::uint8_t c = d[at + i];
    if (c < 0x20 || c > 0x7e) return std::nullopt;
    s.push_back(char(c));
  }
  if (i == len || s.empty()) return std::nullopt;
  for (++i; i < len; ++i)
    if (d[at + i] != 0xff) return std::nullopt;
  return s;
}

struct Header {
  std::uint32_t rootfs_sum = 0, rootfs_len = 0, kernel_sum = 0, kernel_len = 0;
  std::string version, model;
  std::uint64_t header_len = 0;  ///< 0 until a rootfs checksum confirms one
  [[nodiscard]] bool has_kernel() const { return kernel_len != kAbsent && kernel_len != 0; }
  [[nodiscard]] std::uint64_t length(std::uint64_t hdr) const {
    return hdr + rootfs_len + (has_kernel() ? kernel_len : 0);
  }
};

std::optional<Header> parse(Bytes d) {
  if (d.size() < kChecked) return std::nullopt;
  Header h;
  h.rootfs_sum = *read_be<std::uint32_t>(d, 0);
  h.rootfs_len = *read_be<std::uint32_t>(d, 4);
  if (h.rootfs_sum > 0xffff || h.rootfs_len == 0) return std::nullopt;
  auto version = padded_text(d, 8, 32);
  auto model = padded_text(d, 44, 64);
  if (!version || !model) return std::nullopt;
  h.version = std::move(*version);
  h.model = std::move(*model);
  h.kernel_sum = *read_be<std::uint32_t>(d, 108);
  h.kernel_len = *read_be<std::uint32_t>(d, 112);
  if (h.has_kernel() && h.kernel_sum > 0xffff) return std::nullopt;
  for (std::uint64_t i = 116; i < kChecked; ++i)
    if (d[i] != 0xff) return std::nullopt;
  // Summed with the rootfs checksum (bytes 0..3) standing in for the header checksum (40..43).
  const std::uint64_t s =
      byte_sum(sub(d, 0, kChecked)) - byte_sum(sub(d, 40, 4)) + byte_sum(sub(d, 0, 4));
  if (*read_be<std::uint32_t>(d, 40) != sysv_fold(s)) return std::nullopt;
  return h;
}

/// The header length whose rootfs checksum holds (0: neither, or the rootfs is not all there).
std::uint64_t confirmed_header_length(Bytes d, const Header& h) {
  for (std::uint64_t len : kHeaderLengths) {
    const Bytes rootfs = sub(d, len, h.rootfs_len);
    if (rootfs.size() == h.rootfs_len && sysv_sum(rootfs) == h.rootfs_sum) return len;
  }
  return 0;
}

std::string describe(const Header& h, std::uint64_t header_len) {
  return fmt::format("ZyXEL RAS image for {}, version \"{}\", {} KiB header, rootfs {} bytes{}",
                     h.model, h.version, header_len / 1024, h.rootfs_len,
                     h.has_kernel() ? fmt::format(", kernel {} bytes", h.kernel_len) : "");
}

std::optional<Probe> probe(Bytes d) {
  auto h = parse(d);
  if (!h) return std::nullopt;
  // Where the checksum cannot pick the header length (a truncated image), the default one.
  const std::uint64_t len = confirmed_header_length(d, *h);
  const std::uint64_t hdr = len ? len : kHeaderLengths[0];
  return Probe{std::min<std::uint64_t>(h->length(hdr), d.size()), describe(*h, hdr)};
}

/// Writes the part `name`, `len` bytes at `at`; an Error when the image ends inside it.
Status emit_part(Bytes d, Sink& sink, const char* name, std::uint64_t at, std::uint64_t len) {
  const Bytes part = sub(d, at, len);
  const bool cut = part.size() < len;
  if (auto st = sink.file(Entry{name}, part, cut); !st && sink.exhausted())
    return fail_at(st.error(), at);
  if (cut)
    return fail(
        fmt::format("ZyXEL RAS truncated: {} needs {} bytes, {} present", name, len, part.size()),
        d.size());
  return {};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto h = parse(d);
  if (!h) return fail("bad ZyXEL RAS header", 0);
  std::uint64_t hdr = confirmed_header_length(d, *h);
  if (hdr == 0) {
    hdr = kHeaderLengths[0];
    sink.warn("crc-mismatch",
              fmt::format("ZyXEL RAS: the rootfs checksum 0x{:04x} holds for neither a 64 KiB nor "
                          "a 128 KiB header (corrupt or truncated); read after 64 KiB",
                          h->rootfs_sum));
  }
  sink.describe(describe(*h, hdr));
  if (auto st = emit_part(d, sink, "rootfs.bin", hdr, h->rootfs_len); !st)
    return std::unexpected(st.error());
  if (!h->has_kernel()) return hdr + h->rootfs_len;
  const std::uint64_t at = hdr + h->rootfs_len;
  const Bytes kernel = sub(d, at, h->kernel_len);
  if (kernel.size() == h->kernel_len && sysv_sum(kernel) != h->kernel_sum)
    sink.warn("crc-mismatch", "ZyXEL RAS: the kernel checksum does not match", "kernel.bin", at);
  if (auto st = emit_part(d, sink, "kernel.bin", at, h->kernel_len); !st)
    return std::unexpected(st.error());
  return at + h->kernel_len;
}

}  // namespace

const Format kFormat_zyxel_ras =
    make_format(kind::kFirmwareAtStart, "zyxel_ras", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
