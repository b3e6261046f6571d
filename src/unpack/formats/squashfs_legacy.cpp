// SquashFS 1.x, 2.x and 3.x (libsquashfs reads only 4.0), little- and big-endian, zlib and the
// LZMA variants vendor SDKs wrote: raw LZMA with a 13-byte "alone" header, with only the 5-byte
// properties, or with no header at all (properties found by trying them on the root inode), and
// the vendor magics. Written from the documented on-disk layout (docs/formats-notes.md): the
// superblock (one layout for all three versions, 32-bit table offsets in 1.x/2.x, 64-bit in
// 3.x), bitfield-packed inodes (packed from the LSB in little-endian images, from the MSB in
// big-endian ones), 8 KiB metadata blocks behind a 2-byte header (bit 15: stored), directory
// headers and entries, data block lists (bit 24: stored; 1.x: 16-bit entries, bit 15) and, from
// 2.x on, the fragment table. Every read is bounds-checked; every directory is walked once.
#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "probity/limits.hpp"
#include "unpack/format.hpp"
#include "unpack/squashfs_blocks.hpp"

namespace probity::unpacker {
namespace {

// "hsqs"/"sqsh": the standard magic little-/big-endian; the others are vendor variants (LZMA
// builds and DD-WRT). The endianness is taken from the version field, never from the magic.
constexpr Magic kMagics[] = {{"hsqs", 0}, {"sqsh", 0}, {"shsq", 0}, {"qshs", 0},
                             {"sqlz", 0}, {"hsqt", 0}, {"tqsh", 0}};
constexpr std::string_view kDescription =
    "SquashFS 1.x/2.x/3.x (little/big endian, zlib and vendor LZMA, vendor magics)";
constexpr std::array<std::string_view, 7> kMagicNames = {"hsqs", "sqsh", "shsq", "qshs",
                                                         "sqlz", "hsqt", "tqsh"};

constexpr std::uint32_t kMetaSize = 8192;
/// Largest data block accepted (3.x allows 1 MiB; 1.x 32 KiB, 2.x 64 KiB).
/// The format's valid block sizes (4 KiB to 1 MiB), not a cap.
constexpr std::uint32_t kMaxBlockLog = 20, kMinBlockLog = 12;
constexpr std::uint32_t kInvalidFrag = 0xffffffff;
constexpr std::uint32_t kFlagCheck = 1u << 2;

enum Type : std::uint32_t {
  kDir = 1,
  kFile = 2,
  kSymlink = 3,
  kBlkDev = 4,
  kChrDev = 5,
  kFifo = 6,
  kSocket = 7,
  kLDir = 8,
  kLFile = 9,
};

/// Where a directory inode keeps its fields (bit positions from the inode's start; the 13-bit
/// offset follows the size; 3.x keeps the mtime in the common head).
struct DirLayout {
  std::size_t bytes;
  std::uint32_t size_at, size_bits, mtime_at, block_at, block_bits;
};
constexpr DirLayout kDir1{14, 24, 19, 56, 88, 24}, kDir2{15, 32, 19, 64, 96, 24},
    kLDir2{18, 32, 27, 72, 104, 24}, kDir3{28, 128, 19, 0, 160, 32},
    kLDir3{31, 128, 27, 0, 168, 32};

/// The same for regular files (the 32-bit fragment offset follows the fragment index; 1.x has
/// no fragments; the block list follows the inode).
struct FileLayout {
  std::size_t bytes;
  std::uint32_t mtime_at, start_at, start_bits, frag_at, size_at, size_bits;
};
constexpr FileLayout kFile1{15, 24, 56, 32, 0, 88, 32}, kFile2{24, 32, 64, 32, 96, 160, 32},
    kFile3{32, 0, 96, 64, 160, 224, 32}, kLFile3{40, 0, 128, 64, 192, 256, 64};

/// A field of `n` bits at bit `pos` of a bitfield-packed structure: little-endian images pack
/// from the least significant bit of byte 0, big-endian images from the most significant.
std::uint64_t bits(Bytes b, std::uint32_t pos, std::uint32_t n, bool big) {
  std::uint64_t v = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::uint32_t at = pos + i;
    if (at / 8 >= b.size()) return 0;  // callers size `b` first; never read past it
    const std::uint32_t byte = b[at / 8];
    if (big)
      v = (v << 1) | ((byte >> (7 - at % 8)) & 1u);
    else
      v |= std::uint64_t((byte >> (at % 8)) & 1u) << i;
  }
  return v;
}

struct Super {
  bool big = false;
  std::string_view magic;
  std::uint32_t major = 0, minor = 0, inodes = 0, block_size = 0, block_log = 0, flags = 0;
  std::uint32_t no_uids = 0, no_guids = 0, fragments = 0;
  std::int64_t mkfs_time = 0;
  std::uint64_t root = 0, bytes_used = 0, uid_start = 0, guid_start = 0, inode_table = 0,
                dir_table = 0, frag_table = 0, lookup_table = 0;
  std::uint32_t header_bytes = 0;
};

std::optional<Super> parse_super(Bytes d) {
  if (d.size() < 64) return std::nullopt;
  Super s;
  for (auto m : kMagicNames)
    if (starts_with(d, m)) s.magic = m;
  if (s.magic.empty()) return std::nullopt;
  const auto be_major = *read_be<std::uint16_t>(d, 28), le_major = *read_le<std::uint16_t>(d, 28);
  if (be_major >= 1 && be_major <= 3)
    s.big = true;
  else if (le_major >= 1 && le_major <= 3)
    s.big = false;
  else
    return std::nullopt;
  auto u16 = [&](std::uint64_t o) {
    return s.big ? *read_be<std::uint16_t>(d, o) : *read_le<std::uint16_t>(d, o);
  };
  auto u32 = [&](std::uint64_t o) {
    return s.big ? *read_be<std::uint32_t>(d, o) : *read_le<std::uint32_t>(d, o);
  };
  auto u64 = [&](std::uint64_t o) {
    return s.big ? *read_be<std::uint64_t>(d, o) : *read_le<std::uint64_t>(d, o);
  };
  s.major = u16(28);
  s.minor = u16(30);
  s.inodes = u32(4);
  s.block_log = u16(34);
  s.flags = d[36];
  s.no_uids = d[37];
  s.no_guids = d[38];
  s.mkfs_time = static_cast<std::int32_t>(u32(39));
  s.root = u64(43);
  if (s.major == 3) {
    if (d.size() < 119) return std::nullopt;
    s.header_bytes = 119;
    s.block_size = u32(51);
    s.fragments = u32(55);
    s.bytes_used = u64(63);
    s.uid_start = u64(71);
    s.guid_start = u64(79);
    s.inode_table = u64(87);
    s.dir_table = u64(95);
    s.frag_table = u64(103);
    s.lookup_table = u64(111);
  } else {
    s.header_bytes = 63;
    s.block_size = s.major == 1 ? u16(32) : u32(51);
    s.fragments = s.major == 1 ? 0 : u32(55);
    s.bytes_used = u32(8);
    s.uid_start = u32(12);
    s.guid_start = u32(16);
    s.inode_table = u32(20);
    s.dir_table = u32(24);
    s.frag_table = s.major == 1 ? 0 : u32(59);
    s.lookup_table = UINT64_MAX;
  }
  if (s.block_log < kMinBlockLog || s.block_log > kMaxBlockLog ||
      s.block_size != (1u << s.block_log))
    return std::nullopt;
  // Table order (1.x-3.x): data, inode table, directory table, fragments, export, ids.
  if (s.inode_table < s.header_bytes || s.dir_table <= s.inode_table ||
      s.bytes_used <= s.dir_table || s.uid_start >= s.bytes_used || s.no_uids == 0)
    return std::nullopt;
  if ((s.root >> 16) >= s.dir_table - s.inode_table || (s.root & 0xffff) >= kMetaSize)
    return std::nullopt;
  return s;
}

/// "3.1"; LZMA builds of some vendor SDKs put 'L' (76) in the minor version.
std::string version(const Super& s) {
  return s.minor < 10 ? fmt::format("{}.{}", s.major, s.minor)
                      : fmt::format("{} (minor {})", s.major, s.minor);
}

const char* endian_name(const Super& s) {
  return s.big ? "big-endian" : "little-endian";
}

std::optional<Probe> probe(Bytes d) {
  auto s = parse_super(d);
  if (!s) return std::nullopt;
  return Probe{std::min<std::uint64_t>(s->bytes_used, d.size()),
               fmt::format("squashfs {} {}, {} KiB blocks, {} inodes", version(*s), endian_name(*s),
                           s->block_size / 1024, s->inodes)};
}

using sqfs::Codec;
using sqfs::codec_name;
using Decoder = sqfs::BlockDecoder;

/// A position in a metadata table: the absolute offset of a block header and an offset into
/// the block's decompressed bytes (which may run into the following blocks).
struct Pos {
  std::uint64_t block = 0;
  std::uint64_t offset = 0;
};

struct Inode {
  std::uint32_t type = 0, mode = 0, uid = 0, gid = 0;
  std::int64_t mtime = 0;
  // directories
  std::uint64_t dir_size = 0, dir_block = 0, dir_offset = 0;
  // files
  std::uint64_t file_size = 0, start = 0;
  std::uint32_t fragment = kInvalidFrag, frag_offset = 0;
  Pos blocks;  ///< where the block list starts
  std::string link;
};

class Image {
 public:
  Image(Bytes d, Super s) : d_(d), s_(std::move(s)) {}

