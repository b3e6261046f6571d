// UEFI firmware volumes (PI specification vol. 3: EFI_FIRMWARE_VOLUME_HEADER with "_FVH" at
// offset 40, its 16-bit checksum, the FFS file headers with their 8-bit header checksum, and the
// sections inside each file). Files are written under a directory named by their GUID, each
// section as "NN_<type>.<ext>" (PE32 images as .efi, a nested volume as .fv, which the driver
// opens again). GUID-defined LZMA sections are decoded with liblzma and read further;
// compression sections of type "none" are read further; EFI/Tiano-compressed sections and other
// GUID-defined sections that need processing are written as they are and make the volume
// incomplete (no Debian library decodes them). Volumes whose file system GUID is not FFS v1-v3
// (NVRAM stores and the like) are not read.
#include <lzma.h>

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <vector>

#include "probity/limits.hpp"
#include "unpack/format.hpp"
#include "unpack/stream.hpp"
#include "unpack/uefi_guid.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"_FVH", 40}};
constexpr std::string_view kDescription = "UEFI firmware volume (FFS files and sections)";
constexpr std::uint64_t kFvHeaderMin = 72;  // 56 bytes + one block map entry + the terminator

constexpr std::string_view kFfs1 = "7A9354D9-0468-444A-81CE-0BF617D890DF",
                           kFfs2 = "8C8CE578-8A3D-4F1C-9935-896185C32DD3",
                           kFfs3 = "5473C07A-3DCB-4DCA-BD6F-1E9689E7349A",
                           kLzma = "EE4E5898-3914-4259-9D6E-DC7BD79403CF";

struct Volume {
  std::uint64_t length = 0, header = 0, files = 0;
  std::uint32_t attributes = 0;
  std::string fs;
  bool erase_ones = false;
};

std::optional<Volume> parse(Bytes d) {
  if (d.size() < kFvHeaderMin || !starts_with(d, "_FVH", 40)) return std::nullopt;
  Volume v;
  v.length = *read_le<std::uint64_t>(d, 32);
  v.attributes = *read_le<std::uint32_t>(d, 44);
  v.header = *read_le<std::uint16_t>(d, 48);
  const std::uint8_t revision = d[55];
  if (v.header < kFvHeaderMin || v.header % 2 != 0 || v.header > v.length || v.header > d.size() ||
      (revision != 1 && revision != 2))
    return std::nullopt;
  std::uint16_t sum = 0;  // the header's 16-bit words add up to zero
  for (std::uint64_t i = 0; i < v.header; i += 2) sum += *read_le<std::uint16_t>(d, i);
  if (sum != 0) return std::nullopt;
  v.fs = uefi_guid(d, 16);
  v.erase_ones = (v.attributes & 0x800) != 0;
  v.files = v.header;
  if (const std::uint16_t ext = *read_le<std::uint16_t>(d, 52); ext != 0) {
    auto ext_size = read_le<std::uint32_t>(d, ext + 16);
    if (!ext_size || ext < v.header || ext + std::uint64_t(*ext_size) > v.length)
      return std::nullopt;
    v.files = ext + std::uint64_t(*ext_size);
  }
  v.files = (v.files + 7) / 8 * 8;
  return v;
}

std::optional<Probe> probe(Bytes d) {
  auto v = parse(d);
  if (!v) return std::nullopt;
  return Probe{std::min(v->length, std::uint64_t(d.size())),
               fmt::format("UEFI firmware volume, {} bytes, file system {}", v->length, v->fs)};
}

std::string_view file_type(std::uint8_t t) {
  static constexpr std::string_view kNames[] = {"all",
                                                "raw",
                                                "freeform",
                                                "sec_core",
                                                "pei_core",
                                                "dxe_core",
                                                "peim",
                                                "driver",
                                                "combined_peim_driver",
                                                "application",
                                                "mm",
                                                "fv_image",
                                                "combined_mm_dxe",
                                                "mm_core"};
  if (t < std::size(kNames)) return kNames[t];
  return t == 0xf0 ? "pad" : "other";
}

/// Name and extension of a leaf section type.
std::pair<std::string_view, std::string_view> section_type(std::uint8_t t) {
  switch (t) {
    case 0x10:
      return {"pe32", "efi"};
    case 0x11:
      return {"pic", "bin"};
    case 0x12:
      return {"te", "te"};
    case 0x13:
      return {"dxe_depex", "depex"};
    case 0x14:
      return {"version", "bin"};
    case 0x15:
      return {"ui", "ui"};
    case 0x16:
      return {"compat16", "bin"};
    case 0x17:
      return {"fv", "fv"};
    case 0x18:
      return {"freeform_guid", "bin"};
    case 0x19:
      return {"raw", "bin"};
    case 0x1b:
      return {"pei_depex", "depex"};
    case 0x1c:
      return {"mm_depex", "depex"};
    default:
      return {"unknown", "bin"};
  }
}

