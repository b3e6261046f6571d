// FAT12, FAT16 and FAT32 filesystem images (Microsoft's FAT specification, "FAT: General
// Overview of On-Disk Format"): the BIOS parameter block of the boot sector gives the sector and
// cluster sizes, the reserved area, the FAT copies and (FAT12/16) the fixed root directory; the
// cluster count decides the FAT width. Directories are 32-byte entries, long names the
// VFAT entries before them (their checksum must match the short name). Read from the first FAT.
#include <fmt/format.h>

#include <set>
#include <vector>

#include "unpack/dos_time.hpp"
#include "unpack/fat_chain.hpp"
#include "unpack/format.hpp"
#include "unpack/utf16.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"FAT12   ", 54}, {"FAT16   ", 54}, {"FAT32   ", 82}};
constexpr std::uint32_t kEntryBytes = 32;
constexpr std::uint8_t kAttrReadOnly = 0x01, kAttrVolume = 0x08, kAttrDir = 0x10, kAttrLfn = 0x0f;

struct Volume {
  Bytes d;
  std::uint32_t bps = 0, spc = 0, reserved = 0, fats = 0, root_entries = 0, fat_sectors = 0,
                root_cluster = 0, width = 0;
  std::uint64_t total_sectors = 0, clusters = 0, first_data = 0;
  [[nodiscard]] std::uint64_t cluster_bytes() const { return std::uint64_t(bps) * spc; }
  [[nodiscard]] std::uint64_t size() const { return total_sectors * bps; }
  [[nodiscard]] std::uint64_t root_offset() const {
    return (std::uint64_t(reserved) + std::uint64_t(fats) * fat_sectors) * bps;
  }
  [[nodiscard]] std::uint64_t cluster_offset(std::uint64_t c) const {
    return (first_data + (c - 2) * spc) * bps;
  }
  /// The FAT entry of cluster `c` (nullopt past the FAT or the image).
  [[nodiscard]] std::optional<std::uint32_t> next(std::uint64_t c) const {
    const std::uint64_t fat = std::uint64_t(reserved) * bps;
    if (width == 12) {
      auto v = read_le<std::uint16_t>(d, fat + c + c / 2);
      if (!v) return std::nullopt;
      return (c & 1) ? *v >> 4 : *v & 0xfff;
    }
    if (width == 16) {
      auto v = read_le<std::uint16_t>(d, fat + c * 2);
      return v ? std::optional<std::uint32_t>(*v) : std::nullopt;
    }
    auto v = read_le<std::uint32_t>(d, fat + c * 4);
    return v ? std::optional<std::uint32_t>(*v & 0x0fffffff) : std::nullopt;
  }
  [[nodiscard]] bool valid(std::uint64_t c) const { return c >= 2 && c < clusters + 2; }
};

bool pow2(std::uint32_t v) {
  return v && !(v & (v - 1));
}

std::optional<Volume> open(Bytes d) {
  if (d.size() < 512 || d[510] != 0x55 || d[511] != 0xaa) return std::nullopt;
  if (d[0] != 0xeb && d[0] != 0xe9) return std::nullopt;  // a jump to the boot code
  Volume v;
  v.d = d;
  v.bps = *read_le<std::uint16_t>(d, 11);
  v.spc = d[13];
  v.reserved = *read_le<std::uint16_t>(d, 14);
  v.fats = d[16];
  v.root_entries = *read_le<std::uint16_t>(d, 17);
  const std::uint32_t total16 = *read_le<std::uint16_t>(d, 19);
  const std::uint8_t media = d[21];
  const std::uint32_t fat16 = *read_le<std::uint16_t>(d, 22);
  const std::uint32_t total32 = *read_le<std::uint32_t>(d, 32);
  v.total_sectors = total16 ? total16 : total32;
  v.fat_sectors = fat16 ? fat16 : *read_le<std::uint32_t>(d, 36);
  if (v.bps < 512 || v.bps > 4096 || !pow2(v.bps) || !pow2(v.spc) || v.reserved == 0 ||
      v.fats == 0 || v.fats > 4 || (media < 0xf8 && media != 0xf0) || v.fat_sectors == 0 ||
      v.total_sectors == 0)
    return std::nullopt;
  const std::uint64_t root_sectors =
      (std::uint64_t(v.root_entries) * kEntryBytes + v.bps - 1) / v.bps;
  v.first_data = std::uint64_t(v.reserved) + std::uint64_t(v.fats) * v.fat_sectors + root_sectors;
  if (v.first_data >= v.total_sectors) return std::nullopt;
  v.clusters = (v.total_sectors - v.first_data) / v.spc;
  v.width = v.clusters < 4085 ? 12 : v.clusters < 65525 ? 16 : 32;
  if (v.width == 32) {
    if (fat16 != 0 || v.root_entries != 0) return std::nullopt;
    v.root_cluster = *read_le<std::uint32_t>(d, 44);
    if (!v.valid(v.root_cluster)) return std::nullopt;
  } else if (v.root_entries == 0) {
    return std::nullopt;
  }
  // The FAT must hold an entry for every cluster.
  if (std::uint64_t(v.fat_sectors) * v.bps * 8 < (v.clusters + 2) * v.width) return std::nullopt;
  return v;
}

