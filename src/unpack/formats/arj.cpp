// ARJ archives, from the documented layout (ARJ's technote): a main header, then one local
// header per file, each "\x60\xea", a 16-bit basic header size (0 ends the archive), the basic
// header (first-header size, versions, host OS, flags, method, file type, DOS time, compressed
// and original sizes, the file's CRC-32, access mode; then the name and the comment, both
// NUL-terminated), its CRC-32, and extended headers (each a 16-bit size, data, CRC-32) up to a
// zero size; the file's data follows. Every header CRC and every file's CRC-32 is checked.
// Method 0 is stored. Methods 1-3 are ARJ's LZ77 + Huffman coder, whose bit stream is the one
// LHA's -lh7- uses (the same block, code-length and position tables; ARJ's 26 KiB window fits
// lh7's 64 KiB): the data is handed to libarchive's LHA reader behind a level-0 LHA header made
// for it, and its CRC-32 is checked here. Method 4 (ARJ's fastest coder) is not decoded: a
// `format-error` warning, the archive not understood from that entry's data on. Garbled
// (password) entries are an `encrypted` region, never read. libarchive has no ARJ reader,
// hence the container by hand (docs/architecture.md).
#include <archive.h>
#include <fmt/format.h>

#include "probity/limits.hpp"
#include "unpack/archive_reader.hpp"
#include "unpack/dos_time.hpp"
#include "unpack/format.hpp"
#include "unpack/vendor.hpp"