  const Super& super() const { return s_; }
  Decoder& decoder() { return dec_; }
  void drop_cache() {
    cache_.clear();
    cache_bytes_ = 0;
  }

  /// Reads `n` bytes of metadata at `p` (advanced past them). nullopt + `error_` on failure.
  bool read(Pos& p, std::size_t n, std::vector<std::uint8_t>& out) {
    out.clear();
    while (out.size() < n) {
      const Block* b = block(p.block);
      if (!b) return false;
      if (p.offset >= b->data.size()) {
        if (b->data.empty()) return err(p.block, "empty metadata block");
        p.offset -= b->data.size();
        p.block = b->next;
        continue;
      }
      const std::size_t take = std::min<std::size_t>(n - out.size(), b->data.size() - p.offset);
      out.insert(out.end(), b->data.begin() + std::ptrdiff_t(p.offset),
                 b->data.begin() + std::ptrdiff_t(p.offset + take));
      p.offset += take;
    }
    return true;
  }

  /// Decompresses a data block (or fragment block) stored at [off, off+size).
  bool data_block(std::uint64_t off, std::uint32_t size, bool stored, std::size_t want, bool exact,
                  std::vector<std::uint8_t>& out) {
    if (off > d_.size() || d_.size() - off < size) return err(off, "data block past the end");
    const Bytes in = d_.subspan(off, size);
    if (stored) {
      if (size > want || (exact && size != want))
        return err(off, fmt::format("stored block of {} bytes, expected {}", size, want));
      out.assign(in.begin(), in.end());
      return true;
    }
    if (!dec_.decode(in, want, exact, out)) return err(off, "data block does not decompress");
    return true;
  }

