// Huawei HWNP upgrade packets (ONT/HG routers), as HuaweiFirmwareTool and BANG describe them: a
// 36-byte header ("HWNP"; the packet size less 76, big-endian; a CRC-32 from offset 12 to the end
// of the item data; the header size; a CRC-32 from offset 20 to the end of the item table; the
// item count; a 16-bit product-list size; the item record size, 360), the product list (text:
// "COMMON|CMCC|..."), the item records (index, the item data's CRC-32, data offset and size from
// the start of the packet, a 256-byte name such as "flash:kernel" or "file:/var/UpgradeCheck.xml",
// a 16-byte section, a 64-byte version, a policy) and the item data. Every CRC-32 is checked
// (`crc-mismatch`); each item becomes a file named after the path in its name.
#include <fmt/format.h>

#include "probity/limits.hpp"
#include "unpack/format.hpp"
#include "unpack/vendor.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"HWNP", 0}};
constexpr std::string_view kDescription = "Huawei HWNP upgrade packet (CRC-32 checked)";
constexpr std::uint64_t kHeader = 36;
constexpr std::uint32_t kItemRecord = 360;

struct Header {
  std::uint32_t size_field = 0, crc_all = 0, header_size = 0, crc_header = 0, items = 0;
  std::uint32_t product_list = 0, item_size = 0;
  [[nodiscard]] std::uint64_t table_end() const {
    return kHeader + product_list + std::uint64_t(items) * item_size;
  }
};

std::optional<Header> parse(Bytes d) {
  if (!starts_with(d, "HWNP") || d.size() < kHeader) return std::nullopt;
  Header h;
  h.size_field = *read_be<std::uint32_t>(d, 4);
  h.crc_all = *read_le<std::uint32_t>(d, 8);
  h.header_size = *read_le<std::uint32_t>(d, 12);
  h.crc_header = *read_le<std::uint32_t>(d, 16);
  h.items = *read_le<std::uint32_t>(d, 20);
  h.product_list = *read_le<std::uint16_t>(d, 26);
  h.item_size = *read_le<std::uint32_t>(d, 28);
  if (h.items == 0 || h.items > kMaxHwnpItems || h.item_size != kItemRecord) return std::nullopt;
  return h;
}

std::optional<Probe> probe(Bytes d) {
  auto h = parse(d);
  if (!h) return std::nullopt;
  return Probe{0, fmt::format("Huawei HWNP, {} items", h->items)};
}

/// The path an item name gives: what follows "flash:" or "file:", without leading slashes.
std::string item_path(std::string name, std::uint32_t index) {
  if (auto colon = name.find(':'); colon != std::string::npos) name = name.substr(colon + 1);
  while (!name.empty() && name.front() == '/') name.erase(0, 1);
  return name.empty() ? fmt::format("item{}", index) : name;
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto h = parse(d);
  if (!h) return fail("bad HWNP header", 0);
  if (d.size() < h->table_end())
    return fail(fmt::format("HWNP item table truncated: {} bytes needed, {} present",
                            h->table_end(), d.size()),
                d.size());
  if (crc32_of(sub(d, 20, h->table_end() - 20)) != h->crc_header)
    sink.warn("crc-mismatch",
              "HWNP header CRC-32 (offset 20 to the end of the item table) "
              "does not match",
              {}, 16);
  const std::string products = cstr(d, kHeader, h->product_list);
  std::uint64_t end = h->table_end();
  std::uint32_t written = 0;
  bool cut = false;
  for (std::uint32_t i = 0; i < h->items; ++i) {
    const std::uint64_t rec = kHeader + h->product_list + std::uint64_t(i) * h->item_size;
    const std::uint32_t crc = *read_le<std::uint32_t>(d, rec + 4);
    const std::uint64_t off = *read_le<std::uint32_t>(d, rec + 8);
    const std::uint64_t size = *read_le<std::uint32_t>(d, rec + 12);
    const std::string name = cstr(d, rec + 16, 256);
    const std::string section = cstr(d, rec + 272, 16);
    if (off < h->table_end() && size > 0) {
      sink.warn("format-error",
                fmt::format("HWNP item {} data at 0x{:x} overlaps the header", i, off), name, rec);
      continue;
    }
    const Bytes data = sub(d, off, size);
    const bool short_data = data.size() < size;
    const std::string path = item_path(name, i);
    if (short_data) {
      cut = true;
      sink.warn(
          "format-error",
          fmt::format("HWNP item {} ({}) truncated: {} of {} bytes", i, section, data.size(), size),
          path, off);
    } else if (crc32_of(data) != crc) {
      sink.warn("crc-mismatch", fmt::format("HWNP item {} ({}) CRC-32 does not match", i, section),
                path, rec + 4);
    }
    if (auto st = sink.file(Entry{path}, data, short_data); !st) {
      if (sink.exhausted()) return fail(st.error().message, rec);
    } else {
      ++written;
    }
    end = std::max(end, off + data.size());
  }
  if (!cut && crc32_of(sub(d, 12, end - 12)) != h->crc_all)
    sink.warn("crc-mismatch",
              "HWNP packet CRC-32 (offset 12 to the end of the data) does not match", {}, 8);
  sink.describe(fmt::format("Huawei HWNP, {} items, products \"{}\"", written, products));
  if (cut) return fail("HWNP packet truncated", d.size());
  return end;
}

}  // namespace

const Format kFormat_huawei_hwnp =
    make_format(kind::kFirmwarePackage, "huawei_hwnp", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