/// Decodes an LZMA-alone stream (EDK2's LzmaCompress: 5 property bytes, the 8-byte size) into
/// memory, at most kMaxUefiSectionBytes.
Result<std::vector<std::uint8_t>> lzma_decode(Bytes in) {
  lzma_stream s = LZMA_STREAM_INIT;
  if (lzma_alone_decoder(&s, kMaxDecoderMemory) != LZMA_OK) return fail("liblzma init failed");
  struct Guard {
    lzma_stream* s;
    ~Guard() { lzma_end(s); }
  } guard{&s};
  std::vector<std::uint8_t> out;
  s.next_in = in.data();
  s.avail_in = in.size();
  for (;;) {
    const std::size_t have = out.size();
    if (have >= kMaxUefiSectionBytes)
      return fail(fmt::format("LZMA section decodes to more than {} MiB (cap)",
                              kMaxUefiSectionBytes / kMiB));
    out.resize(std::min<std::uint64_t>(kMaxUefiSectionBytes, have + kMiB));
    s.next_out = out.data() + have;
    s.avail_out = out.size() - have;
    const lzma_ret rc = lzma_code(&s, LZMA_FINISH);
    out.resize(out.size() - s.avail_out);
    if (rc == LZMA_STREAM_END) return out;
    if (rc != LZMA_OK)
      return fail(fmt::format("corrupt LZMA section (liblzma error {})", int(rc)), s.total_in);
    if (s.avail_out != 0 && s.avail_in == 0) return fail("truncated LZMA section", s.total_in);
  }
}

class Walker {
 public:
  explicit Walker(Sink& sink) : sink_(sink) {}
  std::uint64_t undecoded = 0, first_undecoded = UINT64_MAX;
  std::uint64_t sections = 0;

  /// Reads the sections of `d` (a file body or a decoded section) into directory `dir`; `base`
  /// is where `d` starts in the volume (0 inside decoded data: offsets are then approximate).
  Status sections_of(Bytes d, const std::string& dir, std::uint64_t base, std::uint32_t depth) {
    if (depth > kMaxUefiSectionDepth) {
      sink_.warn("cap-depth", fmt::format("sections nested deeper than {}", kMaxUefiSectionDepth),
                 dir, base);
      note_undecoded(base);
      return {};
    }
    for (std::uint64_t off = 0; off + 4 <= d.size(); off = (off + 3) / 4 * 4) {
      std::uint64_t size = *read_le<std::uint32_t>(d, off) & 0xffffff, hdr = 4;
      const std::uint8_t type = d[off + 3];
      if (size == 0xffffff) {
        auto ext = read_le<std::uint32_t>(d, off + 4);
        if (!ext) break;
        size = *ext;
        hdr = 8;
      }
      if (size < hdr || size > d.size() - off) {
        sink_.warn("format-error",
                   fmt::format("section of {} bytes runs past its file ({} bytes left)", size,
                               d.size() - off),
                   dir, base + off);
        note_undecoded(base + off);
        return {};
      }
      const Bytes body = sub(d, off + hdr, size - hdr);
      if (auto st = section(type, body, hdr, dir, base + off + hdr, depth); !st) return st;
      off += size;
    }
    return {};
  }

 private:
  Sink& sink_;

  void note_undecoded(std::uint64_t at) {
    ++undecoded;
    first_undecoded = std::min(first_undecoded, at);
  }

  Status write(const std::string& dir, std::string_view type, std::string_view ext, Bytes b) {
    const std::string name = fmt::format("{}/{:02}_{}.{}", dir, sections++, type, ext);
    if (auto st = sink_.file(Entry{name, EntryType::kFile, 0644}, b); !st && sink_.exhausted())
      return st;
    return {};
  }

