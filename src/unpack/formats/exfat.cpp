// exFAT filesystem images (Microsoft's "exFAT file system specification", 2019): the main boot
// sector gives the sector and cluster shifts, the FAT and the cluster heap; the boot region's
// checksum (sector 11) covers sectors 0-10. Directories are sets of 32-byte entries: a File
// entry (0x85: attributes, timestamps, how many secondary entries follow), a Stream Extension
// (0xC0: name length, data length, first cluster, NoFatChain for contiguous data) and File Name
// entries (0xC1: 15 UTF-16 units each); each set carries a 16-bit checksum. Data is read from the
// FAT chain or, with NoFatChain, from consecutive clusters; past ValidDataLength it is zeros.
// Written by hand: no Debian library reads exFAT from memory (exfatprogs has no file reader).
#include <fmt/format.h>

#include <set>
#include <vector>

#include "unpack/dos_time.hpp"
#include "unpack/fat_chain.hpp"
#include "unpack/format.hpp"
#include "unpack/utf16.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"EXFAT   ", 3}};
constexpr std::uint32_t kEntryBytes = 32;
constexpr std::uint8_t kFile = 0x85, kStream = 0xc0, kName = 0xc1;
constexpr std::uint16_t kAttrReadOnly = 0x01, kAttrDir = 0x10;
constexpr std::uint8_t kNoFatChain = 0x02;
constexpr std::uint32_t kEndOfChain = 0xffffffff, kBadCluster = 0xfffffff7;

struct Volume {
  Bytes d;
  std::uint64_t sectors = 0;  ///< VolumeLength
  std::uint32_t fat_offset = 0, fat_length = 0, heap_offset = 0, clusters = 0, root = 0;
  std::uint8_t sector_shift = 0, cluster_shift = 0, fats = 0;
  bool checksum_ok = false;
  [[nodiscard]] std::uint64_t sector_bytes() const { return std::uint64_t(1) << sector_shift; }
  [[nodiscard]] std::uint64_t cluster_bytes() const {
    return std::uint64_t(1) << (sector_shift + cluster_shift);
  }
  [[nodiscard]] std::uint64_t size() const { return sectors << sector_shift; }
  [[nodiscard]] bool valid(std::uint64_t c) const {
    return c >= 2 && c < std::uint64_t(clusters) + 2;
  }
  [[nodiscard]] std::uint64_t cluster_offset(std::uint64_t c) const {
    return (std::uint64_t(heap_offset) << sector_shift) + (c - 2) * cluster_bytes();
  }
  [[nodiscard]] std::optional<std::uint32_t> next(std::uint64_t c) const {
    return read_le<std::uint32_t>(d, (std::uint64_t(fat_offset) << sector_shift) + c * 4);
  }
};

/// The boot region checksum of sectors 0-10 (VolumeFlags and PercentInUse left out).
std::uint32_t boot_checksum(Bytes region) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < region.size(); ++i) {
    if (i == 106 || i == 107 || i == 112) continue;
    sum = ((sum & 1) ? 0x80000000u : 0) + (sum >> 1) + region[i];
  }
  return sum;
}

std::optional<Volume> open(Bytes d) {
  if (d.size() < 512 || !starts_with(d, "EXFAT   ", 3) || d[510] != 0x55 || d[511] != 0xaa)
    return std::nullopt;
  // The BIOS parameter block of FAT must be zero (bytes 11-63): no FAT driver mounts exFAT.
  for (std::size_t i = 11; i < 64; ++i)
    if (d[i] != 0) return std::nullopt;
  Volume v;
  v.d = d;
  v.sectors = *read_le<std::uint64_t>(d, 72);
  v.fat_offset = *read_le<std::uint32_t>(d, 80);
  v.fat_length = *read_le<std::uint32_t>(d, 84);
  v.heap_offset = *read_le<std::uint32_t>(d, 88);
  v.clusters = *read_le<std::uint32_t>(d, 92);
  v.root = *read_le<std::uint32_t>(d, 96);
  v.sector_shift = d[108];
  v.cluster_shift = d[109];
  v.fats = d[110];
  // The specification's ranges: 512-4096-byte sectors, clusters up to 32 MiB, one or two FATs
  // after the 24 sectors of the two boot regions, the heap after them, every cluster in the FAT.
  if (v.sector_shift < 9 || v.sector_shift > 12 || v.cluster_shift > 25 - v.sector_shift ||
      (v.fats != 1 && v.fats != 2) || v.fat_offset < 24 || v.fat_length == 0 ||
      std::uint64_t(v.heap_offset) <
          std::uint64_t(v.fat_offset) + std::uint64_t(v.fats) * v.fat_length ||
      v.clusters == 0 || v.clusters > 0xfffffff5 || !v.valid(v.root) ||
      (std::uint64_t(v.fat_length) << v.sector_shift) < (std::uint64_t(v.clusters) + 2) * 4 ||
      v.sectors < std::uint64_t(v.heap_offset) + (std::uint64_t(v.clusters) << v.cluster_shift))
    return std::nullopt;
  const std::uint64_t bytes = v.sector_bytes();
  if (d.size() >= 12 * bytes) {
    const std::uint32_t want = boot_checksum(sub(d, 0, 11 * bytes));
    v.checksum_ok = true;
    for (std::uint64_t at = 11 * bytes; at < 12 * bytes; at += 4)
      v.checksum_ok = v.checksum_ok && *read_le<std::uint32_t>(d, at) == want;
  }
  return v;
}