std::optional<Probe> probe(Bytes d) {
  auto v = open(d);
  if (!v) return std::nullopt;
  return Probe{std::min<std::uint64_t>(v->size(), d.size()),
               fmt::format("FAT{}, {} bytes, {} clusters of {} bytes", v->width, v->size(),
                           v->clusters, v->cluster_bytes())};
}

struct Walker {
  const Volume& v;
  Sink& sink;
  std::set<std::uint64_t> dirs_seen;  ///< first clusters of directories walked (loops)
  Status status;

  /// The clusters of the chain starting at `first`, at most `max` of them (a loop or a chain
  /// longer than the volume ends it with a warning).
  std::vector<std::uint64_t> chain(std::uint64_t first, std::uint64_t max,
                                   const std::string& path) {
    const std::uint64_t end = v.width == 12 ? 0xff8u : v.width == 16 ? 0xfff8u : 0x0ffffff8u;
    auto ch = follow_chain(v, sink, first, max, path, [end](std::uint64_t n) { return n >= end; });
    if (ch.end == ClusterChain::End::kBroken)
      sink.warn("format-error", fmt::format("cluster chain broken at cluster {}", ch.stop), path,
                v.cluster_offset(std::max<std::uint64_t>(ch.stop, 2)));
    return std::move(ch.clusters);
  }

  /// The bytes of a directory (the fixed FAT12/16 root when `first` is 0).
  std::vector<std::uint8_t> dir_bytes(std::uint64_t first, const std::string& path) {
    std::vector<std::uint8_t> out;
    if (first == 0) {
      Bytes root = sub(v.d, v.root_offset(), std::uint64_t(v.root_entries) * kEntryBytes);
      out.assign(root.begin(), root.end());
      return out;
    }
    const std::uint64_t max = std::min<std::uint64_t>(
        v.clusters, (std::uint64_t(kMaxDirEntries) * kEntryBytes) / v.cluster_bytes() + 1);
    for (std::uint64_t c : chain(first, max, path)) {
      Bytes b = sub(v.d, v.cluster_offset(c), v.cluster_bytes());
      out.insert(out.end(), b.begin(), b.end());
    }
    return out;
  }

  void file(const Entry& e, std::uint64_t first, std::uint64_t size) {
    auto out = sink.open_file(e);
    if (!out) {
      if (sink.exhausted()) status = std::unexpected(out.error());
      return;
    }
    std::uint64_t left = size;
    if (size > 0) {
      const std::uint64_t need = (size + v.cluster_bytes() - 1) / v.cluster_bytes();
      for (std::uint64_t c : chain(first, std::min(need, v.clusters), e.path)) {
        Bytes b = sub(v.d, v.cluster_offset(c), std::min(left, v.cluster_bytes()));
        if (auto st = out->write(b); !st) break;
        left -= b.size();
        if (b.size() < std::min(left + b.size(), v.cluster_bytes())) break;  // past the image
      }
    }
    if (left > 0) {
      out->mark_truncated();
      sink.warn("format-error", fmt::format("{} of {} bytes missing", left, size), e.path);
    }
    out->close();
  }

