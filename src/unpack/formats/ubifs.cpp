// UBIFS (the filesystem on UBI volumes): the superblock node (LEB 0) gives the LEB size, the
// newest master node (LEBs 1-2) the root of the index B+-tree; the committed filesystem is the set
// of leaf nodes the index reaches: inode nodes, directory entries and 4 KiB data blocks (none,
// LZO, zlib or zstd). The journal of a mounted-and-dumped volume is not replayed (what was not
// committed yet is not seen; see docs/formats-notes.md). Node CRCs are checked.
#include <lzo/lzo1x.h>
#include <zlib.h>
#include <zstd.h>

#include <map>
#include <mutex>
#include <set>

#include <fmt/format.h>

#include "probity/limits.hpp"
#include "unpack/format.hpp"

namespace probity::unpacker {
namespace {

// The superblock node: node magic, then (after CRC, sqnum, len) node type 6 at byte 20.
constexpr Magic kMagics[] = {{"\x31\x18\x10\x06", 0}};
constexpr std::string_view kDescription = "UBIFS (committed index; none, lzo, zlib, zstd)";
constexpr std::uint32_t kChBytes = 24;
constexpr std::uint8_t kInoNode = 0, kDataNode = 1, kDentNode = 2, kSbNode = 6, kMstNode = 7,
                       kIdxNode = 9;
constexpr std::uint32_t kKeyIno = 0, kKeyData = 1, kKeyDent = 2;
constexpr std::uint32_t kBlock = 4096;
constexpr std::uint32_t kKeyLen = 8;          ///< simple key format
constexpr std::uint32_t kFlagAuth = 1u << 4;  ///< authenticated index: branches carry hashes
/// Directory nesting depth.
/// LEB sizes accepted.
/// The valid range of LEB sizes a superblock may state, not a cap.
constexpr std::uint32_t kMinLeb = 4096, kMaxLeb = 8 * kMiB;

std::uint32_t ucrc(Bytes b) {
  return ~std::uint32_t(crc32(0, b.data(), uInt(b.size())));
}

struct Node {
  std::uint8_t type = 0;
  std::uint64_t sqnum = 0;
  Bytes bytes;  ///< the whole node
};

/// A node at `off` with a valid magic, length and CRC.
std::optional<Node> node_at(Bytes d, std::uint64_t off) {
  const Bytes ch = sub(d, off, kChBytes);
  if (ch.size() < kChBytes || !starts_with(ch, "\x31\x18\x10\x06")) return std::nullopt;
  const auto len = *read_le<std::uint32_t>(ch, 16);
  if (len < kChBytes || len > d.size() - off) return std::nullopt;
  const Bytes n = d.subspan(off, len);
  if (ucrc(n.subspan(8)) != *read_le<std::uint32_t>(n, 4)) return std::nullopt;
  return Node{n[20], *read_le<std::uint64_t>(n, 8), n};
}

struct Super {
  std::uint32_t leb_size = 0, leb_cnt = 0, flags = 0, fmt_version = 0;
  std::uint16_t default_compr = 0;
};

std::optional<Super> super(Bytes d) {
  auto n = node_at(d, 0);
  if (!n || n->type != kSbNode || n->bytes.size() < 88) return std::nullopt;
  Super s;
  s.flags = *read_le<std::uint32_t>(n->bytes, 28);
  s.leb_size = *read_le<std::uint32_t>(n->bytes, 36);
  s.leb_cnt = *read_le<std::uint32_t>(n->bytes, 40);
  s.fmt_version = *read_le<std::uint32_t>(n->bytes, 80);
  s.default_compr = *read_le<std::uint16_t>(n->bytes, 84);
  if (s.leb_size < kMinLeb || s.leb_size > kMaxLeb || s.leb_size % 8 || s.leb_cnt < 3)
    return std::nullopt;
  return s;
}

const char* compr_name(std::uint16_t c) {
  switch (c) {
    case 0:
      return "none";
    case 1:
      return "lzo";
    case 2:
      return "zlib";
    case 3:
      return "zstd";
    default:
      return "unknown";
  }
}

std::optional<Probe> probe(Bytes d) {
  auto s = super(d);
  if (!s) return std::nullopt;
  return Probe{std::min<std::uint64_t>(std::uint64_t(s->leb_size) * s->leb_cnt, d.size()),
               fmt::format("UBIFS v{}, {} KiB LEBs, {} LEBs, {}", s->fmt_version,
                           s->leb_size / 1024, s->leb_cnt, compr_name(s->default_compr))};
}

struct Dent {
  std::uint64_t inum = 0, sqnum = 0;
  std::string name;
};

class Ubifs {
 public:
  Ubifs(Bytes d, const Super& s, Sink& sink) : d_(d), s_(s), sink_(sink) {}

