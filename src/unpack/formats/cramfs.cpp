// cramfs (Linux compressed ROM filesystem), little- or big-endian: a 76-byte superblock, 12-byte
// inodes with their names, each file a table of block end pointers followed by zlib-compressed
// 4 KiB blocks. The whole-image CRC32 (fsid v2) is verified. Images padded for boot code (magic
// at 512) are found at the magic: their offsets still count from the padding, so they fail
// cleanly rather than mis-extract (see docs/formats-notes.md).
#include <zlib.h>

#include <set>

#include <fmt/format.h>

#include "unpack/format.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"\x45\x3d\xcd\x28", 0}, {"\x28\xcd\x3d\x45", 0}};
constexpr std::string_view kDescription = "cramfs (little/big endian, zlib; CRC checked)";
constexpr std::uint32_t kSuperBytes = 76;
constexpr std::uint32_t kInodeBytes = 12;
constexpr std::uint32_t kPage = 4096;
/// Directory nesting depth inside one image.
constexpr std::uint32_t kFlagFsidV2 = 1, kFlagHoles = 0x100, kFlagShiftedRoot = 0x400,
                        kFlagExtBlockPointers = 0x800;
constexpr std::uint32_t kBlkUncompressed = 1u << 31, kBlkDirect = 1u << 30;
/// Flags this parser understands; others make the image unsupported.
constexpr std::uint32_t kKnownFlags = 0x1 | 0x2 | 0x100 | 0x200 | 0x400 | 0x800;

struct Inode {
  std::uint32_t mode = 0, uid = 0, size = 0, gid = 0, namelen = 0, offset = 0;
};

struct Image {
  Bytes d;
  bool big = false;
  std::uint32_t size = 0, flags = 0;

  [[nodiscard]] std::optional<std::uint32_t> u32(std::uint64_t off) const {
    return big ? read_be<std::uint32_t>(d, off) : read_le<std::uint32_t>(d, off);
  }
  [[nodiscard]] std::optional<Inode> inode(std::uint64_t off) const {
    auto w0 = u32(off), w1 = u32(off + 4), w2 = u32(off + 8);
    if (!w0 || !w1 || !w2) return std::nullopt;
    Inode i;
    if (big) {  // big-endian bitfields: the first field takes the high bits
      i.mode = *w0 >> 16, i.uid = *w0 & 0xffff;
      i.size = *w1 >> 8, i.gid = *w1 & 0xff;
      i.namelen = *w2 >> 26, i.offset = *w2 & 0x3ffffff;
    } else {
      i.mode = *w0 & 0xffff, i.uid = *w0 >> 16;
      i.size = *w1 & 0xffffff, i.gid = *w1 >> 24;
      i.namelen = *w2 & 0x3f, i.offset = *w2 >> 6;
    }
    return i;
  }
};

std::optional<Image> open(Bytes d) {
  if (d.size() < kSuperBytes || !starts_with(d, "Compressed ROMFS", 16)) return std::nullopt;
  Image im;
  im.d = d;
  if (starts_with(d, "\x45\x3d\xcd\x28"))
    im.big = false;
  else if (starts_with(d, "\x28\xcd\x3d\x45"))
    im.big = true;
  else
    return std::nullopt;
  im.size = *im.u32(4);
  im.flags = *im.u32(8);
  if (im.size < kSuperBytes || (im.flags & ~kKnownFlags)) return std::nullopt;
  auto root = im.inode(64);
  if (!root || (root->mode & 0xf000) != 0x4000) return std::nullopt;
  return im;
}

std::optional<Probe> probe(Bytes d) {
  auto im = open(d);
  if (!im) return std::nullopt;
  return Probe{std::min<std::uint64_t>(im->size, d.size()),
               fmt::format("cramfs {}-endian, {} bytes, \"{}\"", im->big ? "big" : "little",
                           im->size, cstr(d, 48, 16))};
}

struct Walker {
  const Image& im;
  Sink& sink;
  std::set<std::uint32_t> visited_dirs;
  Status status;

  Entry entry_of(const Inode& i, const std::string& path) {
    return Entry{path, EntryType::kFile, i.mode & 07777u, i.uid, i.gid};
  }