std::optional<Probe> probe(Bytes d) {
  auto v = open(d);
  if (!v) return std::nullopt;
  return Probe{std::min<std::uint64_t>(v->size(), d.size()),
               fmt::format("exFAT, {} bytes, {} clusters of {} bytes", v->size(), v->clusters,
                           v->cluster_bytes())};
}

struct Walker {
  const Volume& v;
  Sink& sink;
  std::set<std::uint64_t> dirs_seen;  ///< first clusters of directories walked (loops)
  Status status;

  /// The first `count` clusters of data starting at `first`: consecutive with `contiguous`, else
  /// the FAT chain (a loop, a bad or free cluster, or a chain cut short ends it with a warning).
  /// `sized`: `count` comes from a data length (the root's chain has no length to fall short of).
  std::vector<std::uint64_t> clusters(std::uint64_t first, std::uint64_t count, bool contiguous,
                                      const std::string& path, bool sized = true) {
    std::vector<std::uint64_t> out;
    if (contiguous) {
      for (std::uint64_t c = first; out.size() < count && v.valid(c); ++c) out.push_back(c);
    } else {
      auto ch = follow_chain(v, sink, first, count, path,
                             [](std::uint64_t n) { return n == kEndOfChain || n == kBadCluster; });
      if (ch.end == ClusterChain::End::kLoop) return std::move(ch.clusters);
      out = std::move(ch.clusters);
    }
    if (sized && out.size() < count)
      sink.warn("format-error",
                fmt::format("{} of {} clusters of the data found", out.size(), count), path);
    return out;
  }

  void file(const Entry& e, std::uint64_t first, std::uint64_t size, std::uint64_t valid,
            bool contiguous) {
    auto out = sink.open_file(e);
    if (!out) {
      if (sink.exhausted()) status = std::unexpected(out.error());
      return;
    }
    std::uint64_t left = size, at = 0;
    if (size > 0 && first != 0) {
      const std::uint64_t need = (size + v.cluster_bytes() - 1) / v.cluster_bytes();
      for (std::uint64_t c :
           clusters(first, std::min<std::uint64_t>(need, v.clusters), contiguous, e.path)) {
        const std::uint64_t n = std::min(left, v.cluster_bytes());
        Bytes b = sub(v.d, v.cluster_offset(c), n);
        // Past the valid data length the specification says the content is zeros.
        std::vector<std::uint8_t> zeros;
        if (at + b.size() > valid) {
          zeros.assign(b.begin(), b.end());
          std::fill(zeros.begin() + std::ptrdiff_t(valid > at ? valid - at : 0), zeros.end(), 0);
          b = Bytes(zeros.data(), zeros.size());
        }
        if (auto st = out->write(b); !st) break;
        left -= b.size(), at += b.size();
        if (b.size() < n) break;  // past the image
        if (auto st = sink.check_time(); !st) {
          status = st;
          break;
        }
      }
    }
    if (left > 0) {
      out->mark_truncated();
      sink.warn("format-error", fmt::format("{} of {} bytes missing", left, size), e.path);
    }
    out->close();
  }

  /// The bytes of the directory whose data starts at `first`.
  std::vector<std::uint8_t> dir_bytes(std::uint64_t first, std::uint64_t size, bool contiguous,
                                      const std::string& path) {
    const std::uint64_t cap = (std::uint64_t(kMaxDirEntries) * kEntryBytes) / v.cluster_bytes() + 1;
    // The root has no size of its own: its FAT chain decides.
    const std::uint64_t count =
        size ? (size + v.cluster_bytes() - 1) / v.cluster_bytes() : std::uint64_t(v.clusters);
    std::vector<std::uint8_t> out;
    for (std::uint64_t c : clusters(first, std::min(count, cap), contiguous, path, size != 0)) {
      Bytes b = sub(v.d, v.cluster_offset(c), v.cluster_bytes());
      out.insert(out.end(), b.begin(), b.end());
    }
    return out;
  }