  Status load() {
    // The newest valid master node of LEBs 1 and 2.
    std::optional<Node> master;
    for (std::uint32_t leb : {1u, 2u})
      for (std::uint64_t off = 0; off + kChBytes <= s_.leb_size; off += 8) {
        auto n = node_at(lebs(leb), off);
        if (!n) {
          if (off == 0) break;
          continue;
        }
        if (n->type == kMstNode && n->bytes.size() >= 60 && (!master || n->sqnum > master->sqnum))
          master = n;
        off = ((off + n->bytes.size() + 7) & ~std::uint64_t(7)) - 8;
      }
    if (!master) return fail("no valid UBIFS master node", s_.leb_size);
    const auto root_lnum = *read_le<std::uint32_t>(master->bytes, 48);
    const auto root_offs = *read_le<std::uint32_t>(master->bytes, 52);
    index(root_lnum, root_offs, 0);
    return status_;
  }

  Status build() {
    std::map<std::uint64_t, std::vector<const Dent*>> children;
    for (const auto& [key, de] : dents_)
      if (de.inum) children[key.first].push_back(&de);
    walk(children, 1, "", 0);
    if (bad_)
      sink_.warn("crc-mismatch", fmt::format("{} index branches lead to no valid node", bad_));
    return status_;
  }

  std::string summary() const {
    return fmt::format("UBIFS v{}, {} KiB LEBs, {} LEBs, default compression {}, {} inodes",
                       s_.fmt_version, s_.leb_size / 1024, s_.leb_cnt, compr_name(s_.default_compr),
                       inodes_.size());
  }

 private:
  Bytes lebs(std::uint32_t lnum) const {
    return sub(d_, std::uint64_t(lnum) * s_.leb_size, s_.leb_size);
  }

