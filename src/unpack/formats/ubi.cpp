// UBI (unsorted block images, the volume layer under UBIFS and many OpenWrt root filesystems):
// every physical erase block (PEB) starts with an erase-counter header "UBI#" and, when it is in
// use, a volume-id header "UBI!" naming its volume and logical block. The PEB size is not stored:
// it is the distance to the next erase-counter header of the same image. Volumes are rebuilt from
// their logical blocks (newest sequence number wins) and written as files named after the volume
// table; they are carved again (squashfs, UBIFS, kernels...). Header CRCs and static volumes'
// data CRCs are checked.
#include <zlib.h>

#include <map>
#include <set>

#include <fmt/format.h>

#include "probity/limits.hpp"
#include "unpack/format.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"UBI#", 0}};
constexpr std::string_view kDescription =
    "UBI image (volumes rebuilt; header and data CRCs checked)";
constexpr std::uint32_t kEcBytes = 64, kVidBytes = 64, kVtblRecord = 172;
constexpr std::uint32_t kLayoutVolume = 0x7fffefff;
/// PEB sizes tried: powers of two in [kMinPeb, kMaxPeb].
/// The valid range of eraseblock sizes, not a cap.
constexpr std::uint64_t kMinPeb = 1024, kMaxPeb = 4 * kMiB;
/// Volume type of static volumes (1 is dynamic; anything else is read as dynamic).
constexpr std::uint8_t kStatic = 2;

/// UBI's CRC32: the CRC-32 polynomial seeded with all ones, no final inversion.
std::uint32_t ucrc(Bytes b) {
  return ~std::uint32_t(crc32(0, b.data(), uInt(b.size())));
}

struct Ec {
  std::uint32_t vid_offset = 0, data_offset = 0, image_seq = 0;
};

std::optional<Ec> ec_header(Bytes d, std::uint64_t off) {
  const Bytes h = sub(d, off, kEcBytes);
  if (h.size() < kEcBytes || !starts_with(h, "UBI#") || h[4] != 1) return std::nullopt;
  if (ucrc(h.subspan(0, 60)) != *read_be<std::uint32_t>(h, 60)) return std::nullopt;
  Ec e{*read_be<std::uint32_t>(h, 16), *read_be<std::uint32_t>(h, 20),
       *read_be<std::uint32_t>(h, 24)};
  if (e.vid_offset < kEcBytes || e.vid_offset % 8 || e.data_offset < e.vid_offset + kVidBytes ||
      e.data_offset >= kMaxPeb)
    return std::nullopt;
  return e;
}

struct Vid {
  std::uint8_t vol_type = 0, copy_flag = 0;
  std::uint32_t vol_id = 0, lnum = 0, data_size = 0, used_ebs = 0, data_pad = 0, data_crc = 0;
  std::uint64_t sqnum = 0;
  std::uint64_t peb = 0;  ///< PEB index
};

std::optional<Vid> vid_header(Bytes d, std::uint64_t off) {
  const Bytes h = sub(d, off, kVidBytes);
  if (h.size() < kVidBytes || !starts_with(h, "UBI!") || h[4] != 1) return std::nullopt;
  if (ucrc(h.subspan(0, 60)) != *read_be<std::uint32_t>(h, 60)) return std::nullopt;
  Vid v;
  v.vol_type = h[5];
  v.copy_flag = h[6];
  v.vol_id = *read_be<std::uint32_t>(h, 8);
  v.lnum = *read_be<std::uint32_t>(h, 12);
  v.data_size = *read_be<std::uint32_t>(h, 20);
  v.used_ebs = *read_be<std::uint32_t>(h, 24);
  v.data_pad = *read_be<std::uint32_t>(h, 28);
  v.data_crc = *read_be<std::uint32_t>(h, 32);
  v.sqnum = *read_be<std::uint64_t>(h, 40);
  return v;
}