  std::string error_;
  std::uint64_t error_at_ = 0;

 private:
  struct Block {
    std::vector<std::uint8_t> data;
    std::uint64_t next = 0;
  };

  bool err(std::uint64_t at, std::string m) {
    error_ = std::move(m);
    error_at_ = at;
    return false;
  }

  const Block* block(std::uint64_t at) {
    if (auto it = cache_.find(at); it != cache_.end()) return &it->second;
    auto h = s_.big ? read_be<std::uint16_t>(d_, at) : read_le<std::uint16_t>(d_, at);
    if (!h) return err(at, "metadata block header past the end"), nullptr;
    const std::uint64_t hdr = (s_.flags & kFlagCheck) ? 3 : 2;
    const bool stored = *h & 0x8000;
    std::uint32_t size = *h & 0x7fff;
    if (size == 0) size = 0x8000;
    if (size > kMetaSize) return err(at, fmt::format("metadata block of {} bytes", size)), nullptr;
    if (at + hdr > d_.size() || d_.size() - at - hdr < size)
      return err(at, "metadata block past the end"), nullptr;
    Block b;
    const Bytes in = d_.subspan(at + hdr, size);
    if (stored)
      b.data.assign(in.begin(), in.end());
    else if (!dec_.decode(in, kMetaSize, false, b.data))
      return err(at, "metadata block does not decompress"), nullptr;
    b.next = at + hdr + size;
    if (cache_bytes_ + b.data.size() > kMaxSquashfsLegacyMetaCache) drop_cache();
    cache_bytes_ += b.data.size();
    return &cache_.emplace(at, std::move(b)).first->second;
  }

