// JFFS2 (journalling flash filesystem 2), little- or big-endian: a log of nodes. Directory entry
// nodes name (parent inode, name) -> inode; inode nodes carry metadata and a (compressed) byte
// range of the file. The newest version wins, as when the kernel mounts the image. Nodes with a
// bad header, node or data CRC are skipped and reported. Compression: none, zero, zlib, rtime;
// lzo; lzma/rubin nodes are reported and left as holes.
#include <lzo/lzo1x.h>
#include <zlib.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>

#include <fmt/format.h>

#include "probity/limits.hpp"
#include "unpack/format.hpp"

namespace probity::unpacker {
namespace {

// A first node of an image: a clean marker (mkfs.jffs2 -e) or a directory entry (-n), LE or BE.
constexpr Magic kMagics[] = {{"\x85\x19\x03\x20", 0},
                             {"\x85\x19\x01\xe0", 0},
                             {"\x19\x85\x20\x03", 0},
                             {"\x19\x85\xe0\x01", 0}};
constexpr std::string_view kDescription = "JFFS2 (little/big endian; none, zlib, rtime, lzo)";
constexpr std::uint16_t kNodeMagic = 0x1985;
constexpr std::uint16_t kDirent = 0xe001, kInode = 0xe002, kAccurate = 0x2000;
constexpr std::uint32_t kHeaderBytes = 12, kDirentBytes = 40, kInodeBytes = 68;
/// Directory nesting depth.

enum Compr : std::uint8_t { kNone = 0, kZero = 1, kRtime = 2, kZlib = 6, kLzo = 7, kLzma = 8 };

/// JFFS2's CRC32: the CRC-32 polynomial with a zero seed and no final inversion.
std::uint32_t jcrc(Bytes b) {
  return ~std::uint32_t(crc32(0xffffffffUL, b.data(), uInt(b.size())));
}

struct Reader {
  Bytes d;
  bool big = false;
  [[nodiscard]] std::uint16_t u16(std::uint64_t off) const {
    return *(big ? read_be<std::uint16_t>(d, off) : read_le<std::uint16_t>(d, off));
  }
  [[nodiscard]] std::uint32_t u32(std::uint64_t off) const {
    return *(big ? read_be<std::uint32_t>(d, off) : read_le<std::uint32_t>(d, off));
  }
  /// A node header at `off` with a valid header CRC: its type and total length.
  [[nodiscard]] std::optional<std::pair<std::uint16_t, std::uint32_t>> header(
      std::uint64_t off) const {
    if (off > d.size() || d.size() - off < kHeaderBytes || u16(off) != kNodeMagic)
      return std::nullopt;
    // The header CRC is computed with the "accurate" bit set: obsolete nodes (bit cleared in
    // place) keep a valid header and are skipped by length, not mistaken for garbage.
    std::uint8_t h[8];
    std::copy_n(d.begin() + std::ptrdiff_t(off), 8, h);
    h[big ? 2 : 3] |= 0x20;
    if (jcrc(Bytes(h, 8)) != u32(off + 8)) return std::nullopt;
    const std::uint32_t len = u32(off + 4);
    if (len < kHeaderBytes) return std::nullopt;
    return std::make_pair(u16(off + 2), len);
  }
};

std::optional<Reader> reader_for(Bytes d) {
  if (d.size() < kHeaderBytes) return std::nullopt;
  Reader r{d, false};
  if (d[0] == 0x19 && d[1] == 0x85)
    r.big = true;
  else if (!(d[0] == 0x85 && d[1] == 0x19))
    return std::nullopt;
  if (!r.header(0)) return std::nullopt;
  return r;
}

std::optional<Probe> probe(Bytes d) {
  auto r = reader_for(d);
  if (!r) return std::nullopt;
  return Probe{0, fmt::format("JFFS2 {}-endian", r->big ? "big" : "little")};
}

struct Dirent {
  std::uint32_t pino = 0, version = 0, ino = 0, mctime = 0;
  std::uint8_t type = 0;
  std::string name;
};

struct DataNode {
  std::uint32_t version = 0, offset = 0, dsize = 0;
  std::uint8_t compr = 0;
  Bytes data;
  std::uint64_t at = 0;
};

struct InodeInfo {
  std::uint32_t version = 0, mode = 0, uid = 0, gid = 0, isize = 0, mtime = 0;
  bool seen = false;
  std::vector<DataNode> nodes;
};

/// rtime: each output byte is followed by a repeat count copying from that byte's last position.
bool rtime_decompress(Bytes in, std::vector<std::uint8_t>& out, std::size_t want) {
  out.assign(want, 0);
  std::uint32_t positions[256] = {};
  std::size_t o = 0, i = 0;
  while (o < want) {
    if (i + 2 > in.size()) return false;
    const std::uint8_t value = in[i++];
    out[o++] = value;
    std::size_t repeat = in[i++];
    std::size_t back = positions[value];
    positions[value] = std::uint32_t(o);
    if (repeat > want - o) return false;
    while (repeat--) {
      if (back >= o) return false;
      out[o++] = out[back++];
    }
  }
  return true;
}

class Jffs2 {
 public:
  Jffs2(Reader r, Sink& sink) : r_(r), sink_(sink) {}