  void walk(std::uint64_t first, std::uint64_t size, bool contiguous, const std::string& prefix,
            std::uint32_t depth) {
    if (!enter_directory(sink, dirs_seen, first, prefix, depth)) return;
    const std::vector<std::uint8_t> dir = dir_bytes(first, size, contiguous, prefix);
    const Bytes b(dir.data(), dir.size());
    for (std::uint64_t off = 0; off + kEntryBytes <= b.size() && status; off += kEntryBytes) {
      if (auto st = sink.check_time(); !st) {
        status = st;
        return;
      }
      const std::uint8_t type = b[off];
      if (type == 0) break;  // the end of the directory
      if (type != kFile) continue;
      const std::uint8_t secondary = b[off + 1];
      if (secondary < 2 || off + (secondary + 1ull) * kEntryBytes > b.size()) {
        sink.warn("format-error", "file entry set runs past its directory", prefix, off);
        continue;
      }
      const Bytes set = sub(b, off, (secondary + 1ull) * kEntryBytes);
      std::uint16_t sum = 0;
      for (std::size_t i = 0; i < set.size(); ++i)
        if (i != 2 && i != 3) sum = std::uint16_t(((sum & 1) ? 0x8000 : 0) + (sum >> 1) + set[i]);
      if (set[kEntryBytes] != kStream) {
        sink.warn("format-error", "file entry without its stream extension", prefix, off);
        continue;
      }
      const std::uint16_t attrs = *read_le<std::uint16_t>(set, 4);
      const std::uint8_t flags = set[kEntryBytes + 1], name_len = set[kEntryBytes + 3];
      const std::uint64_t valid = *read_le<std::uint64_t>(set, kEntryBytes + 8);
      const std::uint32_t cluster = *read_le<std::uint32_t>(set, kEntryBytes + 20);
      const std::uint64_t length = *read_le<std::uint64_t>(set, kEntryBytes + 24);
      std::vector<std::uint16_t> units;
      for (std::uint32_t k = 2; k <= secondary && units.size() < name_len; ++k) {
        if (set[k * kEntryBytes] != kName) break;
        for (std::uint32_t i = 0; i < 15 && units.size() < name_len; ++i)
          units.push_back(*read_le<std::uint16_t>(set, k * kEntryBytes + 2 + i * 2));
      }
      off += std::uint64_t(secondary) * kEntryBytes;
      std::string name = utf16_to_utf8(units);
      if (sum != *read_le<std::uint16_t>(set, 2))
        sink.warn("crc-mismatch", fmt::format("entry set checksum of \"{}\" does not match", name),
                  prefix, off);
      const auto child = child_path(sink, prefix, name, off);
      if (!child) continue;
      Entry e;
      e.path = *child;
      // A timestamp is a DOS date (high half) and time (low half).
      const std::uint32_t ts = *read_le<std::uint32_t>(set, 12);
      e.mtime = dos_time(std::uint16_t(ts >> 16), std::uint16_t(ts));
      const bool contiguous_data = flags & kNoFatChain;
      if (attrs & kAttrDir) {
        e.type = EntryType::kDir;
        e.mode = 0755;
        (void)sink.node(e);
        if (v.valid(cluster) && length > 0)
          walk(cluster, length, contiguous_data, *child, depth + 1);
      } else {
        e.mode = (attrs & kAttrReadOnly) ? 0444 : 0644;
        if (valid > length) {
          sink.warn("format-error", "valid data length past the data length", *child, off);
        }
        file(e, cluster, length, std::min(valid, length), contiguous_data);
      }
    }
  }
};

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto v = open(d);
  if (!v) return fail("bad exFAT boot sector", 0);
  sink.describe(fmt::format("exFAT, {} bytes, {} clusters of {} bytes, boot checksum {}", v->size(),
                            v->clusters, v->cluster_bytes(), v->checksum_ok ? "ok" : "bad"));
  if (!v->checksum_ok)
    sink.warn("crc-mismatch", "exFAT boot region checksum does not match sectors 0-10");
  if (v->size() > d.size())
    sink.warn("truncated",
              fmt::format("exFAT volume of {} bytes, only {} present", v->size(), d.size()), {},
              d.size());
  Volume im = *v;
  im.d = sub(d, 0, v->size());
  Walker w{im, sink};
  w.walk(im.root, 0, false, "", 0);
  if (!w.status) return fail(w.status.error().message, im.d.size());
  return im.d.size();
}

}  // namespace

const Format kFormat_exfat = make_format(kind::kFilesystem, "exfat", "exFAT filesystem", kMagics,
                                         probe, extract, {.timestamp_bytes = 4});

}  // namespace probity::unpacker
