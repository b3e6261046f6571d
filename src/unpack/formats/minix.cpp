// Minix filesystem v1, v2 and v3, little- or big-endian, from the documented on-disk layout (the
// Linux kernel's fs/minix and util-linux's mkfs.minix describe the same structures): block 0
// boot, block 1 the superblock (v1/v2: 16-bit inode count, zone count, bitmap block counts, first
// data zone, log2 of blocks per zone, max file size, the magic at 16 - 0x137f/0x138f v1 with 14-
// or 30-byte names, 0x2468/0x2478 v2; v3: 32-bit counts, the magic 0x4d5a at 24 and the block
// size at 28), then the inode bitmap, the zone bitmap, the inode table (v1 inodes 32 bytes with
// 9 16-bit zones; v2/v3 64 bytes with 10 32-bit zones: 7 direct, one indirect, one double, one
// triple indirect) and the data zones. Directories are arrays of (inode, name) entries; inode 1
// is the root. No checksums: every zone number is checked against the zone count, directory
// loops and depth are bounded, and a zone outside the image ends that file with a warning.
// No Debian library reads minix (libarchive does not; the kernel driver needs a mount).
#include <fmt/format.h>

#include <map>
#include <set>

#include "probity/limits.hpp"
#include "unpack/format.hpp"