  /// Scans the node log; returns the end of the last valid node.
  std::uint64_t scan() {
    std::uint64_t off = 0, end = 0, garbage = 0, nodes = 0;
    while (off + kHeaderBytes <= r_.d.size()) {
      auto h = r_.header(off);
      if (!h) {
        const std::uint32_t w = r_.u32(off);
        if (w != 0xffffffff && w != 0) garbage += 4;
        if (garbage > kMaxJffs2Garbage) break;
        off += 4;
        continue;
      }
      if (++nodes > kMaxJffs2Nodes) {
        sink_.warn("cap-entries", fmt::format("more than {} JFFS2 nodes", kMaxJffs2Nodes), "", off);
        break;
      }
      garbage = 0;
      const auto [type, len] = *h;
      if (len > r_.d.size() - off) {
        sink_.warn("format-error", "node runs past the end of the image", "", off);
        end = r_.d.size();
        break;
      }
      if (type == kDirent) dirent(off, len);
      if (type == kInode) inode(off, len);
      // Obsolete nodes (accurate bit cleared), clean markers, padding, summaries: skipped.
      end = off + len;
      off = (off + len + 3) & ~std::uint64_t(3);
    }
    return end;
  }

  Status build() {
    std::map<std::uint32_t, std::vector<const Dirent*>> children;
    for (const auto& [key, de] : dirents_)
      if (de.ino != 0) children[de.pino].push_back(&de);  // ino 0: the name was deleted
    if (bad_crc_)
      sink_.warn("crc-mismatch",
                 fmt::format("{} nodes with a bad node or data CRC skipped", bad_crc_));
    walk(children, 1, "", 0);
    return status_;
  }

  std::string summary() const {
    return fmt::format("JFFS2 {}-endian, {} inodes, {} directory entries",
                       r_.big ? "big" : "little", inodes_.size(), dirents_.size());
  }

 private:
  void dirent(std::uint64_t off, std::uint32_t len) {
    if (len < kDirentBytes || !(r_.u16(off + 2) & kAccurate)) return;
    if (jcrc(r_.d.subspan(off, kDirentBytes - 8)) != r_.u32(off + 32)) {
      ++bad_crc_;
      return;
    }
    Dirent de;
    de.pino = r_.u32(off + 12);
    de.version = r_.u32(off + 16);
    de.ino = r_.u32(off + 20);
    de.mctime = r_.u32(off + 24);
    const std::uint8_t nsize = r_.d[off + 28];
    de.type = r_.d[off + 29];
    if (kDirentBytes + std::uint64_t(nsize) > len) return;
    const Bytes name = r_.d.subspan(off + kDirentBytes, nsize);
    if (jcrc(name) != r_.u32(off + 36)) {
      ++bad_crc_;
      return;
    }
    de.name.assign(reinterpret_cast<const char*>(name.data()), name.size());
    auto key = std::make_pair(de.pino, de.name);
    auto it = dirents_.find(key);
    if (it == dirents_.end() || it->second.version < de.version) dirents_[key] = std::move(de);
  }

  void inode(std::uint64_t off, std::uint32_t len) {
    if (len < kInodeBytes || !(r_.u16(off + 2) & kAccurate)) return;
    if (jcrc(r_.d.subspan(off, kInodeBytes - 8)) != r_.u32(off + 64)) {
      ++bad_crc_;
      return;
    }
    const std::uint32_t ino = r_.u32(off + 12);
    DataNode n;
    n.version = r_.u32(off + 16);
    n.offset = r_.u32(off + 44);
    const std::uint32_t csize = r_.u32(off + 48);
    n.dsize = r_.u32(off + 52);
    n.compr = r_.d[off + 56];
    n.at = off;
    if (kInodeBytes + std::uint64_t(csize) > len || n.dsize > kMaxJffs2NodeData) {
      sink_.warn("format-error", "inode node with inconsistent sizes", "", off);
      return;
    }
    n.data = r_.d.subspan(off + kInodeBytes, csize);
    if (jcrc(n.data) != r_.u32(off + 60)) {
      ++bad_crc_;
      damaged_.insert(ino);  // the header is sound: this file misses a range
      return;
    }
    InodeInfo& info = inodes_[ino];
    if (!info.seen || n.version >= info.version) {
      info.seen = true;
      info.version = n.version;
      info.mode = r_.u32(off + 20);
      info.uid = r_.u16(off + 24);
      info.gid = r_.u16(off + 26);
      info.isize = r_.u32(off + 28);
      info.mtime = r_.u32(off + 36);
    }
    if (n.dsize) info.nodes.push_back(n);
  }