  Bytes d_;
  Super s_;
  Decoder dec_;
  std::unordered_map<std::uint64_t, Block> cache_;
  std::uint64_t cache_bytes_ = 0;
};

class Walker {
 public:
  Walker(Image& im, Sink& sink) : im_(im), s_(im.super()), sink_(sink) {}

  void load_ids(Bytes d) {
    auto table = [&](std::uint64_t start, std::uint32_t n, std::vector<std::uint32_t>& out) {
      for (std::uint32_t i = 0; i < n; ++i) {
        auto v = s_.big ? read_be<std::uint32_t>(d, start + 4ull * i)
                        : read_le<std::uint32_t>(d, start + 4ull * i);
        if (!v) {
          problem("uid/gid table past the end of the image", {}, start);
          return;
        }
        out.push_back(*v);
      }
    };
    table(s_.uid_start, s_.no_uids, uids_);
    if (s_.no_guids) table(s_.guid_start, s_.no_guids, gids_);
  }

  /// Fragment table: entry i is at metadata (index[i*E / 8K], (i*E) % 8K), E = 8 (2.x) / 16 (3.x).
  std::optional<std::pair<std::uint64_t, std::uint32_t>> fragment(std::uint32_t i) {
    if (i >= s_.fragments) return std::nullopt;
    const std::uint64_t esize = s_.major == 3 ? 16 : 8, isize = s_.major == 3 ? 8 : 4;
    const std::uint64_t byte = std::uint64_t(i) * esize;
    const std::uint64_t slot = s_.frag_table + (byte / kMetaSize) * isize;
    const Bytes d = im_data_;
    std::optional<std::uint64_t> at;
    if (isize == 8)
      at = s_.big ? read_be<std::uint64_t>(d, slot) : read_le<std::uint64_t>(d, slot);
    else if (auto v = s_.big ? read_be<std::uint32_t>(d, slot) : read_le<std::uint32_t>(d, slot))
      at = *v;
    if (!at) return std::nullopt;
    Pos p{*at, byte % kMetaSize};
    std::vector<std::uint8_t> e;
    if (!im_.read(p, esize, e)) return std::nullopt;
    const std::uint64_t start = esize == 16 ? bits(e, 0, 64, s_.big) : bits(e, 0, 32, s_.big);
    const auto size = std::uint32_t(bits(e, esize == 16 ? 64 : 32, 32, s_.big));
    return std::pair{start, size};
  }

  Bytes im_data_;
  /// No warnings while the LZMA properties are being tried on the root inode.
  bool quiet = false;