namespace probity::unpacker {
namespace {

using namespace std::string_view_literals;
// The magic sits at 1024 + 16 (v1/v2) or 1024 + 24 (v3), either byte order; two bytes each, so
// weak: the probe checks the whole superblock.
constexpr Magic kMagics[] = {{"\x7f\x13"sv, 1040, true}, {"\x13\x7f"sv, 1040, true},
                             {"\x8f\x13"sv, 1040, true}, {"\x13\x8f"sv, 1040, true},
                             {"\x68\x24"sv, 1040, true}, {"\x24\x68"sv, 1040, true},
                             {"\x78\x24"sv, 1040, true}, {"\x24\x78"sv, 1040, true},
                             {"\x5a\x4d"sv, 1048, true}, {"\x4d\x5a"sv, 1048, true}};
constexpr std::string_view kDescription = "Minix filesystem v1/v2/v3, little and big endian";
constexpr std::uint64_t kSuper = 1024;

struct Geometry {
  int version = 1;
  bool big_endian = false;
  std::uint32_t inodes = 0, zones = 0, imap_blocks = 0, zmap_blocks = 0, first_data_zone = 0;
  std::uint32_t log_zone = 0, block = 1024, name_len = 14;
  std::uint64_t inode_table = 0;  ///< byte offset
  std::uint32_t inode_size() const { return version == 1 ? 32 : 64; }
  std::uint32_t dirent_size() const { return (version == 3 ? 4 : 2) + name_len; }
  std::uint64_t zone_bytes() const { return std::uint64_t(block) << log_zone; }
  std::uint64_t size() const { return std::uint64_t(zones) * zone_bytes(); }
};

template <typename T>
std::optional<T> rd(Bytes d, std::uint64_t at, bool be) {
  return be ? read_be<T>(d, at) : read_le<T>(d, at);
}

std::optional<Geometry> geometry(Bytes d) {
  if (d.size() < kSuper + 32) return std::nullopt;
  Geometry g;
  for (bool be : {false, true}) {
    const std::uint16_t m12 = *rd<std::uint16_t>(d, kSuper + 16, be);
    const std::uint16_t m3 = *rd<std::uint16_t>(d, kSuper + 24, be);
    g.big_endian = be;
    if (m12 == 0x137f || m12 == 0x138f) {
      g.version = 1;
      g.name_len = m12 == 0x137f ? 14 : 30;
    } else if (m12 == 0x2468 || m12 == 0x2478) {
      g.version = 2;
      g.name_len = m12 == 0x2468 ? 14 : 30;
    } else if (m3 == 0x4d5a) {
      g.version = 3;
      g.name_len = 60;
    } else {
      continue;
    }
    if (g.version == 3) {
      g.inodes = *rd<std::uint32_t>(d, kSuper, be);
      g.imap_blocks = *rd<std::uint16_t>(d, kSuper + 6, be);
      g.zmap_blocks = *rd<std::uint16_t>(d, kSuper + 8, be);
      g.first_data_zone = *rd<std::uint16_t>(d, kSuper + 10, be);
      g.log_zone = *rd<std::uint16_t>(d, kSuper + 12, be);
      g.zones = *rd<std::uint32_t>(d, kSuper + 20, be);
      g.block = *rd<std::uint16_t>(d, kSuper + 28, be);
    } else {
      g.inodes = *rd<std::uint16_t>(d, kSuper, be);
      g.zones = *rd<std::uint16_t>(d, kSuper + 2, be);
      g.imap_blocks = *rd<std::uint16_t>(d, kSuper + 4, be);
      g.zmap_blocks = *rd<std::uint16_t>(d, kSuper + 6, be);
      g.first_data_zone = *rd<std::uint16_t>(d, kSuper + 8, be);
      g.log_zone = *rd<std::uint16_t>(d, kSuper + 10, be);
      if (g.version == 2) g.zones = *rd<std::uint32_t>(d, kSuper + 20, be);
    }
    // The fields must agree: a power-of-two block size, bitmaps large enough for the counts,
    // the first data zone right after the inode table.
    if (g.block < 1024 || g.block > 65536 || (g.block & (g.block - 1)) || g.log_zone > 8 ||
        g.inodes == 0 || g.zones == 0 || g.imap_blocks == 0 || g.zmap_blocks == 0)
      return std::nullopt;
    const std::uint64_t bits = std::uint64_t(g.block) * 8;
    if (std::uint64_t(g.imap_blocks) * bits < g.inodes + 1 ||
        std::uint64_t(g.zmap_blocks) * bits < g.zones - g.first_data_zone + 1)
      return std::nullopt;
    const std::uint64_t table_block = 2 + std::uint64_t(g.imap_blocks) + g.zmap_blocks;
    g.inode_table = table_block * g.block;
    const std::uint64_t table_blocks =
        (std::uint64_t(g.inodes) * g.inode_size() + g.block - 1) / g.block;
    const std::uint64_t first_data_block = std::uint64_t(g.first_data_zone) << g.log_zone;
    if (first_data_block < table_block + table_blocks || g.first_data_zone >= g.zones)
      return std::nullopt;
    return g;
  }
  return std::nullopt;
}

std::optional<Probe> probe(Bytes d) {
  auto g = geometry(d);
  if (!g) return std::nullopt;
  return Probe{std::min<std::uint64_t>(g->size(), d.size()),
               fmt::format("minix v{} ({}-endian), {} inodes, {} zones of {} bytes", g->version,
                           g->big_endian ? "big" : "little", g->inodes, g->zones, g->zone_bytes())};
}

struct Inode {
  std::uint32_t mode = 0, uid = 0, gid = 0;
  std::uint64_t size = 0;
  std::int64_t mtime = 0;
  std::uint32_t zone[10] = {};
};

class Reader {
 public:
  Reader(Bytes d, const Geometry& g, Sink& sink) : d_(d), g_(g), sink_(sink) {}

  std::optional<Inode> inode(std::uint32_t n) {
    if (n == 0 || n > g_.inodes) return std::nullopt;
    const std::uint64_t at = g_.inode_table + std::uint64_t(n - 1) * g_.inode_size();
    if (sub(d_, at, g_.inode_size()).size() < g_.inode_size()) return std::nullopt;
    const bool be = g_.big_endian;
    Inode i;
    i.mode = *rd<std::uint16_t>(d_, at, be);
    if (g_.version == 1) {
      i.uid = *rd<std::uint16_t>(d_, at + 2, be);
      i.size = *rd<std::uint32_t>(d_, at + 4, be);
      i.mtime = *rd<std::uint32_t>(d_, at + 8, be);
      i.gid = d_[at + 12];
      for (int z = 0; z < 9; ++z) i.zone[z] = *rd<std::uint16_t>(d_, at + 14 + 2 * z, be);
    } else {
      i.uid = *rd<std::uint16_t>(d_, at + 4, be);
      i.gid = *rd<std::uint16_t>(d_, at + 6, be);
      i.size = *rd<std::uint32_t>(d_, at + 8, be);
      i.mtime = *rd<std::uint32_t>(d_, at + 16, be);
      for (int z = 0; z < 10; ++z) i.zone[z] = *rd<std::uint32_t>(d_, at + 24 + 4 * z, be);
    }
    return i;
  }