  /// One section: `body` follows its `hdr`-byte common header.
  Status section(std::uint8_t type, Bytes body, std::uint64_t hdr, const std::string& dir,
                 std::uint64_t at, std::uint32_t depth) {
    if (type == 0x01) {  // compression: UncompressedLength, CompressionType, then the data
      if (body.size() < 5) return write(dir, "compressed_short", "bin", body);
      if (body[4] == 0) return sections_of(sub(body, 5), dir, at + 5, depth + 1);
      sink_.warn("format-error",
                 "EFI/Tiano-compressed section not decoded (no Debian library decodes it)", dir,
                 at);
      note_undecoded(at);
      return write(dir, "tiano_compressed", "bin", sub(body, 5));
    }
    if (type == 0x02) {  // GUID-defined: GUID, DataOffset (from the section start), Attributes
      if (body.size() < 20) return write(dir, "guid_defined_short", "bin", body);
      const std::string g = uefi_guid(body, 0);
      const std::uint64_t data_off = *read_le<std::uint16_t>(body, 16);
      const std::uint16_t attrs = *read_le<std::uint16_t>(body, 18);
      const Bytes data =
          sub(body, std::max<std::uint64_t>(data_off >= hdr ? data_off - hdr : 0, 20));
      if (g == kLzma) {
        auto out = lzma_decode(data);
        if (!out) {
          sink_.warn("format-error", out.error().message, dir, at);
          note_undecoded(at);
          return write(dir, "lzma_undecoded", "bin", data);
        }
        return sections_of(Bytes(out->data(), out->size()), dir, at, depth + 1);
      }
      if ((attrs & 0x01) == 0) return sections_of(data, dir, at, depth + 1);  // e.g. CRC32
      sink_.warn("format-error",
                 fmt::format("GUID-defined section {} needs processing probity cannot do", g), dir,
                 at);
      note_undecoded(at);
      return write(dir, "guid_" + g, "bin", data);
    }
    const auto [name, ext] = section_type(type);
    return write(dir, name, ext, body);
  }
};

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto v = parse(d);
  if (!v) return fail("bad UEFI firmware volume header", 0);
  sink.describe(fmt::format("UEFI firmware volume, {} bytes, file system {}, attributes 0x{:x}",
                            v->length, v->fs, v->attributes));
  if (v->fs != kFfs1 && v->fs != kFfs2 && v->fs != kFfs3)
    return fail(
        fmt::format("file system {} is not FFS: the volume's contents were not read", v->fs),
        v->header);
  const Bytes fv = sub(d, 0, v->length);
  const std::uint8_t erased = v->erase_ones ? 0xff : 0x00;
  Walker w(sink);
  std::map<std::string, std::uint32_t> seen;
  std::uint32_t files = 0;
  std::uint64_t off = v->files;
  for (; off + 24 <= fv.size(); off = (off + 7) / 8 * 8) {
    const Bytes h = sub(fv, off, 24);
    if (std::all_of(h.begin(), h.end(), [&](std::uint8_t b) { return b == erased; })) {
      off = v->length;  // free space to the end of the volume
      break;
    }
    if (++files > kMaxUefiFiles)
      return fail(fmt::format("more than {} files in one volume (cap)", kMaxUefiFiles), off);
    std::uint64_t size = *read_le<std::uint32_t>(fv, off + 20) & 0xffffff, hdr = 24;
    const std::uint8_t type = fv[off + 18], attrs = fv[off + 19];
    if ((attrs & 0x01) != 0 && size == 0) {  // FFS3 large file: a 64-bit size after the header
      auto ext = read_le<std::uint64_t>(fv, off + 24);
      if (!ext) return fail("large-file header past the end of the volume", off);
      size = *ext;
      hdr = 32;
    }
    if (size < hdr || size > fv.size() - off)
      return fail(fmt::format("FFS file of {} bytes runs past the end of the volume", size), off);
    std::uint8_t sum = 0;  // header checksum: the header bytes but the file checksum and state
    for (std::uint64_t i = 0; i < hdr; ++i)
      if (i != 17 && i != 23) sum = std::uint8_t(sum + fv[off + i]);
    if (sum != 0)
      sink.warn("crc-mismatch", fmt::format("FFS file {}: header checksum", uefi_guid(fv, off)), {},
                off);
    if (type == 0xf0) {  // pad file
      off += size;
      continue;
    }
    std::string dir = uefi_guid(fv, off);
    if (const std::uint32_t n = seen[dir]++; n > 0) dir += fmt::format("_{}", n);
    dir += fmt::format("_{}", file_type(type));
    const Bytes body = sub(fv, off + hdr, size - hdr);
    w.sections = 0;  // sections are numbered per file
    Status st;
    if (type == 0x01 || type == 0xf0 || type == 0x00)
      st = sink.file(Entry{dir + "/raw.bin", EntryType::kFile, 0644}, body);
    else
      st = w.sections_of(body, dir, off + hdr, 0);
    if (!st && sink.exhausted()) return fail_at(st.error(), off);
    off += size;
  }
  if (w.undecoded > 0)
    return fail(fmt::format("{} section(s) not decoded (see the warnings)", w.undecoded),
                std::min(w.first_undecoded, v->length));
  return std::min<std::uint64_t>(v->length, d.size());
}

}  // namespace

const Format kFormat_uefi_fv =
    make_format(kind::kFirmwarePackage, "uefi_fv", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