  std::optional<Inode> inode(std::uint64_t ref) {
    Pos p{s_.inode_table + (ref >> 16), ref & 0xffff};
    std::vector<std::uint8_t> b;
    Inode i;
    const bool big = s_.big;
    std::uint32_t uid_idx = 0, gid_idx = 0;
    if (s_.major == 1) {
      if (!im_.read(p, 3, b)) return std::nullopt;
      std::uint32_t t = std::uint32_t(bits(b, 0, 4, big));
      i.mode = std::uint32_t(bits(b, 4, 12, big));
      uid_idx = std::uint32_t(bits(b, 16, 4, big));
      gid_idx = std::uint32_t(bits(b, 20, 4, big));
      if (t == 0) {  // IPC: a sub-type and the uid index's high bits in a fourth byte
        Pos q{s_.inode_table + (ref >> 16), ref & 0xffff};
        if (!im_.read(q, 4, b)) return std::nullopt;
        i.type = bits(b, 24, 4, big) == kSocket ? kSocket : kFifo;
        uid_idx += std::uint32_t(bits(b, 28, 4, big)) * 16;
        p = q;
      } else {
        uid_idx += (t - 1) / 5 * 16;
        i.type = (t - 1) % 5 + 1;
      }
      if (gid_idx == 15) gid_idx = UINT32_MAX;  // "same as the uid"
    } else {
      const std::size_t base = s_.major == 2 ? 4 : 12;
      if (!im_.read(p, base, b)) return std::nullopt;
      i.type = std::uint32_t(bits(b, 0, 4, big));
      i.mode = std::uint32_t(bits(b, 4, 12, big));
      uid_idx = std::uint32_t(bits(b, 16, 8, big));
      gid_idx = std::uint32_t(bits(b, 24, 8, big));
      if (gid_idx == 255) gid_idx = UINT32_MAX;
      if (s_.major == 3) i.mtime = static_cast<std::int32_t>(bits(b, 32, 32, big));
      if (i.type < kDir || i.type > (s_.major == 3 ? kLFile : kLDir)) {
        if (!quiet) problem(fmt::format("unknown inode type {}", i.type), {}, p.block);
        return std::nullopt;
      }
    }
    i.uid = uid_idx < uids_.size() ? uids_[uid_idx] : 0;
    i.gid = gid_idx == UINT32_MAX ? i.uid : gid_idx < gids_.size() ? gids_[gid_idx] : 0;
    if (s_.major < 3) i.mtime = s_.mkfs_time;
    // Re-read the whole header from the inode's start, sized by type (bit positions below
    // count from the start of the inode).
    Pos start{s_.inode_table + (ref >> 16), ref & 0xffff};
    auto full = [&](std::size_t n) {
      p = start;
      return im_.read(p, n, b);
    };
    const std::uint32_t m = s_.major;
    switch (i.type) {
      case kDir:
      case kLDir: {
        const DirLayout& l = i.type == kLDir ? (m == 2 ? kLDir2 : kLDir3)
                                             : (m == 1   ? kDir1
                                                : m == 2 ? kDir2
                                                         : kDir3);
        if (!full(l.bytes)) return std::nullopt;
        i.dir_size = bits(b, l.size_at, l.size_bits, big);
        i.dir_offset = bits(b, l.size_at + l.size_bits, 13, big);
        if (l.mtime_at) i.mtime = static_cast<std::int32_t>(bits(b, l.mtime_at, 32, big));
        i.dir_block = bits(b, l.block_at, l.block_bits, big);
        i.type = kDir;  // an ldir's index only speeds up lookups
        break;
      }
      case kFile:
      case kLFile: {
        const FileLayout& l = i.type == kLFile ? kLFile3
                                               : (m == 1   ? kFile1
                                                  : m == 2 ? kFile2
                                                           : kFile3);
        if (!full(l.bytes)) return std::nullopt;
        if (l.mtime_at) i.mtime = static_cast<std::int32_t>(bits(b, l.mtime_at, 32, big));
        i.start = bits(b, l.start_at, l.start_bits, big);
        if (l.frag_at) {
          i.fragment = std::uint32_t(bits(b, l.frag_at, 32, big));
          i.frag_offset = std::uint32_t(bits(b, l.frag_at + 32, 32, big));
        }
        i.file_size = bits(b, l.size_at, l.size_bits, big);
        i.blocks = p;
        i.type = kFile;
        break;
      }
      case kSymlink: {
        const std::uint32_t at = m == 1 ? 24 : m == 2 ? 32 : 128;
        if (!full(at / 8 + 2)) return std::nullopt;
        const auto n = std::size_t(bits(b, at, 16, big));
        if (!im_.read(p, n, b)) return std::nullopt;
        i.link.assign(b.begin(), b.begin() + std::ptrdiff_t(std::min(n, kMaxLinkBytes)));
        break;
      }
      default:  // devices, fifos, sockets: nothing more to read
        break;
    }
    return i;
  }