  /// `inum`: the inode the parent branch's key names (marked damaged if the node is bad).
  void index(std::uint32_t lnum, std::uint32_t offs, std::uint32_t depth, std::uint32_t inum = 0) {
    if (!status_) return;
    if (depth > kMaxUbifsIndexLevels || ++visited_ > kMaxUbifsIndexNodes) {
      status_ = fail("UBIFS index too deep or too large (a loop?)");
      return;
    }
    if (!seen_.insert((std::uint64_t(lnum) << 32) | offs).second) return;
    auto n = node_at(lebs(lnum), offs);
    if (!n) {
      ++bad_;
      damaged_.insert(inum);
      return;
    }
    const Bytes b = n->bytes;
    switch (n->type) {
      case kIdxNode: {
        const auto count = *read_le<std::uint16_t>(b, 24);
        const std::uint32_t branch = 12 + kKeyLen;
        for (std::uint32_t i = 0; i < count; ++i) {
          const std::uint64_t at = 28 + std::uint64_t(i) * branch;
          auto bl = read_le<std::uint32_t>(b, at), bo = read_le<std::uint32_t>(b, at + 4);
          if (!bl || !bo || at + branch > b.size()) {
            ++bad_;
            return;
          }
          index(*bl, *bo, depth + 1, *read_le<std::uint32_t>(b, at + 12));
        }
        return;
      }
      case kInoNode: {
        if (b.size() < 160 || (*read_le<std::uint32_t>(b, 28) >> 29) != kKeyIno) return;
        const auto inum = *read_le<std::uint32_t>(b, 24);
        auto& cur = inodes_[inum];
        if (cur.empty() || *read_le<std::uint64_t>(cur, 8) < n->sqnum) cur = b;
        return;
      }
      case kDataNode: {
        if (b.size() < 48 || (*read_le<std::uint32_t>(b, 28) >> 29) != kKeyData) return;
        const auto inum = *read_le<std::uint32_t>(b, 24);
        const auto block = *read_le<std::uint32_t>(b, 28) & 0x1fffffff;
        auto& cur = data_[{inum, block}];
        if (cur.empty() || *read_le<std::uint64_t>(cur, 8) < n->sqnum) cur = b;
        return;
      }
      case kDentNode: {
        if (b.size() < 56) return;
        const auto parent = *read_le<std::uint32_t>(b, 24);
        if ((*read_le<std::uint32_t>(b, 28) >> 29) != kKeyDent) return;  // xattr entries
        const auto nlen = *read_le<std::uint16_t>(b, 50);
        if (56 + std::uint64_t(nlen) > b.size()) return;
        Dent de{*read_le<std::uint64_t>(b, 40), n->sqnum,
                std::string(reinterpret_cast<const char*>(b.data() + 56), nlen)};
        auto key = std::make_pair(std::uint64_t(parent), de.name);
        auto it = dents_.find(key);
        if (it == dents_.end() || it->second.sqnum < de.sqnum) dents_[key] = std::move(de);
        return;
      }
      default:
        return;
    }
  }

  /// One 4 KiB block of a file, decompressed; false on corruption.
  bool block(Bytes node, std::vector<std::uint8_t>& out) {
    const auto size = *read_le<std::uint32_t>(node, 40);
    const auto compr = *read_le<std::uint16_t>(node, 44);
    const Bytes in = node.subspan(48);
    if (size > kBlock) return false;
    out.assign(size, 0);
    switch (compr) {
      case 0:
        if (in.size() != size) return false;
        std::copy(in.begin(), in.end(), out.begin());
        return true;
      case 1: {
        static std::once_flag once;
        std::call_once(once, [] { (void)lzo_init(); });
        lzo_uint got = size;
        return lzo1x_decompress_safe(in.data(), in.size(), out.data(), &got, nullptr) == LZO_E_OK &&
               got == size;
      }
      case 2: {
        z_stream z{};
        if (inflateInit2(&z, -MAX_WBITS) != Z_OK) return false;
        z.next_in = const_cast<Bytef*>(in.data());
        z.avail_in = uInt(in.size());
        z.next_out = out.data();
        z.avail_out = size;
        const int rc = inflate(&z, Z_FINISH);
        const bool ok = (rc == Z_STREAM_END || rc == Z_OK || rc == Z_BUF_ERROR) && z.avail_out == 0;
        inflateEnd(&z);
        return ok;
      }
      case 3: {
        const std::size_t got = ZSTD_decompress(out.data(), size, in.data(), in.size());
        return !ZSTD_isError(got) && got == size;
      }
      default:
        return false;
    }
  }

  /// The bytes of a regular file or symlink from its data nodes.
  bool content(std::uint64_t inum, std::uint64_t size, const std::string& path,
               std::vector<std::uint8_t>& out) {
    if (size > sink_.limits().max_file_bytes) {
      sink_.warn("cap-file", fmt::format("file claims {} bytes, above the file cap", size), path);
      return false;
    }
    if (auto st = sink_.check_ratio(d_.size(), produced_ + size); !st) {
      status_ = st;
      return false;
    }
    produced_ += size;
    out.assign(size, 0);
    bool ok = !damaged_.contains(std::uint32_t(inum));
    std::vector<std::uint8_t> buf;
    for (auto it = data_.lower_bound({inum, 0}); it != data_.end() && it->first.first == inum;
         ++it) {
      const std::uint64_t at = std::uint64_t(it->first.second) * kBlock;
      if (at >= size) break;
      if (!block(it->second, buf)) {
        sink_.warn("format-error", fmt::format("data block {} corrupt", it->first.second), path);
        ok = false;
        continue;
      }
      std::copy_n(buf.begin(), std::min<std::uint64_t>(buf.size(), size - at), out.begin() + at);
    }
    return ok;
  }

