#include <fmt/format.h>

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

json manifest_json(const ArtifactTree& t) {
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
    regions.push_back(std::move(j));
  }
  json files = json::array();
  for (const auto& f : t.files) files.push_back(file_json(f));
  json warnings = json::array();
  for (const auto& w : t.warnings) warnings.push_back(warning_json(w));
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
            {"format_seconds", t.limits.format_seconds}}},
          {"stats",
           {{"files", t.stats.files},
            {"entries", t.stats.entries},
            {"bytes_written", t.stats.bytes_written},
            {"elapsed_ms", t.stats.elapsed_ms}}},
          {"containers", std::move(containers)},
          {"regions", std::move(regions)},
          {"files", std::move(files)},
          {"warnings", std::move(warnings)}};
}

}  // namespace probity