/// The PEB size: the smallest power of two at which another erase-counter header of the same
/// image sits; the whole input when there is only one PEB.
std::uint64_t peb_size(Bytes d, const Ec& first) {
  for (std::uint64_t s = kMinPeb; s <= kMaxPeb; s *= 2) {
    if (s <= first.data_offset) continue;
    if (s >= d.size()) break;
    auto e = ec_header(d, s);
    if (e && e->image_seq == first.image_seq) return s;
  }
  return 0;
}

std::optional<Probe> probe(Bytes d) {
  auto e = ec_header(d, 0);
  if (!e) return std::nullopt;
  return Probe{0, fmt::format("UBI image, data offset {}", e->data_offset)};
}

struct VolumeInfo {
  std::string name;
  std::uint8_t type = 0;
  std::uint32_t reserved_pebs = 0;
};

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto first = ec_header(d, 0);
  if (!first) return fail("bad UBI erase-counter header", 0);
  std::uint64_t peb = peb_size(d, *first);
  if (peb == 0) {
    sink.warn("format-error", "only one erase block found; its size is taken as the input size");
    peb = std::max<std::uint64_t>(d.size(), std::uint64_t(first->data_offset) + 1);
  }
  const std::uint64_t leb = peb - first->data_offset;

  // Scan PEBs while they belong to this image (erased PEBs, all 0xff, are skipped over).
  std::map<std::pair<std::uint32_t, std::uint32_t>, Vid> blocks;  // (vol, lnum) -> newest
  std::uint64_t npeb = 0, bad_vid = 0;
  for (std::uint64_t i = 0; i * peb < d.size(); ++i) {
    const std::uint64_t base = i * peb;
    auto e = ec_header(d, base);
    if (!e) {
      const Bytes head = sub(d, base, kEcBytes);
      if (std::all_of(head.begin(), head.end(), [](std::uint8_t c) { return c == 0xff; })) {
        npeb = i + 1;
        continue;
      }
      break;
    }
    if (e->image_seq != first->image_seq) break;
    npeb = i + 1;
    auto v = vid_header(d, base + e->vid_offset);
    if (!v) {
      const Bytes h = sub(d, base + e->vid_offset, kVidBytes);
      if (!std::all_of(h.begin(), h.end(), [](std::uint8_t c) { return c == 0xff; })) ++bad_vid;
      continue;
    }
    v->peb = i;
    auto key = std::make_pair(v->vol_id, v->lnum);
    auto it = blocks.find(key);
    if (it == blocks.end() || it->second.sqnum < v->sqnum) blocks[key] = *v;
  }
  // Trailing erased PEBs are kept: the flash partition ends where the erased tail ends.
  if (npeb * peb > d.size())
    sink.warn("format-error",
              fmt::format("UBI image truncated: last erase block has {} of {} bytes",
                          d.size() - (npeb - 1) * peb, peb));
  const std::uint64_t span = std::min<std::uint64_t>(npeb * peb, d.size());
  if (bad_vid)
    sink.warn("crc-mismatch", fmt::format("{} volume-id headers with a bad CRC skipped", bad_vid));

  // The volume table: layout volume LEB 0 (LEB 1 is its copy).
  std::map<std::uint32_t, VolumeInfo> vols;
  for (std::uint32_t copy = 0; copy < 2 && vols.empty(); ++copy) {
    auto it = blocks.find({kLayoutVolume, copy});
    if (it == blocks.end()) continue;
    const Bytes table = sub(d, it->second.peb * peb + first->data_offset, leb);
    for (std::uint32_t r = 0; r < kMaxUbiVolumes && (r + 1) * kVtblRecord <= table.size(); ++r) {
      const Bytes rec = table.subspan(r * kVtblRecord, kVtblRecord);
      if (ucrc(rec.subspan(0, kVtblRecord - 4)) != *read_be<std::uint32_t>(rec, kVtblRecord - 4))
        continue;
      const auto reserved = *read_be<std::uint32_t>(rec, 0);
      if (reserved == 0) continue;  // an empty slot
      const auto name_len = std::min<std::uint16_t>(*read_be<std::uint16_t>(rec, 14), 127);
      vols[r] = VolumeInfo{cstr(rec, 16, name_len), rec[12], reserved};
    }
  }
  std::set<std::uint32_t> ids;
  for (const auto& [key, v] : blocks)
    if (key.first != kLayoutVolume) ids.insert(key.first);
  std::string desc =
      fmt::format("UBI, {} KiB PEBs, {} PEBs, {} volumes", peb / 1024, npeb, ids.size());
  std::set<std::string> used;
  // Unmapped LEBs of dynamic volumes read as erased flash; all volumes together may fill no more
  // LEBs than the image has PEBs (a hostile table cannot multiply the output).
  std::uint64_t fill_budget = npeb;
  for (std::uint32_t id : ids) {
    if (auto st = sink.check_time(); !st) return fail(st.error().message, span);
    if (id >= kMaxUbiVolumes) {
      sink.warn("format-error", fmt::format("volume id {} out of range", id));
      continue;
    }
    const VolumeInfo info = vols.contains(id) ? vols[id] : VolumeInfo{};
    if (!vols.contains(id))
      sink.warn("format-error", fmt::format("volume {} is not in the volume table", id));
    std::string name = safe_file_name(info.name, fmt::format("vol{}", id));
    while (!used.insert(name).second) name += "_";
    // Logical blocks of this volume, in order; lnum is bounded by the PEBs present.
    std::uint32_t max_lnum = 0;
    std::uint8_t type = info.type;
    std::uint32_t used_ebs = 0;
    for (auto it = blocks.lower_bound({id, 0}); it != blocks.end() && it->first.first == id; ++it) {
      max_lnum = std::max(max_lnum, it->first.second);
      if (!type) type = it->second.vol_type;
      used_ebs = it->second.used_ebs;
    }
    if (max_lnum >= npeb) {
      sink.warn("format-error",
                fmt::format("volume {} claims logical block {} of {} PEBs", id, max_lnum, npeb));
      max_lnum = std::uint32_t(npeb ? npeb - 1 : 0);
    }
    const std::uint32_t count =
        type == kStatic ? std::min<std::uint32_t>(used_ebs, max_lnum + 1) : max_lnum + 1;
    desc += fmt::format("; {} (id {}, {}, {} LEBs)", name, id,
                        type == kStatic ? "static" : "dynamic", count);
    auto out = sink.open_file(Entry{name});
    if (!out) continue;
    bool damaged = false;
    const std::vector<std::uint8_t> erased(leb, 0xff);
    for (std::uint32_t l = 0; l < count; ++l) {
      auto it = blocks.find({id, l});
      if (it == blocks.end()) {
        if (type == kStatic) {
          sink.warn("format-error", fmt::format("static volume misses logical block {}", l), name);
          damaged = true;
          break;
        }
        if (fill_budget == 0) {
          sink.warn("format-error", "more unmapped logical blocks than the image has PEBs", name);
          damaged = true;
          break;
        }
        --fill_budget;
        if (!out->write(erased)) break;  // an unmapped LEB reads as erased flash
        continue;
      }
      const Vid& v = it->second;
      const std::uint64_t usable = leb - std::min<std::uint64_t>(v.data_pad, leb);
      const std::uint64_t len =
          type == kStatic ? std::min<std::uint64_t>(v.data_size, usable) : usable;
      const Bytes data = sub(d, v.peb * peb + first->data_offset, len);
      if (data.size() < len) damaged = true;
      if (type == kStatic && data.size() == len && ucrc(data) != v.data_crc) {
        sink.warn("crc-mismatch",
                  fmt::format("static volume {} logical block {}: data CRC mismatch", name, l),
                  name);
        damaged = true;
      }
      if (!out->write(data)) break;
    }
    if (damaged) out->mark_truncated();
    out->close();
  }
  sink.describe(desc);
  return span;
}

}  // namespace

const Format kFormat_ubi =
    make_format(kind::kFirmwareHeader, "ubi", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
