// Big-endian squashfs 4.0 to little-endian tables (squashfs_be.hpp). The 4.0 structures have no
// bitfields: every field is swapped on its own (the kernel's squashfs_fs.h layouts). AVM's
// images keep the 2-byte metadata block headers little-endian while everything else is
// big-endian; each header is read in the byte order that gives a block that fits and decodes,
// the order the first block used tried first.
#include "unpack/squashfs_be.hpp"

#include <algorithm>
#include <optional>
#include <unordered_map>

#include <fmt/format.h>

namespace probity::unpacker::sqfs {
namespace {

constexpr std::uint32_t kMeta = 8192;
constexpr std::uint64_t kNoTable = UINT64_MAX;
constexpr std::uint16_t kFlagExportable = 0x0080, kFlagOptions = 0x0400;

/// One metadata table, decompressed: its bytes and where each block started (relative to the
/// table's first block), so references can be moved to the copy's stored 8 KiB blocks.
struct Table {
  std::vector<std::uint8_t> bytes;
  std::unordered_map<std::uint64_t, std::uint32_t> block_index;  ///< relative offset -> block
};

class Swapper {
 public:
  Swapper(Bytes img, const MetaDecoder& decode, std::uint64_t cap)
      : img_(img), decode_(decode), cap_(cap) {}

  /// Reads the metadata block at `at`, appending its bytes to `out`; returns the offset after.
  Result<std::uint64_t> block(std::uint64_t at, std::vector<std::uint8_t>& out) {
    for (int i = 0; i < 2; ++i) {
      const bool be = (i == 0) == header_be_;
      const auto h = be ? read_be<std::uint16_t>(img_, at) : read_le<std::uint16_t>(img_, at);
      if (!h) return fail("metadata block header past the end", at);
      const std::uint32_t size = *h & 0x7fff;
      if (size == 0 || size > kMeta || img_.size() - at - 2 < size) continue;
      const Bytes in = img_.subspan(at + 2, size);
      if (*h & 0x8000) {
        buf_.assign(in.begin(), in.end());
      } else if (!decode_(in, kMeta, buf_)) {
        continue;
      }
      if (!decided_) header_be_ = be;
      decided_ = true;
      if (out.size() + buf_.size() > cap_ || total_ + buf_.size() > cap_)
        return fail_code("cap-memory",
                         fmt::format("big-endian squashfs: more than {} bytes of metadata", cap_),
                         at);
      total_ += buf_.size();
      out.insert(out.end(), buf_.begin(), buf_.end());
      return at + 2 + size;
    }
    return fail("metadata block unreadable in either byte order", at);
  }

  /// Blocks from `start` up to exactly `end`; every block but the last must hold 8 KiB (the
  /// copy keeps offsets inside blocks, so the blocks must split the table where the copy does).
  Result<Table> table(std::uint64_t start, std::uint64_t end) {
    Table t;
    for (std::uint64_t at = start; at < end;) {
      if (t.bytes.size() % kMeta)
        return fail("metadata block shorter than 8 KiB before the table's end", at);
      t.block_index.emplace(at - start, std::uint32_t(t.block_index.size()));
      auto next = block(at, t.bytes);
      if (!next) return std::unexpected(next.error());
      at = *next;
      if (at > end) return fail("metadata table runs past the next table", start);
    }
    return t;
  }

  /// The table whose blocks an index of `count` big-endian u64 offsets at `index` names.
  Result<std::vector<std::uint8_t>> indexed(std::uint64_t index, std::uint64_t bytes) {
    std::vector<std::uint8_t> out;
    const std::uint64_t blocks = (bytes + kMeta - 1) / kMeta;
    for (std::uint64_t i = 0; i < blocks; ++i) {
      const auto at = read_be<std::uint64_t>(img_, index + 8 * i);
      if (!at) return fail("table index past the end", index);
      if (auto r = block(*at, out); !r) return std::unexpected(r.error());
    }
    if (out.size() < bytes) return fail("table shorter than its entries", index);
    out.resize(bytes);
    return out;
  }

