// Flattened device tree (dtb): the blob is written as devicetree.dtb and decompiled by our own
// parser (src/unpack/fdt_parser.hpp) into devicetree.dts. A U-Boot FIT image is also an FDT; the
// fit format sits before this one in the registry and claims those.
#include <fmt/format.h>

#include "probity/limits.hpp"
#include "unpack/fdt_parser.hpp"
#include "unpack/format.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"\xd0\x0d\xfe\xed", 0}};
constexpr std::string_view kDescription = "flattened device tree (dtb), decompiled to .dts";

std::string model_of(const fdt::Tree& t) {
  if (t.nodes.empty()) return {};
  std::string m = t.nodes[0].str("model");
  if (m.empty()) m = t.nodes[0].str("compatible");
  return m;
}

std::optional<Probe> probe(Bytes d) {
  auto h = fdt::parse_header(d);
  if (!h) return std::nullopt;
  // The structure block starts with the root's FDT_BEGIN_NODE (possibly after NOPs).
  auto tok = read_be<std::uint32_t>(d, h->off_struct);
  if (tok && *tok != 1 && *tok != 4) return std::nullopt;
  return Probe{std::min<std::uint64_t>(h->totalsize, d.size()),
               fmt::format("device tree v{}, {} bytes", h->version, h->totalsize)};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto t = fdt::parse(d);
  if (!t) return fail("bad device tree header", 0);
  const std::uint64_t total = t->header.totalsize;
  const Bytes blob = sub(d, 0, total);
  const std::string model = model_of(*t);
  sink.describe(fmt::format("device tree v{}, {} nodes{}", t->header.version, t->nodes.size(),
                            model.empty() ? "" : ", model \"" + model + "\""));
  if (blob.size() < total)
    sink.warn("format-error", fmt::format("device tree truncated: header says {} bytes, {} present",
                                          total, blob.size()));
  if (auto st = sink.file(Entry{"devicetree.dtb"}, blob); !st) return fail(st.error().message, 0);
  const std::string dts = fdt::to_dts(*t, kMaxDtsValueBytes);
  if (auto st = sink.file(Entry{"devicetree.dts"},
                          Bytes(reinterpret_cast<const std::uint8_t*>(dts.data()), dts.size()));
      !st)
    return fail(st.error().message, 0);
  if (!t->error.empty()) return fail("device tree: " + t->error, t->error_offset);
  return blob.size();
}

}  // namespace

const Format kFormat_fdt =
    make_format(kind::kFirmwarePackage, "fdt", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