  static std::string path_of(const std::string& prefix, const std::string& name) {
    return prefix.empty() ? name : prefix + "/" + name;
  }

  Entry entry_of(const Inode& i, const std::string& path) {
    return Entry{path, EntryType::kFile, i.mode & 07777u, i.uid, i.gid, std::int64_t(i.mtime)};
  }

  void file(const Inode& i, Entry e) {
    const std::string& path = e.path;
    const std::uint64_t bs = s_.block_size;
    const bool has_frag = s_.major > 1 && i.fragment != kInvalidFrag;
    const std::uint64_t nblocks = has_frag ? i.file_size / bs : (i.file_size + bs - 1) / bs;
    const std::uint64_t tail = has_frag ? i.file_size % bs : 0;
    if (i.file_size > sink_.limits().max_file_bytes) {
      sink_.warn("cap-file", fmt::format("file claims {} bytes, above the file cap", i.file_size),
                 path);
      return;
    }
    auto out = sink_.open_file(e);
    if (!out) return;
    bool ok = true;
    std::uint64_t off = i.start, left = i.file_size;
    Pos list = i.blocks;
    std::vector<std::uint8_t> entry, buf;
    for (std::uint64_t n = 0; n < nblocks && ok; ++n) {
      if (auto st = sink_.check_time(); !st) {
        status_ = st;
        ok = false;
        break;
      }
      std::uint32_t size = 0;
      bool stored = false;
      if (s_.major == 1) {
        if (!im_.read(list, 2, entry)) {
          ok = warn_im(path);
          break;
        }
        const auto v = std::uint32_t(bits(entry, 0, 16, s_.big));
        stored = v & 0x8000;
        size = (v & 0x7fff) ? (v & 0x7fff) : 0x8000;
      } else {
        if (!im_.read(list, 4, entry)) {
          ok = warn_im(path);
          break;
        }
        const auto v = std::uint32_t(bits(entry, 0, 32, s_.big));
        stored = v & (1u << 24);
        size = v & ~(1u << 24);
      }
      const std::size_t want = std::size_t(std::min<std::uint64_t>(bs, left));
      if (size > bs) {
        problem(fmt::format("block {} claims {} bytes", n, size), path, off);
        ok = false;
        break;
      }
      if (size == 0) {  // a hole
        buf.assign(want, 0);
      } else if (!im_.data_block(off, size, stored, want, true, buf)) {
        ok = warn_im(path);
        break;
      }
      off += size;
      left -= want;
      produced_ += want;
      if (!out->write(buf)) {
        ok = false;
        break;
      }
      if (auto st = sink_.check_ratio(image_bytes_, produced_); !st) {
        status_ = st;
        ok = false;
        break;
      }
    }
    if (ok && tail) {
      ok = false;
      if (auto f = fragment(i.fragment); !f) {
        problem(fmt::format("fragment {} unreadable", i.fragment), path);
      } else {
        const bool stored = f->second & (1u << 24);
        const std::uint32_t size = f->second & ~(1u << 24);
        if (size > bs) {
          problem("fragment block larger than a block", path, f->first);
        } else if (frag_start_ != f->first &&
                   !im_.data_block(f->first, size, stored, std::size_t(bs), false, frag_)) {
          frag_start_ = UINT64_MAX;
          warn_im(path);
        } else {
          frag_start_ = f->first;
          if (std::uint64_t(i.frag_offset) + tail > frag_.size()) {
            problem("file tail outside its fragment block", path, f->first);
          } else {
            produced_ += tail;
            ok = bool(out->write(Bytes(frag_).subspan(i.frag_offset, std::size_t(tail))));
          }
        }
      }
    }
    if (!ok) out->mark_truncated();
    out->close();
  }

