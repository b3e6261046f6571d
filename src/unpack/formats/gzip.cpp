// gzip (RFC 1952), decoded with zlib. One member per candidate; a following member is carved as
// its own candidate. The header's FNAME names the output, MTIME goes in the description.
#include <zlib.h>

#include <fmt/format.h>

#include "unpack/format.hpp"
#include "unpack/inflate.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"\x1f\x8b\x08", 0}};
constexpr std::string_view kDescription = "gzip stream (zlib)";

struct Header {
  std::uint64_t size = 0;
  std::string name;
  std::uint32_t mtime = 0;
};

std::optional<Header> parse_header(Bytes d) {
  if (d.size() < 18 || d[0] != 0x1f || d[1] != 0x8b || d[2] != 8) return std::nullopt;
  const std::uint8_t flags = d[3];
  if (flags & 0xe0) return std::nullopt;  // reserved bits must be zero
  const std::uint8_t xfl = d[8], os = d[9];
  if ((xfl != 0 && xfl != 2 && xfl != 4) || (os > 13 && os != 255)) return std::nullopt;
  Header h;
  h.mtime = *read_le<std::uint32_t>(d, 4);
  std::uint64_t off = 10;
  if (flags & 4) {  // FEXTRA
    auto xlen = read_le<std::uint16_t>(d, off);
    if (!xlen) return std::nullopt;
    off += 2 + *xlen;
  }
  if (flags & 8) {  // FNAME
    h.name = cstr(d, off, 1024);
    off += h.name.size() + 1;
  }
  if (flags & 16) off += cstr(d, off, 4096).size() + 1;  // FCOMMENT
  if (flags & 2) off += 2;                               // FHCRC
  if (off >= d.size()) return std::nullopt;
  h.size = off;
  return h;
}

std::optional<Probe> probe(Bytes d) {
  auto h = parse_header(d);
  if (!h) return std::nullopt;
  // The first deflate block header must be valid: BTYPE 3 is reserved.
  if (((d[h->size] >> 1) & 3) == 3) return std::nullopt;
  return Probe{0, h->name.empty() ? "gzip" : fmt::format("gzip, name \"{}\"", h->name)};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto h = parse_header(d);
  if (!h) return fail("bad gzip header");
  std::string name = h->name;
  if (auto slash = name.rfind('/'); slash != std::string::npos) name = name.substr(slash + 1);
  if (name.empty() || name == "." || name == "..") name = "decompressed";
  sink.describe(fmt::format("gzip{}{}, mtime {}", h->name.empty() ? "" : ", name \"",
                            h->name.empty() ? "" : h->name + "\"", h->mtime));
  // zlib's total_in includes the CRC32/ISIZE trailer.
  return inflate_stream(d, sink, name, 16 + MAX_WBITS, "gzip");
}

// Header fields for equiv (RFC 1952; docs/equiv.md: MTIME is gzip-header-time, XFL the
// compressor's setting, FHCRC gzip-header-crc when only masked fields differ).
std::vector<HeaderField> header_fields(Bytes d) {
  if (d.size() < 10) return {};
  const std::uint8_t flg = d[3];
  std::uint64_t end = 10;
  if (flg & 4) {
    const auto xlen = read_le<std::uint16_t>(d, end);
    if (!xlen) return {};
    end += 2 + *xlen;
  }
  for (int bit : {8, 16})
    if (flg & bit) {
      while (end < d.size() && d[end]) ++end;
      ++end;
    }
  if (end > d.size()) return {};
  using R = HeaderField::Role;
  std::vector<HeaderField> f = {
      {"FLG", 3, 1, R::kIdentity, {}, std::to_string(d[3])},
      {"MTIME", 4, 4, R::kTimestamp, "gzip-header-time",
       std::to_string(*read_le<std::uint32_t>(d, 4))},
      {"XFL", 8, 1, R::kEncoding, "compression-layout", std::to_string(d[8])},
      {"OS", 9, 1, R::kIdentity, {}, std::to_string(d[9])},
      {"FEXTRA/FNAME/FCOMMENT", 10, end - 10, R::kIdentity, {}, fmt::format("{} bytes", end - 10)},
  };
  if ((flg & 2) && end + 2 <= d.size())
    f.push_back({"FHCRC", end, 2, R::kHeaderCrc, "gzip-header-crc",
                 fmt::format("{:#06x}", *read_le<std::uint16_t>(d, end))});
  return f;
}

}  // namespace

const Format kFormat_gzip =
    make_format(kind::kRawStream, "gzip", kDescription, kMagics, probe, extract,
                {.header_fields = header_fields, .header_label = "gzip header"});

}  // namespace probity::unpacker