  /// Decompresses the data of a file or symlink inode into `emit(Bytes)` calls.
  template <class Emit>
  bool read_data(const Inode& i, const std::string& path, Emit&& emit) {
    const std::uint64_t nblocks = (std::uint64_t(i.size) + kPage - 1) / kPage;
    const std::uint64_t table = std::uint64_t(i.offset) * 4;
    std::uint64_t start = table + nblocks * 4;
    std::vector<std::uint8_t> page(kPage);
    for (std::uint64_t b = 0; b < nblocks; ++b) {
      auto ptr = im.u32(table + b * 4);
      if (!ptr) {
        sink.warn("format-error", "block pointer table past the end of the image", path,
                  table + b * 4);
        return false;
      }
      const std::uint64_t want = std::min<std::uint64_t>(kPage, i.size - b * kPage);
      std::uint32_t end = *ptr;
      bool raw = false;
      if (im.flags & kFlagExtBlockPointers) {
        if (end & kBlkDirect) {
          sink.warn("format-error", "direct block pointers are not supported", path);
          return false;
        }
        raw = end & kBlkUncompressed;
        end &= ~(kBlkUncompressed | kBlkDirect);
      }
      if (end < start || end > im.d.size()) {
        sink.warn("format-error",
                  fmt::format("block {} pointer 0x{:x} outside [0x{:x}, image end]", b, end, start),
                  path, table + b * 4);
        return false;
      }
      const Bytes in = sub(im.d, start, end - start);
      start = end;
      if (in.empty()) {  // a hole (kFlagHoles): a page of zeros
        std::fill(page.begin(), page.end(), 0);
        emit(Bytes(page.data(), want));
        continue;
      }
      if (raw) {
        if (in.size() != want) {
          sink.warn("format-error", "uncompressed block of the wrong size", path, start);
          return false;
        }
        emit(in);
        continue;
      }
      uLongf got = kPage;
      const int rc = uncompress(page.data(), &got, in.data(), uLong(in.size()));
      if (rc != Z_OK || got != want) {
        sink.warn("format-error",
                  rc != Z_OK ? fmt::format("block {}: zlib error {}", b, rc)
                             : fmt::format("block {}: {} bytes, expected {}", b, got, want),
                  path, end);
        return false;
      }
      if (!emit(Bytes(page.data(), got))) return false;
    }
    return true;
  }

  void walk(const Inode& dir, const std::string& prefix, std::uint32_t depth) {
    if (!enter_directory(sink, visited_dirs, dir.offset, prefix, depth)) return;
    std::uint64_t off = std::uint64_t(dir.offset) * 4;
    const std::uint64_t end = off + dir.size;
    while (off < end && status) {
      if (auto st = sink.check_time(); !st) {
        status = st;
        break;
      }
      auto i = im.inode(off);
      if (!i || off + kInodeBytes + std::uint64_t(i->namelen) * 4 > end) {
        sink.warn("format-error", "directory entry past the end of its directory", prefix, off);
        break;
      }
      std::string name = cstr(im.d, off + kInodeBytes, std::size_t(i->namelen) * 4);
      off += kInodeBytes + std::uint64_t(i->namelen) * 4;
      const auto child = child_path(sink, prefix, name, off);
      if (!child) continue;
      const std::string& path = *child;
      Entry e = entry_of(*i, path);
      switch (i->mode & 0xf000) {
        case 0x4000:
          e.type = EntryType::kDir;
          (void)sink.node(e);
          if (i->size) walk(*i, path, depth + 1);
          break;
        case 0x8000: {
          auto out = sink.open_file(e);
          if (!out) break;
          bool ok = true;
          if (i->size)
            ok = read_data(*i, path, [&](Bytes b) {
              if (auto st = out->write(b); !st) return false;
              return true;
            });
          if (!ok) out->mark_truncated();
          out->close();
          break;
        }
        case 0xa000: {
          e.type = EntryType::kSymlink;
          (void)read_data(*i, path, [&](Bytes b) {
            e.link.append(reinterpret_cast<const char*>(b.data()),
                          std::min<std::size_t>(b.size(), kMaxLinkBytes - e.link.size()));
            return e.link.size() < kMaxLinkBytes;
          });
          (void)sink.node(e);
          break;
        }
        default:
          if (auto t = node_type(i->mode)) {
            e.type = *t;
            (void)sink.node(e);
            break;
          }
          sink.warn("format-error", fmt::format("unknown inode type 0{:o}", i->mode & 0xf000),
                    path);
      }
    }
  }
};

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto im = open(d);
  if (!im) return fail("bad cramfs superblock", 0);
  const Bytes image = sub(d, 0, im->size);
  im->d = image;
  const auto edition = *im->u32(36), blocks = *im->u32(40), files = *im->u32(44);
  sink.describe(fmt::format("cramfs {}-endian, \"{}\", {} bytes, edition {}, {} blocks, {} files{}",
                            im->big ? "big" : "little", cstr(d, 48, 16), im->size, edition, blocks,
                            files, (im->flags & kFlagHoles) ? ", sparse files" : ""));
  if (image.size() < im->size) {
    sink.warn("format-error", fmt::format("cramfs truncated: superblock says {} bytes, {} present",
                                          im->size, image.size()));
  } else if (im->flags & kFlagFsidV2) {
    // The CRC covers the image with the CRC field (offset 32) zeroed.
    const auto want = *im->u32(32);
    const std::uint8_t zero[4] = {};
    uLong crc = crc32(0, nullptr, 0);
    crc = crc32(crc, image.data(), 32);
    crc = crc32(crc, zero, 4);
    crc = crc32(crc, image.data() + 36, uInt(image.size() - 36));
    if (std::uint32_t(crc) != want)
      sink.warn("crc-mismatch",
                fmt::format("cramfs CRC32 is 0x{:08x}, the superblock says 0x{:08x} (modified "
                            "image?)",
                            std::uint32_t(crc), want));
  }
  if (im->flags & kFlagShiftedRoot)
    sink.warn("format-error", "shifted root offset flag: root may be misplaced");
  Walker w{*im, sink};
  w.walk(*im->inode(64), "", 0);
  if (!w.status) return fail(w.status.error().message, image.size());
  return image.size();
}

}  // namespace

const Format kFormat_cramfs =
    make_format(kind::kFilesystem, "cramfs", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