  void walk(std::uint64_t first, const std::string& prefix, std::uint32_t depth) {
    if (!within_dir_depth(sink, depth, prefix)) return;
    if (first != 0 && !dirs_seen.insert(first).second) {
      sink.warn("format-error", "directory reached twice (a loop): not walked again", prefix);
      return;
    }
    const std::vector<std::uint8_t> dir = dir_bytes(first, prefix);
    const Bytes b(dir.data(), dir.size());
    std::vector<std::uint16_t> lfn;
    int lfn_sum = -1;
    for (std::uint64_t off = 0; off + kEntryBytes <= b.size() && status; off += kEntryBytes) {
      if (auto st = sink.check_time(); !st) {
        status = st;
        return;
      }
      const std::uint8_t first_byte = b[off], attr = b[off + 11];
      if (first_byte == 0) break;  // the end of the directory
      if (first_byte == 0xe5) {    // deleted
        lfn.clear(), lfn_sum = -1;
        continue;
      }
      if (attr == kAttrLfn) {
        const unsigned seq = first_byte & 0x1f;
        if (first_byte & 0x40) lfn.assign(std::size_t(seq) * 13, 0xffff), lfn_sum = b[off + 13];
        if (seq == 0 || std::size_t(seq) * 13 > lfn.size() || b[off + 13] != lfn_sum) {
          lfn.clear(), lfn_sum = -1;
          continue;
        }
        static constexpr int kPos[13] = {1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30};
        for (int i = 0; i < 13; ++i)
          lfn[(seq - 1) * 13 + i] = *read_le<std::uint16_t>(b, off + kPos[i]);
        continue;
      }
      if (attr & kAttrVolume) {
        lfn.clear(), lfn_sum = -1;
        continue;
      }
      // The short name, and the long one when its checksum matches the short name's.
      std::uint8_t sum = 0;
      for (int i = 0; i < 11; ++i) sum = std::uint8_t(((sum & 1) << 7) + (sum >> 1) + b[off + i]);
      std::string name;
      if (lfn_sum == sum && !lfn.empty()) {
        std::vector<std::uint16_t> units;
        for (std::uint16_t u : lfn) {
          if (u == 0 || u == 0xffff) break;
          units.push_back(u);
        }
        name = utf16_to_utf8(units);
      }
      lfn.clear(), lfn_sum = -1;
      if (name.empty()) {
        const std::uint8_t nt = b[off + 12];
        std::string base = cstr(b, off, 8), ext = cstr(b, off + 8, 3);
        while (!base.empty() && base.back() == ' ') base.pop_back();
        while (!ext.empty() && ext.back() == ' ') ext.pop_back();
        if (!base.empty() && base[0] == 0x05) base[0] = char(0xe5);
        for (char& c : base)
          if (nt & 0x08) c = char(std::tolower(static_cast<unsigned char>(c)));
        for (char& c : ext)
          if (nt & 0x10) c = char(std::tolower(static_cast<unsigned char>(c)));
        name = ext.empty() ? base : base + "." + ext;
      }
      if (name == "." || name == "..") continue;
      const auto child = child_path(sink, prefix, name, off);
      if (!child) continue;
      std::uint64_t cluster = std::uint64_t(*read_le<std::uint16_t>(b, off + 26));
      if (v.width == 32) cluster |= std::uint64_t(*read_le<std::uint16_t>(b, off + 20)) << 16;
      Entry e;
      e.path = *child;
      e.mtime =
          dos_time(*read_le<std::uint16_t>(b, off + 24), *read_le<std::uint16_t>(b, off + 22));
      if (attr & kAttrDir) {
        e.type = EntryType::kDir;
        e.mode = 0755;
        (void)sink.node(e);
        if (v.valid(cluster)) walk(cluster, *child, depth + 1);
      } else {
        e.mode = (attr & kAttrReadOnly) ? 0444 : 0644;
        file(e, cluster, *read_le<std::uint32_t>(b, off + 28));
      }
    }
  }
};

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto v = open(d);
  if (!v) return fail("bad FAT boot sector", 0);
  sink.describe(*probe(d).transform([](const Probe& p) { return p.description; }));
  if (v->size() > d.size())
    sink.warn("truncated",
              fmt::format("FAT volume of {} bytes, only {} present", v->size(), d.size()), {},
              d.size());
  Volume im = *v;
  im.d = sub(d, 0, v->size());
  Walker w{im, sink};
  w.walk(im.width == 32 ? im.root_cluster : 0, "", 0);
  if (!w.status) return fail(w.status.error().message, im.d.size());
  return im.d.size();
}

}  // namespace

const Format kFormat_fat = make_format(
    kind::kFilesystem, "fat", "FAT12/16/32 filesystem with long names", kMagics, probe, extract);

}  // namespace probity::unpacker