  bool warn_im(const std::string& path) {
    problem(im_.error_, path, im_.error_at_);
    return false;
  }

  /// A format-error warning; past kMaxSquashfsLegacyWarnings one last warning says the rest are not
  /// listed (a hostile directory can hold 200 000 broken entries).
  void problem(std::string message, std::string entry = {}, std::uint64_t offset = 0) {
    if (++problems_ > kMaxSquashfsLegacyWarnings) {
      if (problems_ == kMaxSquashfsLegacyWarnings + 1)
        sink_.warn("format-error",
                   fmt::format("more than {} format errors: the rest are not listed",
                               kMaxSquashfsLegacyWarnings));
      return;
    }
    sink_.warn("format-error", std::move(message), std::move(entry), offset);
  }

  void walk(const Inode& dir, std::uint64_t ref, const std::string& prefix, std::uint32_t depth) {
    if (!status_) return;
    if (!within_dir_depth(sink_, depth, prefix)) return;
    if (!visited_.insert(ref).second) {
      problem("directory reached twice (a loop or a shared directory): not walked again", prefix);
      return;
    }
    struct Child {
      std::string name;
      std::uint64_t ref;
    };
    std::vector<Child> children;
    const bool v3 = s_.major == 3;
    std::uint64_t total = dir.dir_size;
    if (v3) total = total > 3 ? total - 3 : 0;  // 3.x counts three bytes for "." and ".."
    Pos p{s_.dir_table + dir.dir_block, dir.dir_offset};
    std::uint64_t done = 0;
    std::vector<std::uint8_t> b;
    const std::size_t hsize = v3 ? 9 : 4, esize = v3 ? 5 : 3;
    while (done < total) {
      if (!im_.read(p, hsize, b)) {
        warn_im(prefix);
        break;
      }
      done += hsize;
      const std::uint64_t count = bits(b, 0, 8, s_.big) + 1;
      const std::uint64_t iblock = v3 ? bits(b, 8, 32, s_.big) : bits(b, 8, 24, s_.big);
      bool bad = false;
      for (std::uint64_t n = 0; n < count; ++n) {
        if (!im_.read(p, esize, b)) {
          warn_im(prefix);
          bad = true;
          break;
        }
        const std::uint64_t ioff = bits(b, 0, 13, s_.big);
        const auto nlen = std::size_t(bits(b, 16, 8, s_.big)) + 1;
        if (!im_.read(p, nlen, b)) {
          warn_im(prefix);
          bad = true;
          break;
        }
        done += esize + nlen;
        std::string name(b.begin(), b.end());
        if (children.size() >= kMaxDirEntries) {
          sink_.warn("cap-entries",
                     fmt::format("more than {} entries in one directory", kMaxDirEntries), prefix);
          bad = true;
          break;
        }
        children.push_back({std::move(name), (iblock << 16) | ioff});
      }
      if (bad) break;
      if (auto st = sink_.check_time(); !st) {
        status_ = st;
        return;
      }
    }
    for (const Child& c : children) {
      if (!status_) return;
      if (++entries_ > sink_.limits().max_entries) {
        if (entries_ == sink_.limits().max_entries + 1)
          sink_.warn("cap-entries",
                     fmt::format("more than {} entries (--max-files): the rest of the image is "
                                 "not walked",
                                 sink_.limits().max_entries),
                     path_of(prefix, c.name));
        return;
      }
      const auto child = child_path(sink_, prefix, c.name);
      if (!child) continue;
      const std::string& path = *child;
      im_.error_.clear();
      auto ino = inode(c.ref);
      if (!ino) {
        if (!im_.error_.empty()) warn_im(path);
        continue;
      }
      Entry e = entry_of(*ino, path);
      switch (ino->type) {
        case kDir:
          e.type = EntryType::kDir;
          (void)sink_.node(e);
          walk(*ino, c.ref, path, depth + 1);
          break;
        case kFile:
          if (auto it = files_.find(c.ref); it != files_.end()) {
            e.type = EntryType::kHardlink;
            e.link = it->second;
            (void)sink_.node(e);
            break;
          }
          files_.emplace(c.ref, path);
          file(*ino, std::move(e));
          break;
        case kSymlink:
          e.type = EntryType::kSymlink;
          e.link = ino->link;
          (void)sink_.node(e);
          break;
        case kBlkDev:
        case kChrDev:
        case kFifo:
        case kSocket: {
          // Types 4-7 in squashfs order: block device, character device, fifo, socket.
          constexpr EntryType kNodes[] = {EntryType::kBlockDev, EntryType::kCharDev,
                                          EntryType::kFifo, EntryType::kSocket};
          e.type = kNodes[ino->type - kBlkDev];
          (void)sink_.node(e);
          break;
        }
        default:
          problem(fmt::format("unknown inode type {}", ino->type), path);
      }
    }
  }