  /// Calls `out(bytes)` for each zone of the inode's data in order (a hole - zone 0 - as zeros),
  /// up to its size; `out` returns false to stop. False when a zone is out of range or past the
  /// image (a warning names it) or `out` stopped.
  template <typename Out>
  bool data(const Inode& ino, const std::string& path, Out&& out) {
    const std::uint64_t zb = g_.zone_bytes();
    const std::uint64_t total = ino.size;
    std::uint64_t done = 0;
    const std::uint32_t ptr_bytes = g_.version == 1 ? 2 : 4;
    const std::uint64_t per = zb / ptr_bytes;
    std::vector<std::uint8_t> zeros;
    auto emit = [&](std::uint32_t zone) -> bool {
      const std::uint64_t n = std::min(zb, total - done);
      if (zone == 0) {
        zeros.assign(n, 0);
        if (!out(Bytes(zeros))) return false;
      } else {
        const Bytes b = zone_bytes(zone, path);
        if (b.size() < n || !out(sub(b, 0, n))) return false;
      }
      done += n;
      return true;
    };
    // Walks an indirect zone of `level` levels.
    auto walk = [&](auto&& self, std::uint32_t zone, int level) -> bool {
      if (zone == 0) {
        // A hole spanning the whole indirect range.
        std::uint64_t span = zb;
        for (int l = 0; l < level; ++l) span *= per;
        while (span > 0 && done < total) {
          const std::uint64_t n = std::min({zb, total - done, span});
          zeros.assign(n, 0);
          if (!out(Bytes(zeros))) return false;
          done += n;
          span -= n;
        }
        return true;
      }
      const Bytes b = zone_bytes(zone, path);
      if (b.empty()) return false;
      for (std::uint64_t k = 0; k < per && done < total; ++k) {
        const std::uint32_t z = ptr_bytes == 2 ? *rd<std::uint16_t>(b, k * 2, g_.big_endian)
                                               : *rd<std::uint32_t>(b, k * 4, g_.big_endian);
        if (level == 0 ? !emit(z) : !self(self, z, level - 1)) return false;
      }
      return true;
    };
    for (int z = 0; z < 7 && done < total; ++z)
      if (!emit(ino.zone[z])) return false;
    const int levels = g_.version == 1 ? 2 : 3;
    for (int l = 0; l < levels && done < total; ++l)
      if (!walk(walk, ino.zone[7 + l], l)) return false;
    if (done < total) {
      sink_.warn("format-error",
                 fmt::format("minix inode data ends after {} of {} bytes", done, total), path);
      return false;
    }
    return true;
  }

  void directory(std::uint32_t n, const Inode& dir, const std::string& prefix,
                 std::uint32_t depth) {
    if (depth > kMaxMinixDepth || !dirs_.insert(n).second) {
      sink_.warn("format-error", "minix directory loop or nesting too deep: not walked again",
                 prefix);
      return;
    }
    if (dir.size > kMaxMinixDirBytes) {
      sink_.warn(
          "cap-directory",
          fmt::format("minix directory of {} bytes over {}: not read", dir.size, kMaxMinixDirBytes),
          prefix);
      return;
    }
    std::vector<std::uint8_t> bytes;
    const bool ok = data(dir, prefix, [&](Bytes b) {
      bytes.insert(bytes.end(), b.begin(), b.end());
      return true;
    });
    if (!ok) sink_.warn("format-error", "minix directory data unreadable: read in part", prefix);
    const std::uint32_t es = g_.dirent_size();
    const std::uint32_t ino_bytes = g_.version == 3 ? 4 : 2;
    for (std::uint64_t at = 0; at + es <= bytes.size(); at += es) {
      const Bytes e(bytes.data() + at, es);
      const std::uint32_t child = ino_bytes == 2 ? *rd<std::uint16_t>(e, 0, g_.big_endian)
                                                 : *rd<std::uint32_t>(e, 0, g_.big_endian);
      if (child == 0) continue;
      const std::string name = cstr(e, ino_bytes, g_.name_len);
      if (name == "." || name == "..") continue;
      auto path = child_path(sink_, prefix, name);
      if (!path) continue;
      entry(child, *path, depth);
      if (sink_.exhausted()) return;
    }
  }

