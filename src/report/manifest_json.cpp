#include <fmt/format.h>

#include "probity/hash.hpp"
#include "probity/json.hpp"

namespace probity {

using nlohmann::json;

namespace {

std::string octal_mode(std::uint32_t mode) {
  return fmt::format("{:04o}", mode & 07777);
}

json origin_json(const std::vector<OriginStep>& origin) {
  json a = json::array();
  for (const auto& s : origin)
    a.push_back({{"source", s.source}, {"offset", s.offset}, {"format", s.format}});
  return a;
}

}  // namespace

std::string dump_json(const json& j, int indent) {
  return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

bool write_json_streaming(std::ostream& out, const json& doc,
                          const std::vector<FileRecord>& files) {
  const std::string text = dump_json(doc);
  constexpr std::string_view kSlot = "\n  \"files\": []";
  const auto at = text.find(kSlot);
  if (at == std::string::npos || files.empty()) {
    out << text << "\n";
    return bool(out);
  }
  out.write(text.data(), std::streamsize(at + kSlot.size() - 1));
  std::string indented;
  for (std::size_t i = 0; i < files.size(); ++i) {
    // As dump_json(doc) would print it: each record two levels deep.
    const std::string one = dump_json(file_json(files[i]));
    indented.assign("\n    ");
    for (char c : one) {
      indented.push_back(c);
      if (c == '\n') indented.append("    ");
    }
    if (i + 1 < files.size()) indented.push_back(',');
    out << indented;
  }
  out << "\n  " << std::string_view(text).substr(at + kSlot.size() - 1) << "\n";
  return bool(out);
}

namespace {

std::span<const std::uint8_t> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

/// True when `s` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool is_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = std::uint8_t(s[i]);
    const std::size_t n = c < 0x80         ? 1
                          : (c >> 5) == 6  ? 2
                          : (c >> 4) == 14 ? 3
                          : (c >> 3) == 30 ? 4
                                           : 0;
    if (n == 0 || i + n > s.size()) return false;
    std::uint32_t cp = n == 1 ? c : c & (0x7f >> n);
    for (std::size_t k = 1; k < n; ++k) {
      const auto b = std::uint8_t(s[i + k]);
      if ((b & 0xc0) != 0x80) return false;
      cp = cp << 6 | (b & 0x3f);
    }
    /// UTF-8's shortest encodings, not a cap.
    static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n;
  }
  return true;
}

}  // namespace

json file_json(const FileRecord& f) {
  json j = {{"path", f.path},
            {"container", f.container},
            {"origin", origin_json(f.origin)},
            {"type", to_string(f.type)},
            {"size", f.size},
            {"mode", octal_mode(f.mode)},
            {"uid", f.uid},
            {"gid", f.gid},
            {"mtime", f.mtime}};
  if (f.type == EntryType::kFile) {
    j["sha256"] = f.sha256;
    j["kind"] = f.kind.empty() ? "data" : f.kind;
  }
  if (f.type == EntryType::kSymlink || f.type == EntryType::kHardlink) j["link"] = f.link;
  if (f.mode & 04000) j["setuid"] = true;
  if (f.mode & 02000) j["setgid"] = true;
  if (f.elf) {
    j["arch"] = f.elf->arch;
    j["bits"] = f.elf->bits;
    j["endian"] = f.elf->endian;
    j["elf_type"] = f.elf->type;
  }
  if (!f.extracted.empty()) j["extracted"] = f.extracted;
  // A name that is not UTF-8 is shown with U+FFFD, so two such names can print alike: the raw
  // bytes keep them apart (and let a reader open the extracted file).
  if (!is_utf8(f.path)) j["path_hex"] = to_hex(as_bytes(f.path));
  if (!f.extracted.empty() && !is_utf8(f.extracted))
    j["extracted_hex"] = to_hex(as_bytes(f.extracted));
  if (f.truncated) j["truncated"] = true;
  return j;
}

json image_json(const ImageInfo& i) {
  return {{"path", i.path}, {"name", i.name}, {"sha256", i.sha256}, {"size", i.size}};
}

json coverage_json(const Coverage& c) {
  return {{"bytes", c.bytes},
          {"understood", c.understood},
          {"share", std::round(c.share() * 10000) / 10000}};
}

json warning_json(const Warning& w) {
  return {{"code", w.code},
          {"message", w.message},
          {"container", w.container},
          {"entry", w.entry},
          {"offset", w.offset}};
}

json manifest_json(const ArtifactTree& t, bool with_files) {
  json containers = json::array();
  for (const auto& c : t.containers)
    containers.push_back({{"id", c.id},
                          {"parent", c.parent},
                          {"source", c.source},
                          {"offset", c.offset},
                          {"length", c.length},
                          {"format", c.format},
                          {"description", c.description},
                          {"dir", c.dir},
                          {"depth", c.depth},
                          {"complete", c.complete}});
  json regions = json::array();
  for (const auto& r : t.regions) {
    json j = {{"container", r.container},   {"source", r.source},
              {"offset", r.offset},         {"size", r.size},
              {"understood", r.understood}, {"entropy", std::round(r.entropy * 1000) / 1000}};
    j["format"] = r.format.empty() ? json(nullptr) : json(r.format);
    if (r.not_looked_into) j["not_looked_into"] = true;
    if (r.encrypted) j["encrypted"] = true;
    regions.push_back(std::move(j));
  }
  json files = json::array();
  if (with_files)
    for (const auto& f : t.files) files.push_back(file_json(f));
  json warnings = json::array();
  for (const auto& w : t.warnings) warnings.push_back(warning_json(w));
  json roots = json::array();
  for (const auto& rf : find_root_filesystems(t))
    roots.push_back({{"container", rf.container}, {"format", rf.format}, {"markers", rf.markers}});
  json encrypted = json::array();
  for (const auto& e : find_encrypted_regions(t))
    encrypted.push_back(
        {{"container", e.region->container},
         {"source", e.region->source},
         {"offset", e.region->offset},
         {"size", e.region->size},
         {"entropy", std::round(e.region->entropy * 1000) / 1000},
         {"claimed_by", e.claimed_by.empty() ? json(nullptr) : json(e.claimed_by)}});
  return {{"schema", "probity-manifest"},
          {"schema_version", kManifestSchemaVersion},
          {"tool", {{"name", "probity"}, {"version", PROBITY_VERSION}}},
          {"image", image_json(t.image)},
          {"coverage", coverage_json(t.coverage)},
          {"limits",
           {{"max_total_bytes", t.limits.max_total_bytes},
            {"max_file_bytes", t.limits.max_file_bytes},
            {"max_ratio", t.limits.max_ratio},
            {"max_depth", t.limits.max_depth},
            {"max_entries", t.limits.max_entries},
            {"max_record_bytes", t.limits.max_record_bytes},
            {"max_carve_candidates", t.limits.max_carve_candidates},
            {"format_seconds", t.limits.format_seconds}}},
          {"stats",
           {{"files", t.stats.files},
            {"entries", t.stats.entries},
            {"bytes_written", t.stats.bytes_written},
            {"elapsed_ms", t.stats.elapsed_ms}}},
          {"containers", std::move(containers)},
          {"regions", std::move(regions)},
          {"root_filesystems", std::move(roots)},
          {"encrypted", std::move(encrypted)},
          {"files", std::move(files)},
          {"warnings", std::move(warnings)}};
}

}  // namespace probity