  Reader r_;
  Sink& sink_;
  std::map<std::pair<std::uint32_t, std::string>, Dirent> dirents_;
  std::map<std::uint32_t, InodeInfo> inodes_;
  std::map<std::uint32_t, std::string> first_path_;
  std::set<std::uint32_t> visited_dirs_;
  std::set<std::uint32_t> damaged_;  ///< inodes with a data node skipped for a bad CRC
  std::uint64_t bad_crc_ = 0, produced_ = 0;
  Status status_;

  /// Rebuilds a file's bytes from its data nodes, oldest first so newer ones overwrite.
  bool content(std::uint32_t ino, InodeInfo& info, const std::string& path,
               std::vector<std::uint8_t>& out) {
    const std::uint64_t size = info.isize;
    if (size > sink_.limits().max_file_bytes) {
      sink_.warn("cap-file", fmt::format("file claims {} bytes, above the file cap", size), path);
      return false;
    }
    if (auto st = sink_.check_ratio(r_.d.size(), produced_ + size); !st) {
      status_ = st;
      return false;
    }
    produced_ += size;
    out.assign(size, 0);
    std::stable_sort(info.nodes.begin(), info.nodes.end(),
                     [](const DataNode& a, const DataNode& b) { return a.version < b.version; });
    std::vector<std::uint8_t> buf;
    bool ok = !damaged_.contains(ino);
    for (const DataNode& n : info.nodes) {
      if (n.offset >= size) continue;  // truncated away by a later node
      const std::size_t want = n.dsize;
      switch (n.compr) {
        case kNone:
          buf.assign(n.data.begin(), n.data.end());
          break;
        case kZero:
          buf.assign(want, 0);
          break;
        case kZlib: {
          buf.assign(want, 0);
          uLongf got = uLongf(want);
          if (uncompress(buf.data(), &got, n.data.data(), uLong(n.data.size())) != Z_OK ||
              got != want) {
            sink_.warn("format-error", "corrupt zlib data in a node", path, n.at);
            ok = false;
            continue;
          }
          break;
        }
        case kLzo: {
          static std::once_flag once;
          std::call_once(once, [] { (void)lzo_init(); });
          buf.assign(want, 0);
          lzo_uint got = want;
          if (lzo1x_decompress_safe(n.data.data(), n.data.size(), buf.data(), &got, nullptr) !=
                  LZO_E_OK ||
              got != want) {
            sink_.warn("format-error", "corrupt lzo data in a node", path, n.at);
            ok = false;
            continue;
          }
          break;
        }
        case kRtime:
          if (!rtime_decompress(n.data, buf, want)) {
            sink_.warn("format-error", "corrupt rtime data in a node", path, n.at);
            ok = false;
            continue;
          }
          break;
        default:
          sink_.warn("format-error",
                     fmt::format("compression {} not supported; left as zeros", n.compr), path,
                     n.at);
          ok = false;
          continue;
      }
      const std::size_t n_copy = std::min<std::uint64_t>(buf.size(), size - n.offset);
      std::copy_n(buf.begin(), n_copy, out.begin() + n.offset);
    }
    return ok;
  }

  void walk(const std::map<std::uint32_t, std::vector<const Dirent*>>& children, std::uint32_t dir,
            const std::string& prefix, std::uint32_t depth) {
    if (!enter_directory(sink_, visited_dirs_, dir, prefix, depth)) return;
    auto it = children.find(dir);
    if (it != children.end()) {
      for (const Dirent* de : it->second) {
        if (!status_) break;
        if (auto st = sink_.check_time(); !st) {
          status_ = st;
          break;
        }
        const auto child = child_path(sink_, prefix, de->name);
        if (!child) continue;
        const std::string& path = *child;
        auto ino_it = inodes_.find(de->ino);
        if (ino_it == inodes_.end()) {
          sink_.warn("format-error", fmt::format("directory entry for missing inode {}", de->ino),
                     path);
          continue;
        }
        InodeInfo& info = ino_it->second;
        Entry e{path,     EntryType::kFile, info.mode & 07777,
                info.uid, info.gid,         std::int64_t(info.mtime)};
        const auto ino = de->ino;
        emit_posix_entry(
            sink_, std::move(e), info.mode, ino, first_path_,
            [&] { walk(children, ino, path, depth + 1); },
            [&](std::vector<std::uint8_t>& data) -> std::optional<bool> {
              const bool whole = content(ino, info, path, data);
              if (!status_) return std::nullopt;
              return whole;
            },
            [&] {
              std::vector<std::uint8_t> data;
              if (info.isize > kMaxLinkBytes || !content(ino, info, path, data))
                return std::string();
              return std::string(data.begin(), data.end());
            });
      }
    }
  }
};

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto r = reader_for(d);
  if (!r) return fail("bad JFFS2 node header", 0);
  Jffs2 fs(*r, sink);
  const std::uint64_t end = fs.scan();
  sink.describe(fs.summary());
  if (auto st = fs.build(); !st) return fail(st.error().message, end);
  return end;
}

}  // namespace

const Format kFormat_jffs2 = make_format(kind::kFilesystem, "jffs2", kDescription, kMagics, probe,
                                         extract, {.timestamp_bytes = 4});

}  // namespace probity::unpacker