 private:
  Bytes img_;
  const MetaDecoder& decode_;
  std::uint64_t cap_, total_ = 0;
  bool header_be_ = false, decided_ = false;
  std::vector<std::uint8_t> buf_;
};

/// Swaps the `n`-byte field at `pos` in place; false when it does not fit.
bool swap(std::vector<std::uint8_t>& b, std::uint64_t pos, unsigned n) {
  if (pos > b.size() || b.size() - pos < n) return false;
  std::reverse(b.begin() + std::ptrdiff_t(pos), b.begin() + std::ptrdiff_t(pos + n));
  return true;
}
/// Swaps consecutive fields of the given widths starting at `pos`.
bool swap_all(std::vector<std::uint8_t>& b, std::uint64_t pos,
              std::initializer_list<unsigned> widths) {
  for (unsigned w : widths) {
    if (!swap(b, pos, w)) return false;
    pos += w;
  }
  return true;
}
std::uint64_t get(const std::vector<std::uint8_t>& b, std::uint64_t pos, unsigned n) {
  std::uint64_t v = 0;
  for (unsigned i = 0; i < n; ++i) v |= std::uint64_t(b[pos + i]) << (8 * i);
  return v;
}
void put(std::vector<std::uint8_t>& b, std::uint64_t pos, unsigned n, std::uint64_t v) {
  for (unsigned i = 0; i < n; ++i) b[pos + i] = std::uint8_t(v >> (8 * i));
}

/// A block's offset in the little-endian copy: block k of a table starts at k * (2 + 8 KiB).
std::optional<std::uint64_t> moved(const Table& t, std::uint64_t old) {
  auto it = t.block_index.find(old);
  if (it == t.block_index.end()) return std::nullopt;
  return std::uint64_t(it->second) * (2 + kMeta);
}

/// Swaps every inode of the inode table in place; directory references move to the copy.
Status swap_inodes(Table& inodes, const Table& dirs, std::uint32_t block_size) {
  auto& b = inodes.bytes;
  auto dir_ref = [&](std::uint64_t pos) {
    auto m = moved(dirs, get(b, pos, 4));
    if (!m) return false;
    put(b, pos, 4, *m);
    return true;
  };
  auto bad = [&](std::uint64_t pos, const char* what) -> Status {
    return fail(fmt::format("big-endian squashfs: {} in the inode at byte {} of the inode table",
                            what, pos));
  };
  for (std::uint64_t p = 0; p < b.size();) {
    if (!swap_all(b, p, {2, 2, 2, 2, 4, 4})) return bad(p, "truncated header");
    const auto type = std::uint32_t(get(b, p, 2));
    const std::uint64_t q = p + 16;
    std::uint64_t len = 0;
    switch (type) {
      case 1:  // dir: start, nlink, size (16), offset (16), parent
        if (!swap_all(b, q, {4, 4, 2, 2, 4}) || !dir_ref(q)) return bad(p, "bad directory");
        len = 32;
        break;
      case 8: {  // ldir: nlink, size, start, parent, index count, offset, xattr, index entries
        if (!swap_all(b, q, {4, 4, 4, 4, 2, 2, 4}) || !dir_ref(q + 8))
          return bad(p, "bad directory");
        put(b, q + 20, 4, 0xffffffff);  // xattrs are not carried over
        const auto count = get(b, q + 16, 2);
        len = 40;
        for (std::uint64_t i = 0; i < count; ++i) {
          if (!swap_all(b, p + len, {4, 4, 4}) || !dir_ref(p + len + 4))
            return bad(p, "bad directory index");
          len += 12 + get(b, p + len + 8, 4) + 1;
        }
        break;
      }
      case 2:
      case 9: {  // file / extended file: then one 32-bit size per block
        const bool ext = type == 9;
        if (!(ext ? swap_all(b, q, {8, 8, 8, 4, 4, 4, 4}) : swap_all(b, q, {4, 4, 4, 4})))
          return bad(p, "truncated file inode");
        if (ext) put(b, q + 36, 4, 0xffffffff);
        const std::uint64_t size = ext ? get(b, q + 8, 8) : get(b, q + 12, 4);
        const std::uint64_t frag = ext ? get(b, q + 28, 4) : get(b, q + 4, 4);
        const std::uint64_t blocks =
            frag == 0xffffffff ? size / block_size + (size % block_size != 0) : size / block_size;
        len = ext ? 56 : 32;
        if (blocks > (b.size() - std::min<std::uint64_t>(b.size(), p + len)) / 4)
          return bad(p, "block list past the table");
        for (std::uint64_t i = 0; i < blocks; ++i) swap(b, p + len + 4 * i, 4);
        len += 4 * blocks;
        break;
      }
      case 3:
      case 10:  // symlink: nlink, target size, target (, xattr)
        if (!swap_all(b, q, {4, 4})) return bad(p, "truncated symlink");
        len = 24 + get(b, q + 4, 4);
        if (type == 10) {
          if (!swap(b, p + len, 4)) return bad(p, "truncated symlink");
          put(b, p + len, 4, 0xffffffff);
          len += 4;
        }
        break;
      case 4:
      case 5:
      case 11:
      case 12:  // devices: nlink, rdev (, xattr)
      case 6:
      case 7:
      case 13:
      case 14: {  // fifo, socket: nlink (, xattr)
        const bool dev = type == 4 || type == 5 || type == 11 || type == 12;
        const bool ext = type >= 11;
        len = 16 + (dev ? 8 : 4);
        if (!swap_all(b, q, {4}) || (dev && !swap(b, q + 4, 4))) return bad(p, "truncated inode");
        if (ext) {
          if (!swap(b, p + len, 4)) return bad(p, "truncated inode");
          put(b, p + len, 4, 0xffffffff);
          len += 4;
        }
        break;
      }
      default:
        return bad(p, fmt::format("unknown type {}", type).c_str());
    }
    if (len > b.size() - p) return bad(p, "inode past the table");
    p += len;
  }
  return {};
}

/// Swaps every listing of the directory table in place; inode references move to the copy.
Status swap_dirs(Table& dirs, const Table& inodes) {
  auto& b = dirs.bytes;
  for (std::uint64_t p = 0; p < b.size();) {
    if (!swap_all(b, p, {4, 4, 4}))
      return fail(fmt::format("big-endian squashfs: truncated directory header at {}", p));
    const std::uint64_t count = get(b, p, 4) + 1;
    auto m = moved(inodes, get(b, p + 4, 4));
    if (count > 256 || !m)
      return fail(fmt::format("big-endian squashfs: bad directory header at {}", p));
    put(b, p + 4, 4, *m);
    p += 12;
    for (std::uint64_t i = 0; i < count; ++i) {
      if (!swap_all(b, p, {2, 2, 2, 2}))
        return fail(fmt::format("big-endian squashfs: truncated directory entry at {}", p));
      p += 8 + get(b, p + 6, 2) + 1;
    }
    if (p > b.size()) return fail("big-endian squashfs: directory entry past the table");
  }
  return {};
}

/// Appends `t` as stored 8 KiB metadata blocks; returns the offsets of the blocks.
std::vector<std::uint64_t> store(std::vector<std::uint8_t>& out, const std::vector<std::uint8_t>& t,
                                 std::uint64_t base) {
  std::vector<std::uint64_t> at;
  for (std::size_t i = 0; i < t.size(); i += kMeta) {
    const std::size_t n = std::min<std::size_t>(kMeta, t.size() - i);
    at.push_back(base + out.size());
    out.push_back(std::uint8_t(n));
    out.push_back(std::uint8_t((n >> 8) | 0x80));
    out.insert(out.end(), t.begin() + std::ptrdiff_t(i), t.begin() + std::ptrdiff_t(i + n));
  }
  return at;
}

/// Appends an index of 64-bit little-endian block offsets; returns its offset.
std::uint64_t store_index(std::vector<std::uint8_t>& out, const std::vector<std::uint64_t>& at,
                          std::uint64_t base) {
  const std::uint64_t where = base + out.size();
  for (auto a : at)
    for (unsigned i = 0; i < 8; ++i) out.push_back(std::uint8_t(a >> (8 * i)));
  return where;
}

}  // namespace

bool is_be_squashfs4(Bytes image) {
  return image.size() >= 96 && starts_with(image, "sqsh") &&
         *read_be<std::uint16_t>(image, 28) == 4 && *read_be<std::uint16_t>(image, 30) == 0;
}

Result<LeTables> swap_to_le(Bytes img, const MetaDecoder& decode, std::uint64_t max_metadata) {
  if (!is_be_squashfs4(img)) return fail("not a big-endian squashfs 4.0 superblock", 0);
  auto u16 = [&](std::uint64_t o) { return *read_be<std::uint16_t>(img, o); };
  auto u32 = [&](std::uint64_t o) { return *read_be<std::uint32_t>(img, o); };
  auto u64 = [&](std::uint64_t o) { return *read_be<std::uint64_t>(img, o); };
  const std::uint32_t block_size = u32(12), fragments = u32(16);
  const std::uint16_t flags = u16(24), ids = u16(26);
  const std::uint64_t root = u64(32), id_start = u64(48), xattr_start = u64(56),
                      inode_start = u64(64), dir_start = u64(72), frag_start = u64(80),
                      export_start = u64(88);
  if (block_size < 4096 || block_size > (1u << 20) || (block_size & (block_size - 1)) || ids == 0 ||
      inode_start < 96 || dir_start <= inode_start || dir_start >= img.size())
    return fail("big-endian squashfs: implausible superblock", 0);

  Swapper sw(img, decode, max_metadata);
  // The directory table ends where the first block of a later table starts.
  std::uint64_t dir_end = std::min<std::uint64_t>(img.size(), id_start);
  auto first_block = [&](std::uint64_t index) {
    if (auto v = read_be<std::uint64_t>(img, index); v && *v > dir_start)
      dir_end = std::min(dir_end, *v);
  };
  if (fragments > 0 && frag_start != kNoTable) first_block(frag_start);
  if ((flags & kFlagExportable) && export_start != kNoTable) first_block(export_start);
  first_block(id_start);
  if (xattr_start != kNoTable && xattr_start > dir_start) dir_end = std::min(dir_end, xattr_start);

  auto inodes = sw.table(inode_start, dir_start);
  if (!inodes) return std::unexpected(inodes.error());
  auto dirs = sw.table(dir_start, dir_end);
  if (!dirs) return std::unexpected(dirs.error());
  if (auto st = swap_inodes(*inodes, *dirs, block_size); !st) return std::unexpected(st.error());
  if (auto st = swap_dirs(*dirs, *inodes); !st) return std::unexpected(st.error());

  std::vector<std::uint8_t> frag_bytes, id_bytes;
  if (fragments > 0) {
    auto f = sw.indexed(frag_start, std::uint64_t(fragments) * 16);
    if (!f) return std::unexpected(f.error());
    frag_bytes = std::move(*f);
    for (std::uint64_t p = 0; p < frag_bytes.size(); p += 16) swap_all(frag_bytes, p, {8, 4, 4});
  }
  auto id = sw.indexed(id_start, std::uint64_t(ids) * 4);
  if (!id) return std::unexpected(id.error());
  id_bytes = std::move(*id);
  for (std::uint64_t p = 0; p < id_bytes.size(); p += 4) swap(id_bytes, p, 4);

  LeTables le;
  const std::uint64_t base = img.size();
  auto& out = le.tables;
  const std::uint64_t new_inodes = base + out.size();
  store(out, inodes->bytes, base);
  const std::uint64_t new_dirs = base + out.size();
  store(out, dirs->bytes, base);
  const std::uint64_t new_frags = store_index(out, store(out, frag_bytes, base), base);
  const std::uint64_t new_ids = store_index(out, store(out, id_bytes, base), base);
  auto root_block = moved(*inodes, root >> 16);
  if (!root_block) return fail("big-endian squashfs: root inode outside the inode table", 32);
  if ((flags & kFlagExportable) && export_start != kNoTable) le.dropped.push_back("export table");
  if (xattr_start != kNoTable) le.dropped.push_back("extended attributes");
  if (flags & kFlagOptions) le.dropped.push_back("compressor options");

  // The superblock, little-endian, pointing at the copy's tables.
  std::vector<std::uint8_t> sb(img.begin(), img.begin() + 96);
  for (unsigned at : {4u, 8u, 12u, 16u}) swap(sb, at, 4);
  for (unsigned at = 20; at < 32; at += 2) swap(sb, at, 2);
  put(sb, 0, 4, 0x73717368);  // "hsqs"
  put(sb, 24, 2, flags & ~(kFlagExportable | kFlagOptions));
  const std::uint64_t fields[] = {(*root_block << 16) | (root & 0xffff),
                                  base + out.size(),
                                  new_ids,
                                  kNoTable,
                                  new_inodes,
                                  new_dirs,
                                  new_frags,
                                  kNoTable};
  for (unsigned i = 0; i < 8; ++i) put(sb, 32 + 8 * i, 8, fields[i]);
  std::copy(sb.begin(), sb.end(), le.super.begin());
  return le;
}

}  // namespace probity::unpacker::sqfs
