#include <fmt/format.h>

#include "probity/hash.hpp"
#include "probity/json.hpp"

namespace probity {

using nlohmann::json;

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