  void entry(std::uint32_t n, const std::string& path, std::uint32_t depth) {
    auto ino = inode(n);
    if (!ino) {
      sink_.warn("format-error", fmt::format("minix inode {} out of range", n), path);
      return;
    }
    Entry e{path};
    e.mode = ino->mode & 07777;
    e.uid = ino->uid;
    e.gid = ino->gid;
    e.mtime = ino->mtime;
    const std::uint32_t type = ino->mode & 0xf000;
    if (type == 0x4000) {
      e.type = EntryType::kDir;
      (void)sink_.node(e);
      directory(n, *ino, path, depth + 1);
      return;
    }
    if (auto nt = node_type(ino->mode)) {
      e.type = *nt;
      (void)sink_.node(e);
      return;
    }
    if (type == 0xa000) {
      std::string target;
      if (ino->size <= kMaxPathBytes)
        data(*ino, path, [&](Bytes b) {
          target.append(b.begin(), b.end());
          return true;
        });
      e.type = EntryType::kSymlink;
      e.link = target;
      (void)sink_.node(e);
      return;
    }
    if (type != 0x8000) {
      sink_.warn("format-error", fmt::format("minix inode {} has an unknown type", n), path);
      return;
    }
    if (auto it = files_.find(n); it != files_.end()) {
      e.type = EntryType::kHardlink;
      e.link = it->second;
      (void)sink_.node(e);
      return;
    }
    auto f = sink_.open_file(e);
    if (!f) return;
    files_[n] = path;
    Status st;
    const bool ok = data(*ino, path, [&](Bytes b) {
      st = f->write(b);
      if (st) st = sink_.check_time();
      return bool(st);
    });
    if (!ok && st) f->mark_truncated();
    f->close();
  }

 private:
  /// The bytes of zone `z` (empty, with a warning, when it is outside the filesystem or image).
  Bytes zone_bytes(std::uint32_t z, const std::string& path) {
    if (z < g_.first_data_zone || z >= g_.zones) {
      sink_.warn("format-error", fmt::format("minix zone {} outside the data zones", z), path);
      return {};
    }
    const Bytes b = sub(d_, std::uint64_t(z) * g_.zone_bytes(), g_.zone_bytes());
    if (b.size() < g_.zone_bytes()) {
      sink_.warn("format-error", fmt::format("minix zone {} past the end of the image", z), path);
      return {};
    }
    return b;
  }

  Bytes d_;
  const Geometry& g_;
  Sink& sink_;
  std::set<std::uint32_t> dirs_;
  std::map<std::uint32_t, std::string> files_;
};

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto g = geometry(d);
  if (!g) return fail("bad minix superblock", kSuper);
  Reader r(d, *g, sink);
  auto root = r.inode(1);
  if (!root || (root->mode & 0xf000) != 0x4000)
    return fail("minix root inode is not a directory", g->inode_table);
  r.directory(1, *root, "", 0);
  sink.describe(fmt::format("minix v{} ({}-endian), {} inodes, {} zones of {} bytes", g->version,
                            g->big_endian ? "big" : "little", g->inodes, g->zones,
                            g->zone_bytes()));
  if (g->size() > d.size())
    return fail(fmt::format("minix image truncated: {} of {} bytes", d.size(), g->size()),
                d.size());
  return g->size();
}

}  // namespace

const Format kFormat_minix =
    make_format(kind::kFilesystem, "minix", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
