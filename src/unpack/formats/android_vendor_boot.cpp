// Android vendor_boot images ("VNDRBOOT", AOSP system/tools/mkbootimg's bootimg.h,
// vendor_boot_img_hdr_v3/v4): a little-endian header with the page size, the vendor ramdisk and
// DTB sizes (v3), plus the vendor ramdisk table and bootconfig sizes (v4); each section is padded
// to a page. A v4 table lists the ramdisk fragments (size, offset in the vendor ramdisk section,
// type, name), each written as its own file; without a table the vendor ramdisk is one file. The
// parts are carved again (the ramdisks are compressed cpio archives, the DTB a device tree).
#include <fmt/format.h>

#include <array>

#include "probity/limits.hpp"
#include "unpack/format.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"VNDRBOOT", 0}};
constexpr std::string_view kDescription = "Android vendor_boot image, header v3-v4";
// The v3 header is 2112 bytes and v4's 2128, but mkbootimg releases before 2020 (Debian's
// included) record 2108 and 2124 in header_size: the smaller values are accepted.
constexpr std::uint64_t kHeaderV3 = 2108, kHeaderV4 = 2124, kTableEntry = 108;
constexpr std::array<std::string_view, 4> kRamdiskTypes = {"none", "platform", "recovery", "dlkm"};

struct Layout {
  std::uint32_t version = 0, page = 0;
  std::uint64_t header = 0, ramdisk = 0, dtb = 0, table = 0, entries = 0, entry_size = 0,
                bootconfig = 0;
  std::string name, cmdline;
};

std::uint64_t padded(std::uint64_t bytes, std::uint32_t page) {
  return (bytes + page - 1) / page * page;
}

std::optional<Layout> layout(Bytes d) {
  if (d.size() < kHeaderV4 + 4 || !starts_with(d, "VNDRBOOT")) return std::nullopt;
  const auto u32 = [&](std::uint64_t off) {
    return std::uint64_t(*read_le<std::uint32_t>(d, off));
  };
  Layout l;
  l.version = *read_le<std::uint32_t>(d, 8);
  l.page = *read_le<std::uint32_t>(d, 12);
  l.ramdisk = u32(24);
  l.cmdline = cstr(d, 28, 2048);
  l.name = cstr(d, 2080, 16);
  l.header = u32(2096);
  l.dtb = u32(2100);
  if (l.version != 3 && l.version != 4) return std::nullopt;
  if (l.page < 2048 || l.page > 65536 || (l.page & (l.page - 1))) return std::nullopt;
  // The header is padded to a page: two 2048-byte pages with mkbootimg's default page size.
  if (l.header < (l.version == 3 ? kHeaderV3 : kHeaderV4) || l.header > 65536) return std::nullopt;
  if (l.version == 4) {
    l.table = u32(2112);
    l.entries = u32(2116);
    l.entry_size = u32(2120);
    l.bootconfig = u32(2124);
    if (l.entries > 0 && (l.entry_size < kTableEntry || l.entries * l.entry_size > l.table))
      return std::nullopt;
  }
  return l;
}

std::uint64_t span(const Layout& l) {
  return padded(l.header, l.page) + padded(l.ramdisk, l.page) + padded(l.dtb, l.page) +
         padded(l.table, l.page) + padded(l.bootconfig, l.page);
}

std::optional<Probe> probe(Bytes d) {
  auto l = layout(d);
  if (!l) return std::nullopt;
  return Probe{std::min<std::uint64_t>(span(*l), d.size()),
               fmt::format("Android vendor_boot v{}, {}-byte pages, vendor ramdisk {} bytes, "
                           "dtb {} bytes",
                           l->version, l->page, l->ramdisk, l->dtb)};
}

/// Writes `name` = [off, off+size) of `d`; false (with the error set) when it does not fit.
Result<bool> part(Bytes d, Sink& sink, const std::string& name, std::uint64_t off,
                  std::uint64_t size) {
  if (size == 0) return true;
  if (off > d.size() || size > d.size() - off) {
    (void)sink.file(Entry{name, EntryType::kFile, 0644}, sub(d, std::min(off, d.size())), true);
    return fail(fmt::format("{} of {} bytes runs past the end of the image", name, size), off);
  }
  if (auto st = sink.file(Entry{name, EntryType::kFile, 0644}, sub(d, off, size));
      !st && sink.exhausted())
    return fail_at(st.error(), off);
  return true;
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto l = layout(d);
  if (!l) return fail("bad Android vendor_boot header", 0);
  sink.describe(fmt::format("Android vendor_boot v{}{}{}, cmdline \"{}\"", l->version,
                            l->name.empty() ? "" : ", name ", l->name, l->cmdline));
  const std::uint64_t ramdisk_off = padded(l->header, l->page),
                      dtb_off = ramdisk_off + padded(l->ramdisk, l->page),
                      table_off = dtb_off + padded(l->dtb, l->page),
                      bootconfig_off = table_off + padded(l->table, l->page);
  if (l->entries == 0) {
    if (auto r = part(d, sink, "vendor_ramdisk", ramdisk_off, l->ramdisk); !r)
      return std::unexpected(r.error());
  } else {
    if (l->entries > kMaxVendorRamdisks)
      return fail(fmt::format("vendor ramdisk table lists {} ramdisks (cap {})", l->entries,
                              kMaxVendorRamdisks),
                  table_off);
    if (table_off > d.size() || l->table > d.size() - table_off)
      return fail("vendor ramdisk table runs past the end of the image", table_off);
    for (std::uint64_t i = 0; i < l->entries; ++i) {
      const std::uint64_t e = table_off + i * l->entry_size;
      const std::uint64_t size = *read_le<std::uint32_t>(d, e),
                          off = *read_le<std::uint32_t>(d, e + 4);
      const std::uint32_t type = *read_le<std::uint32_t>(d, e + 8);
      if (off > l->ramdisk || size > l->ramdisk - off)
        return fail(fmt::format("vendor ramdisk {} ({} bytes at {}) lies outside the vendor "
                                "ramdisk section of {} bytes",
                                i, size, off, l->ramdisk),
                    e);
      const std::string name =
          fmt::format("vendor_ramdisk_{:02}_{}_{}", i,
                      type < kRamdiskTypes.size() ? kRamdiskTypes[type] : "other",
                      safe_file_name(cstr(d, e + 12, 32), "unnamed"));
      if (auto r = part(d, sink, name, ramdisk_off + off, size); !r)
        return std::unexpected(r.error());
    }
  }
  if (auto r = part(d, sink, "dtb", dtb_off, l->dtb); !r) return std::unexpected(r.error());
  if (auto r = part(d, sink, "bootconfig", bootconfig_off, l->bootconfig); !r)
    return std::unexpected(r.error());
  return std::min<std::uint64_t>(span(*l), d.size());
}

}  // namespace

const Format kFormat_android_vendor_boot = make_format(kind::kFirmwareHeader, "android_vendor_boot",
                                                       kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
