// coreboot CBFS (coreboot's cbfs_serialized.h): file headers "LARCHIVE" (big-endian data length,
// type, attributes offset, data offset, then the NUL-terminated name), each file aligned to 64
// bytes, the next header right after. The walk starts at a header and follows the chain; the
// master header ("ORBC") is a file of type 2 and is described, not written. Files are written
// under their names; a compression attribute ("BCZL": LZMA or LZ4) makes the file name end in
// .lzma or .lz4, and the lzma and lz4 formats (liblzma, liblz4) decode it. Empty and deleted
// entries are skipped. Legacy stages and SELF payloads carry their own compression, which is
// not decoded (a format-warning says how many).
#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "probity/limits.hpp"
#include "unpack/format.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"LARCHIVE", 0}};
constexpr std::uint64_t kHeader = 24, kAlign = 64;
constexpr std::uint32_t kDeleted = 0, kNull = 0xffffffff, kMasterHeader = 2, kLegacyStage = 0x10,
                        kSelf = 0x20;

struct File {
  std::uint64_t at = 0, data = 0, len = 0;
  std::uint32_t type = 0, compression = 0;
  std::string name;
};

/// The header at `off` of `d`, or nullopt when it is not a sound one.
std::optional<File> header(Bytes d, std::uint64_t off) {
  if (!starts_with(d, "LARCHIVE", off) || d.size() - off < kHeader) return std::nullopt;
  File f;
  f.at = off;
  f.len = *read_be<std::uint32_t>(d, off + 8);
  f.type = *read_be<std::uint32_t>(d, off + 12);
  const std::uint64_t attrs = *read_be<std::uint32_t>(d, off + 16);
  f.data = *read_be<std::uint32_t>(d, off + 20);
  if (f.data < kHeader || f.data > kHeader + kMaxCbfsNameBytes + 4096) return std::nullopt;
  if (attrs != 0 && (attrs < kHeader || attrs > f.data)) return std::nullopt;
  const std::uint64_t name_end = attrs ? attrs : f.data;
  if (d.size() - off < name_end) return std::nullopt;
  f.name = cstr(d, off + kHeader, name_end - kHeader);
  // Attributes: tag and length (which counts the 8 bytes), up to the data.
  for (std::uint64_t a = attrs; a != 0 && a + 8 <= f.data;) {
    const std::uint32_t tag = *read_be<std::uint32_t>(d, off + a),
                        len = *read_be<std::uint32_t>(d, off + a + 4);
    if (tag == 0 || tag == 0xffffffff || len < 8 || len > f.data - a) break;
    if (tag == 0x42435a4c && len >= 16) f.compression = *read_be<std::uint32_t>(d, off + a + 8);
    a += len;
  }
  return f;
}

/// The chain of files from offset 0, and where the last one ends.
std::vector<File> walk(Bytes d, std::uint64_t& end, bool& capped) {
  std::vector<File> files;
  end = 0;
  capped = false;
  for (std::uint64_t off = 0;;) {
    auto f = header(d, off);
    if (!f) break;
    if (files.size() >= kMaxCbfsFiles) {
      capped = true;
      break;
    }
    files.push_back(*f);
    end = off + f->data + f->len;  // may lie past the blob: extract says so
    if (end > d.size()) break;
    off = (end + kAlign - 1) / kAlign * kAlign;
  }
  return files;
}

std::optional<Probe> probe(Bytes d) {
  auto first = header(d, 0);
  if (!first) return std::nullopt;
  std::uint64_t end = 0;
  bool capped = false;
  const auto files = walk(d, end, capped);
  return Probe{std::min<std::uint64_t>(end, d.size()),
               fmt::format("coreboot CBFS, {} files", files.size())};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  std::uint64_t end = 0;
  bool capped = false;
  const auto files = walk(d, end, capped);
  if (files.empty()) return fail("bad CBFS file header", 0);
  std::string master;
  std::uint32_t written = 0, undecoded = 0;
  for (const File& f : files) {
    if (f.at + f.data + f.len > d.size()) {
      return fail(fmt::format("CBFS file '{}' of {} bytes runs past the end", f.name, f.len), f.at);
    }
    const Bytes data = sub(d, f.at + f.data, f.len);
    if (f.type == kNull || f.type == kDeleted) continue;
    if (f.type == kMasterHeader && starts_with(data, "ORBC") && data.size() >= 24) {
      master = fmt::format(", master header version 0x{:x}, ROM {} bytes, alignment {}",
                           *read_be<std::uint32_t>(data, 4), *read_be<std::uint32_t>(data, 8),
                           *read_be<std::uint32_t>(data, 16));
      continue;
    }
    // The name's components made safe ("fallback/romstage" stays a path).
    std::string path;
    for (std::size_t pos = 0; pos <= f.name.size();) {
      const std::size_t slash = std::min(f.name.find('/', pos), f.name.size());
      const std::string part = safe_file_name(f.name.substr(pos, slash - pos), "unnamed");
      path += (path.empty() ? "" : "/") + part;
      pos = slash + 1;
    }
    if (f.compression == 1)
      path += ".lzma";
    else if (f.compression == 2)
      path += ".lz4";
    else if (f.compression != 0)
      sink.warn("format-warning",
                fmt::format("unknown CBFS compression {}: written as it is", f.compression), path,
                f.at);
    if (f.type == kLegacyStage || f.type == kSelf) ++undecoded;
    ++written;
    if (auto st = sink.file(Entry{path, EntryType::kFile, 0644}, data); !st && sink.exhausted())
      return fail_at(st.error(), f.at);
  }
  sink.describe(
      fmt::format("coreboot CBFS, {} files ({} written){}", files.size(), written, master));
  if (undecoded > 0)
    sink.warn("format-warning",
              fmt::format("{} legacy stage/SELF payload file(s) written with their own "
                          "compression, not decoded",
                          undecoded));
  if (capped) return fail(fmt::format("more than {} CBFS files (cap)", kMaxCbfsFiles), end);
  return end;
}

}  // namespace

const Format kFormat_cbfs = make_format(
    kind::kFirmwarePackage, "cbfs", "coreboot CBFS (LARCHIVE file chain)", kMagics, probe, extract);

}  // namespace probity::unpacker