  Status status_;
  std::uint64_t image_bytes_ = 0;

 private:
  Image& im_;
  const Super& s_;
  Sink& sink_;
  std::vector<std::uint32_t> uids_, gids_;
  std::set<std::uint64_t> visited_;
  std::map<std::uint64_t, std::string> files_;  // inode reference -> first path (hard links)
  std::uint64_t produced_ = 0, frag_start_ = UINT64_MAX, problems_ = 0, entries_ = 0;
  std::vector<std::uint8_t> frag_;
};

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto s = parse_super(d);
  if (!s) return fail("bad squashfs 1.x-3.x superblock", 0);
  const std::uint64_t span = std::min<std::uint64_t>(s->bytes_used, d.size());
  const Bytes image = d.subspan(0, span);
  if (span < s->bytes_used)
    sink.warn("format-error",
              fmt::format("squashfs truncated: superblock says {} bytes, {} present", s->bytes_used,
                          span));
  Image im(image, *s);
  Walker w(im, sink);
  w.im_data_ = image;
  w.image_bytes_ = image.size();
  w.load_ids(image);

  // The root inode decides the LZMA properties of header-less blocks: the first properties
  // under which it reads as a directory win.
  std::optional<Inode> root;
  w.quiet = true;
  for (std::uint8_t props : sqfs::raw_props_order()) {
    im.drop_cache();
    im.decoder().raw_props = props;
    im.decoder().seen = Codec::kNone;
    im.decoder().used.clear();
    im.error_.clear();
    root = w.inode(s->root);
    if (root && root->type == kDir) break;
    root.reset();
    if (im.decoder().seen != Codec::kLzmaRaw && im.decoder().seen != Codec::kNone) break;
    if (auto st = sink.check_time(); !st) return fail(st.error().message, 0);
  }
  w.quiet = false;
  if (!root)
    return fail(fmt::format("squashfs {}: root inode unreadable{}", version(*s),
                            im.error_.empty() ? "" : ": " + im.error_),
                im.error_.empty() ? s->inode_table : im.error_at_);
  auto describe = [&] {
    const Decoder& dec = im.decoder();
    std::string comp;
    for (Codec c : dec.used) {
      if (!comp.empty()) comp += " + ";
      comp += codec_name(c);
      if (c == Codec::kLzmaRaw) comp += fmt::format(", properties 0x{:02x}", dec.raw_props);
    }
    sink.describe(
        fmt::format("squashfs {} {}{}, {}, {} KiB blocks, {} inodes", version(*s), endian_name(*s),
                    (s->magic == "hsqs" || s->magic == "sqsh")
                        ? ""
                        : fmt::format(" (vendor magic \"{}\")", s->magic),
                    comp.empty() ? "uncompressed" : comp, s->block_size / 1024, s->inodes));
  };
  describe();
  w.walk(*root, s->root, "", 0);
  describe();  // now naming every codec the blocks used
  if (!w.status_) return fail(w.status_.error().message, span);
  return span;
}

}  // namespace

const Format kFormat_squashfs_legacy =
    make_format(kind::kFilesystem, "squashfs_legacy", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