namespace probity::unpacker {
namespace {

using namespace std::string_view_literals;
// Two bytes: far too common to carve on their own; the probe (header CRC-32, main header type)
// decides.
constexpr Magic kMagics[] = {{"\x60\xea"sv, 0, /*weak=*/true}};
constexpr std::string_view kDescription = "ARJ archive (methods 0-3; header and data CRC-32)";
constexpr std::uint64_t kFixedPart = 30;  ///< first-header fields every ARJ version writes
constexpr std::uint8_t kGarbled = 0x01;
constexpr std::uint8_t kMainHeaderType = 2;
constexpr std::uint8_t kDirectoryType = 3;

struct Header {
  std::uint64_t size = 0;  ///< bytes from the magic to the end of the last extended header
  std::uint8_t host_os = 0, flags = 0, method = 0, type = 0;
  std::uint32_t dos_datetime = 0, compressed = 0, original = 0, crc = 0;
  std::uint16_t mode = 0;
  std::string name;
  bool end = false;  ///< the end-of-archive marker (basic header size 0)
};

/// The header at `at`, or an error saying what is wrong there.
Result<Header> read_header(Bytes d, std::uint64_t at) {
  if (!starts_with(d, "\x60\xea"sv, at)) return fail("no ARJ header magic", at);
  const auto basic = read_le<std::uint16_t>(d, at + 2);
  if (!basic) return fail("ARJ header truncated", at);
  Header h;
  if (*basic == 0) {
    h.end = true;
    h.size = 4;
    return h;
  }
  if (*basic < kFixedPart || *basic > kMaxArjHeaderBytes)
    return fail(fmt::format("ARJ basic header size {} out of range", *basic), at + 2);
  const Bytes b = sub(d, at + 4, *basic);
  const auto crc = read_le<std::uint32_t>(d, at + 4 + *basic);
  if (b.size() < *basic || !crc) return fail("ARJ header truncated", at);
  if (crc32_of(b) != *crc) return fail("ARJ header CRC-32 does not match", at + 4 + *basic);
  const std::uint8_t first = b[0];
  if (first < kFixedPart || first > *basic)
    return fail(fmt::format("ARJ first-header size {} out of range", first), at + 4);
  h.host_os = b[3];
  h.flags = b[4];
  h.method = b[5];
  h.type = b[6];
  h.dos_datetime = *read_le<std::uint32_t>(b, 8);
  h.compressed = *read_le<std::uint32_t>(b, 12);
  h.original = *read_le<std::uint32_t>(b, 16);
  h.crc = *read_le<std::uint32_t>(b, 20);
  h.mode = *read_le<std::uint16_t>(b, 26);
  h.name = cstr(b, first, *basic - first);
  std::uint64_t next = at + 4 + *basic + 4;
  for (std::uint32_t i = 0;; ++i) {
    const auto ext = read_le<std::uint16_t>(d, next);
    if (!ext) return fail("ARJ extended header truncated", next);
    next += 2;
    if (*ext == 0) break;
    if (i >= kMaxArjExtendedHeaders)
      return fail(fmt::format("more than {} ARJ extended headers", kMaxArjExtendedHeaders), next);
    if (d.size() - std::min<std::uint64_t>(d.size(), next) < std::uint64_t(*ext) + 4)
      return fail("ARJ extended header truncated", next);
    next += *ext + 4;
  }
  h.size = next - at;
  return h;
}

/// Decodes an ARJ method 1-3 entry through libarchive's LHA -lh7- decoder into `f`; returns the
/// CRC-32 of what was written, or an error.
Result<std::uint32_t> decode_lzh(Bytes data, std::uint32_t original, FileOut& f) {
  // A level-0 LHA header: size, checksum of the rest, "-lh7-", packed and original sizes, DOS
  // time, attribute, level 0, a one-byte name, the CRC-16 (not checked: ARJ's CRC-32 is).
  std::vector<std::uint8_t> buf;
  auto put32 = [&](std::uint32_t v) {
    for (int i = 0; i < 4; ++i) buf.push_back(std::uint8_t(v >> (8 * i)));
  };
  buf = {0, 0, '-', 'l', 'h', '7', '-'};
  put32(std::uint32_t(data.size()));
  put32(original);
  put32(0);
  buf.insert(buf.end(), {0x20, 0, 1, 'x', 0, 0});
  buf[0] = std::uint8_t(buf.size() - 2);
  std::uint8_t sum = 0;
  for (std::size_t i = 2; i < buf.size(); ++i) sum = std::uint8_t(sum + buf[i]);
  buf[1] = sum;
  buf.insert(buf.end(), data.begin(), data.end());
  buf.push_back(0);  // end of archive
  auto reader = new_archive_reader();
  if (!reader) return std::unexpected(reader.error());
  struct archive* a = reader->get();
  archive_read_support_format_lha(a);
  struct archive_entry* e = nullptr;
  if (archive_read_open_memory(a, buf.data(), buf.size()) != ARCHIVE_OK ||
      archive_read_next_header(a, &e) != ARCHIVE_OK)
    return fail(fmt::format("ARJ compressed data not readable: {}", archive_message(a)));
  std::uint32_t crc = 0;
  std::uint64_t written = 0;
  for (;;) {
    const void* block = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    // The made-up header's CRC-16 is 0, so the last block comes with ARCHIVE_WARN ("LHa data
    // CRC error"): its bytes are good, and ARJ's own CRC-32 is checked by the caller.
    const int rc = archive_read_data_block(a, &block, &size, &offset);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN || std::uint64_t(offset) != written)
      return fail(fmt::format("ARJ compressed data corrupt after {} bytes: {}", written,
                              archive_message(a)));
    const Bytes out(static_cast<const std::uint8_t*>(block), size);
    crc = crc32_of(out, crc);
    if (auto st = f.write(out); !st) return std::unexpected(st.error());
    written += size;
    if (rc == ARCHIVE_WARN) break;
  }
  if (written != original)
    return fail(fmt::format("ARJ compressed data gave {} bytes, {} expected", written, original));
  return crc;
}

std::optional<Probe> probe(Bytes d) {
  auto h = read_header(d, 0);
  if (!h || h->end || h->type != kMainHeaderType) return std::nullopt;
  return Probe{0, fmt::format("ARJ archive \"{}\"", h->name)};
}

/// The path of a stored name: DOS and Windows hosts separate with '\' (unless the header says
/// the path was translated to '/').
std::string entry_path(const Header& h) {
  std::string p = h.name;
  constexpr std::uint8_t kPathTranslated = 0x10;
  const bool dos_host = h.host_os == 0 || h.host_os == 10 || h.host_os == 11;
  if (dos_host && !(h.flags & kPathTranslated))
    for (char& c : p)
      if (c == '\\') c = '/';
  return p;
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto main = read_header(d, 0);
  if (!main) return std::unexpected(main.error());
  if (main->end || main->type != kMainHeaderType) return fail("not an ARJ main header", 0);
  std::uint64_t at = main->size;
  std::uint32_t stored = 0;
  std::optional<std::uint64_t> first_undecoded;
  std::optional<std::pair<std::uint64_t, std::uint64_t>> garbled;
  for (;;) {
    if (auto st = sink.check_time(); !st) return fail_at(st.error(), at);
    auto h = read_header(d, at);
    if (!h) return std::unexpected(h.error());
    if (h->end) {
      at += h->size;
      break;
    }
    const std::uint64_t data_at = at + h->size;
    const Bytes data = sub(d, data_at, h->compressed);
    if (data.size() < h->compressed)
      return fail(fmt::format("ARJ entry \"{}\" truncated: {} of {} bytes", h->name, data.size(),
                              h->compressed),
                  at);
    Entry e{entry_path(*h)};
    e.mtime = dos_time(std::uint16_t(h->dos_datetime >> 16), std::uint16_t(h->dos_datetime));
    constexpr std::uint8_t kUnixHost = 2;
    if (h->host_os == kUnixHost) e.mode = h->mode & 07777;
    if (h->type == kDirectoryType) {
      e.type = EntryType::kDir;
      (void)sink.node(e);
    } else if (h->flags & kGarbled) {
      sink.warn("encrypted",
                fmt::format("ARJ entry is garbled (password-protected): not decrypted, not seen"),
                e.path, data_at);
      if (!garbled) garbled = std::pair{data_at, std::uint64_t(h->compressed)};
    } else if (h->method == 0) {
      if (h->original != h->compressed)
        sink.warn("format-error",
                  fmt::format("stored ARJ entry: original size {} differs from stored size {}",
                              h->original, h->compressed),
                  e.path, at);
      if (crc32_of(data) != h->crc)
        sink.warn("crc-mismatch", "ARJ entry CRC-32 does not match its data", e.path, data_at);
      if (auto st = sink.file(e, data); !st) {
        if (sink.exhausted()) return fail(st.error().message, at);
      } else {
        ++stored;
      }
    } else if (h->method >= 1 && h->method <= 3) {
      auto f = sink.open_file(e);
      if (!f) {
        if (sink.exhausted()) return fail(f.error().message, at);
      } else {
        auto crc = decode_lzh(data, h->original, *f);
        if (!crc) {
          f->mark_truncated();
          sink.warn("format-error", crc.error().message, e.path, data_at);
          if (!first_undecoded) first_undecoded = data_at;
        } else if (*crc != h->crc) {
          sink.warn("crc-mismatch", "ARJ entry CRC-32 does not match its decoded data", e.path,
                    data_at);
        }
        f->close();
        ++stored;
        if (sink.exhausted()) return fail("output cap reached", at);
      }
    } else {
      sink.warn("format-error",
                fmt::format("ARJ method {} (compressed) is not decoded: {} bytes not seen",
                            h->method, h->compressed),
                e.path, data_at);
      if (!first_undecoded) first_undecoded = data_at;
    }
    at = data_at + h->compressed;
  }
  sink.describe(fmt::format("ARJ archive \"{}\", {} files extracted", main->name, stored));
  if (garbled) sink.encrypted(garbled->first, at - garbled->first);
  if (first_undecoded)
    return fail("ARJ archive holds entries that were not decoded (method 4, or corrupt data)",
                *first_undecoded);
  return at;
}

}  // namespace

const Format kFormat_arj =
    make_format(kind::kArchive, "arj", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