  void walk(const std::map<std::uint64_t, std::vector<const Dent*>>& children, std::uint64_t dir,
            const std::string& prefix, std::uint32_t depth) {
    if (!enter_directory(sink_, visited_dirs_, dir, prefix, depth)) return;
    auto it = children.find(dir);
    if (it == children.end()) return;
    for (const Dent* de : it->second) {
      if (!status_) return;
      if (auto st = sink_.check_time(); !st) {
        status_ = st;
        return;
      }
      const auto child = child_path(sink_, prefix, de->name);
      if (!child) continue;
      const std::string& path = *child;
      auto ino = inodes_.find(std::uint32_t(de->inum));
      if (de->inum > 0xffffffffu || ino == inodes_.end()) {
        sink_.warn("format-error", fmt::format("directory entry for missing inode {}", de->inum),
                   path);
        continue;
      }
      const Bytes b = ino->second;
      const auto size = *read_le<std::uint64_t>(b, 48);
      const auto mode = *read_le<std::uint32_t>(b, 104);
      Entry e{path,
              EntryType::kFile,
              mode & 07777,
              *read_le<std::uint32_t>(b, 96),
              *read_le<std::uint32_t>(b, 100),
              std::int64_t(*read_le<std::uint64_t>(b, 72))};
      const std::uint64_t inum = de->inum;
      emit_posix_entry(
          sink_, std::move(e), mode, inum, first_path_,
          [&] { walk(children, inum, path, depth + 1); },
          [&](std::vector<std::uint8_t>& data) -> std::optional<bool> {
            const bool whole = content(inum, size, path, data);
            if (!status_) return std::nullopt;
            return whole;
          },
          [&] {
            // The target is the inode's own data.
            const auto len = *read_le<std::uint32_t>(b, 112);
            const Bytes target = sub(b, 160, std::min<std::uint64_t>(len, kMaxLinkBytes));
            return std::string(target.begin(), target.end());
          });
      if (!status_) return;
    }
  }

  Bytes d_;
  Super s_;
  Sink& sink_;
  Status status_;
  std::uint64_t visited_ = 0, bad_ = 0, produced_ = 0;
  std::set<std::uint64_t> seen_;
  std::map<std::uint32_t, Bytes> inodes_;
  std::map<std::pair<std::uint32_t, std::uint32_t>, Bytes> data_;
  std::map<std::pair<std::uint64_t, std::string>, Dent> dents_;
  std::map<std::uint64_t, std::string> first_path_;
  std::set<std::uint64_t> visited_dirs_;
  std::set<std::uint32_t> damaged_;  ///< inodes with a node lost to a bad CRC
};

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto s = super(d);
  if (!s) return fail("bad UBIFS superblock node", 0);
  const std::uint64_t span =
      std::min<std::uint64_t>(std::uint64_t(s->leb_size) * s->leb_cnt, d.size());
  if (s->flags & kFlagAuth)
    return fail("authenticated UBIFS (hashed index branches) is not supported", 0);
  Ubifs fs(d.subspan(0, span), *s, sink);
  if (auto st = fs.load(); !st) {
    sink.describe(fs.summary());
    return fail(st.error().message, st.error().offset);
  }
  auto st = fs.build();
  sink.describe(fs.summary());
  if (!st) return fail(st.error().message, span);
  return span;
}

}  // namespace

const Format kFormat_ubifs = make_format(kind::kFilesystemAtStart, "ubifs", kDescription, kMagics,
                                         probe, extract, {.timestamp_bytes = 8});

}  // namespace probity::unpacker
