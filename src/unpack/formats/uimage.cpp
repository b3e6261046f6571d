// U-Boot legacy image ("uImage"): a 64-byte big-endian header with a header CRC, a data CRC,
// load/entry addresses, OS/arch/type/compression codes and a 32-byte name; then the payload.
// Multi-file images (type 4) carry a zero-terminated table of sizes before the files.
#include <zlib.h>

#include <array>

#include <fmt/format.h>

#include "probity/limits.hpp"
#include "unpack/format.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"\x27\x05\x19\x56", 0}};
constexpr std::string_view kDescription = "U-Boot legacy uImage (header CRC checked)";
constexpr std::uint32_t kHeader = 64;

struct Header {
  std::uint32_t hcrc, time, size, load, entry, dcrc;
  std::uint8_t os, arch, type, comp;
  std::string name;
};

const char* type_name(std::uint8_t t) {
  switch (t) {
    case 1:
      return "standalone";
    case 2:
      return "kernel";
    case 3:
      return "ramdisk";
    case 4:
      return "multi";
    case 5:
      return "firmware";
    case 6:
      return "script";
    case 7:
      return "filesystem";
    case 8:
      return "flat_dt";
    default:
      return "other";
  }
}
const char* comp_name(std::uint8_t c) {
  static constexpr std::array<const char*, 6> kNames = {"none", "gzip", "bzip2",
                                                        "lzma", "lzo",  "lz4"};
  return c < kNames.size() ? kNames[c] : (c == 6 ? "zstd" : "unknown");
}
const char* arch_name(std::uint8_t a) {
  switch (a) {
    case 2:
      return "arm";
    case 3:
      return "x86";
    case 5:
      return "mips";
    case 6:
      return "mips64";
    case 7:
      return "powerpc";
    case 22:
      return "arm64";
    default:
      return "other";
  }
}

std::optional<Header> parse(Bytes d) {
  if (d.size() < kHeader || !starts_with(d, "\x27\x05\x19\x56")) return std::nullopt;
  Header h{};
  h.hcrc = *read_be<std::uint32_t>(d, 4);
  h.time = *read_be<std::uint32_t>(d, 8);
  h.size = *read_be<std::uint32_t>(d, 12);
  h.load = *read_be<std::uint32_t>(d, 16);
  h.entry = *read_be<std::uint32_t>(d, 20);
  h.dcrc = *read_be<std::uint32_t>(d, 24);
  h.os = d[28];
  h.arch = d[29];
  h.type = d[30];
  h.comp = d[31];
  h.name = cstr(d, 32, 32);
  // The header CRC covers the header with its CRC field zeroed.
  std::array<std::uint8_t, kHeader> copy{};
  std::copy_n(d.begin(), kHeader, copy.begin());
  copy[4] = copy[5] = copy[6] = copy[7] = 0;
  if (crc32(0, copy.data(), kHeader) != h.hcrc) return std::nullopt;
  return h;
}

std::optional<Probe> probe(Bytes d) {
  auto h = parse(d);
  if (!h) return std::nullopt;
  return Probe{std::min<std::uint64_t>(std::uint64_t(kHeader) + h->size, d.size()),
               fmt::format("uImage {} \"{}\", {}, {}, {} bytes", type_name(h->type), h->name,
                           arch_name(h->arch), comp_name(h->comp), h->size)};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto h = parse(d);
  if (!h) return fail("bad uImage header CRC", 0);
  sink.describe(
      fmt::format("uImage {} \"{}\", {}, {} compression, load 0x{:x}, entry 0x{:x}, time {}",
                  type_name(h->type), h->name, arch_name(h->arch), comp_name(h->comp), h->load,
                  h->entry, h->time));
  const std::uint64_t want = std::uint64_t(kHeader) + h->size;
  Bytes payload = sub(d, kHeader, h->size);
  if (want > d.size())
    sink.warn("format-error",
              fmt::format("uImage payload truncated: header says {} bytes, {} present", h->size,
                          payload.size()),
              "", kHeader);
  else if (crc32(0, payload.data(), uInt(payload.size())) != h->dcrc)
    sink.warn("crc-mismatch", "uImage data CRC does not match the header (modified payload?)", "",
              kHeader);
  const std::string base = safe_file_name(h->name, type_name(h->type));
  if (h->type == 4) {  // multi-file: u32 sizes until a zero, then the files, each 4-aligned
    std::vector<std::uint32_t> sizes;
    std::uint64_t off = 0;
    for (;;) {
      auto n = read_be<std::uint32_t>(payload, off);
      off += 4;
      if (!n || *n == 0) break;
      if (sizes.size() >= kMaxUimageMultiFiles)
        return fail("too many files in multi-file uImage", kHeader + off);
      sizes.push_back(*n);
    }
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      auto st =
          sink.file(Entry{fmt::format("{}.{}", base, i), EntryType::kFile, 0644, 0, 0, h->time},
                    sub(payload, off, sizes[i]));
      if (!st) return fail_at(st.error(), kHeader + off);
      off += (std::uint64_t(sizes[i]) + 3) & ~std::uint64_t(3);
    }
  } else {
    if (auto st = sink.file(Entry{base, EntryType::kFile, 0644, 0, 0, h->time}, payload); !st)
      return fail_at(st.error(), kHeader);
  }
  return std::min<std::uint64_t>(want, d.size());
}

// Header fields for equiv (docs/equiv.md: uimage-header-time, uimage-header-crc,
// uimage-data-crc; the size and compression code follow from the payload's encoding).
std::vector<HeaderField> header_fields(Bytes d) {
  if (d.size() < kHeader) return {};
  using R = HeaderField::Role;
  auto u32 = [&](std::uint64_t o) { return *read_be<std::uint32_t>(d, o); };
  auto hex = [&](std::uint64_t o) { return fmt::format("{:#010x}", u32(o)); };
  return {
      {"ih_hcrc", 4, 4, R::kHeaderCrc, "uimage-header-crc", hex(4)},
      {"ih_time", 8, 4, R::kTimestamp, "uimage-header-time", std::to_string(u32(8))},
      {"ih_size", 12, 4, R::kEncoding, "compression-layout", hex(12)},
      {"load address", 16, 4, R::kIdentity, {}, hex(16)},
      {"entry point", 20, 4, R::kIdentity, {}, hex(20)},
      {"ih_dcrc", 24, 4, R::kEncoding, "uimage-data-crc", hex(24)},
      {"os", 28, 1, R::kIdentity, {}, std::to_string(d[28])},
      {"arch", 29, 1, R::kIdentity, {}, std::to_string(d[29])},
      {"type", 30, 1, R::kIdentity, {}, std::to_string(d[30])},
      {"ih_comp", 31, 1, R::kEncoding, "compression-layout", std::to_string(d[31])},
      {"name", 32, 32, R::kIdentity, {}, cstr(d, 32, 32)},
  };
}

}  // namespace

const Format kFormat_uimage =
    make_format(kind::kFirmwareHeader, "uimage", kDescription, kMagics, probe, extract,
                {.header_fields = header_fields, .header_label = "uImage header"});

}  // namespace probity::unpacker
