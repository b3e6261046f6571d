// MaxLinear (formerly Intel) Puma "UImage" cable-modem firmware, versions 2 and 3, as
// fact_extractor's MaxLinear plugin describes them: a big-endian header — "VER2" or "VER3", a
// 20-byte image name ("Intel_Unified_Image"), seven 32-bit fields of which the fifth is the number
// of parts, a digest area (40 bytes in version 2, 80 in version 3; not checked: its algorithm is
// not public), the part sizes (10 or 20 big-endian 32-bit words), the part types (10 or 20
// bytes) and reserved bytes — then the parts back to back. Known types name the parts
// (2 atomkernel.img, 3 atomrootfs.hsqs, 8 armkernel.img, 9 armrootfs.hsqs, 10 gwrootfs.bin);
// each part is written as a file and carved again. An image signed for DOCSIS starts with the
// DER signature in front of the header (the `der`-less carve finds the header behind it).
#include <fmt/format.h>

#include <set>

#include "unpack/format.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"VER2", 0, true}, {"VER3", 0, true}};
constexpr std::string_view kDescription = "MaxLinear/Intel Puma UImage v2/v3";

struct Layout {
  unsigned version = 0;
  std::uint64_t header = 0;  ///< 160 (v2) or 252 (v3) bytes
  std::string name;
  std::vector<std::pair<std::uint8_t, std::uint64_t>> parts;  ///< (type, size)
  [[nodiscard]] std::uint64_t total() const {
    std::uint64_t t = header;
    for (const auto& p : parts) t += p.second;
    return t;
  }
};

std::optional<Layout> parse(Bytes d) {
  Layout l;
  if (starts_with(d, "VER2"))
    l.version = 2, l.header = 160;
  else if (starts_with(d, "VER3"))
    l.version = 3, l.header = 252;
  else
    return std::nullopt;
  if (d.size() < l.header) return std::nullopt;
  const std::uint64_t max_parts = l.version == 2 ? 10 : 20, digest = l.version == 2 ? 40 : 80;
  // The name: printable text of at least 4 characters, then NULs.
  bool ended = false;
  for (std::uint8_t c : sub(d, 4, 20)) {
    if (c == 0) {
      ended = true;
      continue;
    }
    if (ended || c < 0x20 || c > 0x7e) return std::nullopt;
    l.name.push_back(char(c));
  }
  if (l.name.size() < 4) return std::nullopt;
  const std::uint32_t count = *read_be<std::uint32_t>(d, 24 + 4 * 4);
  if (count == 0 || count > max_parts) return std::nullopt;
  const std::uint64_t sizes = 24 + 7 * 4 + digest, types = sizes + 4 * max_parts;
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::uint64_t size = *read_be<std::uint32_t>(d, sizes + 4 * i);
    if (size) l.parts.emplace_back(d[types + i], size);
  }
  // Sizes past a count the header does not claim must be zero.
  for (std::uint64_t i = count; i < max_parts; ++i)
    if (*read_be<std::uint32_t>(d, sizes + 4 * i) != 0) return std::nullopt;
  if (l.parts.empty()) return std::nullopt;
  return l;
}

std::string_view part_name(std::uint8_t type) {
  switch (type) {
    case 2:
      return "atomkernel.img";
    case 3:
      return "atomrootfs.hsqs";
    case 8:
      return "armkernel.img";
    case 9:
      return "armrootfs.hsqs";
    case 10:
      return "gwrootfs.bin";
    default:
      return {};
  }
}

std::string describe(const Layout& l) {
  return fmt::format("MaxLinear UImage v{} \"{}\", {} parts", l.version, l.name, l.parts.size());
}

std::optional<Probe> probe(Bytes d) {
  auto l = parse(d);
  if (!l) return std::nullopt;
  return Probe{std::min<std::uint64_t>(l->total(), d.size()), describe(*l)};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto l = parse(d);
  if (!l) return fail("bad MaxLinear UImage header", 0);
  sink.describe(describe(*l) + " (digest not checked)");
  std::uint64_t at = l->header;
  std::set<std::string> used;
  for (std::size_t i = 0; i < l->parts.size(); ++i) {
    const auto [type, size] = l->parts[i];
    std::string name(part_name(type));
    if (name.empty() || !used.insert(name).second)
      name = fmt::format("part-{}-type-{}.bin", i, type);
    const Bytes data = sub(d, at, size);
    if (auto st = sink.file(Entry{name}, data, data.size() < size); !st && sink.exhausted())
      return fail_at(st.error(), at);
    if (data.size() < size)
      return fail(fmt::format("MaxLinear UImage truncated in part {}: {} of {} bytes", i,
                              data.size(), size),
                  d.size());
    at += size;
  }
  return at;
}

}  // namespace

const Format kFormat_maxlinear_uimage =
    make_format(kind::kFirmwareHeader, "maxlinear_uimage", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
