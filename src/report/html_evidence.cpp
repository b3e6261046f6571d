// report.html's extras that report.json does not hold: the image map (the image's top-level
// regions) and, per finding, a view of the evidence (the container chain, a hexdump and the
// strings around the offset in the extracted file, read through TreeFiles).
#include <fmt/format.h>

#include <map>
#include <optional>

#include "probity/limits.hpp"
#include "probity/outputs.hpp"
#include "probity/tree_files.hpp"

namespace probity {

using nlohmann::json;

namespace {

bool printable(std::uint8_t c) {
  return c >= 0x20 && c < 0x7f;
}

json hexdump(std::span<const std::uint8_t> b, std::uint64_t base) {
  json lines = json::array();
  for (std::uint64_t at = 0; at < b.size(); at += 16) {
    std::string hex, ascii;
    for (std::uint64_t i = at; i < at + 16; ++i) {
      if (i < b.size()) {
        hex += fmt::format("{:02x} ", b[i]);
        ascii += printable(b[i]) ? char(b[i]) : '.';
      } else {
        hex += "   ";
      }
    }
    lines.push_back(fmt::format("{:08x}  {} {}", base + at, hex, ascii));
  }
  return lines;
}

json strings_in(std::span<const std::uint8_t> b, std::uint64_t base) {
  json out = json::array();
  std::uint64_t start = 0;
  for (std::uint64_t i = 0; i <= b.size(); ++i) {
    if (i < b.size() && printable(b[i])) continue;
    if (i - start >= 4 && out.size() < 64)
      out.push_back({{"offset", base + start},
                     {"text", std::string(reinterpret_cast<const char*>(b.data() + start),
                                          std::min<std::uint64_t>(i - start, 200))}});
    start = i + 1;
  }
  return out;
}

}  // namespace

json html_extras(const Report& r, const std::filesystem::path& out) {
  const auto& t = r.tree;
  json regions = json::array();
  std::size_t more = 0;
  for (const auto& g : t.regions) {
    if (g.container != 0) continue;
    if (regions.size() >= kMaxHtmlRegions) {
      ++more;
      continue;
    }
    regions.push_back({{"offset", g.offset},
                       {"size", g.size},
                       {"format", g.format},
                       {"understood", g.understood},
                       {"entropy", std::round(g.entropy * 100) / 100}});
  }
  json evidence = json::object();
  auto tree = TreeFiles::open(out);
  std::map<std::pair<std::uint32_t, std::string>, const FileRecord*> by_path;
  for (const auto& f : t.files)
    if (f.type == EntryType::kFile) by_path.emplace(std::pair{f.container, f.path}, &f);
  std::size_t views = 0;
  // Each file is mapped once for all its findings (a library with 50 CVE findings: one map).
  std::map<const FileRecord*, std::optional<MappedFile>> mapped;
  for (const auto& f : r.findings) {
    if (f.path.empty() || views >= kMaxHtmlEvidenceViews) continue;
    const auto it = by_path.find({f.container, f.path});
    if (it == by_path.end()) continue;
    const FileRecord& rec = *it->second;
    json v;
    std::string chain;
    for (const auto& step : rec.origin)
      chain += fmt::format("{}{} @0x{:x} ({})", chain.empty() ? "" : " \u2192 ", step.source,
                           step.offset, step.format);
    v["chain"] = chain + (chain.empty() ? "" : " \u2192 ") + rec.path;
    v["size"] = rec.size;
    v["sha256"] = rec.sha256;
    if (tree && !rec.extracted.empty()) {
      auto [at_file, fresh] = mapped.try_emplace(&rec);
      if (fresh)
        if (auto m = tree->map(rec)) at_file->second = std::move(*m);
      if (const auto& m = at_file->second; m && m->size() > 0) {
        const auto bytes = m->bytes();
        const std::uint64_t at = std::min<std::uint64_t>(f.evidence.offset, bytes.size() - 1);
        const std::uint64_t h0 =
            at > kHtmlHexdumpBytes / 4 ? (at - kHtmlHexdumpBytes / 4) & ~15ull : 0;
        const std::uint64_t h1 = std::min<std::uint64_t>(bytes.size(), h0 + kHtmlHexdumpBytes);
        v["offset"] = at;
        v["hexdump"] = hexdump(bytes.subspan(h0, h1 - h0), h0);
        const std::uint64_t s0 = at > kHtmlStringsWindow / 2 ? at - kHtmlStringsWindow / 2 : 0;
        const std::uint64_t s1 = std::min<std::uint64_t>(bytes.size(), s0 + kHtmlStringsWindow);
        v["strings"] = strings_in(bytes.subspan(s0, s1 - s0), s0);
      }
    }
    evidence[f.id] = std::move(v);
    ++views;
  }
  return {{"image_size", t.image.size},
          {"regions", std::move(regions)},
          {"regions_not_drawn", more},
          {"evidence", std::move(evidence)}};
}

}  // namespace probity
