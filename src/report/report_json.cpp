// report.json: everything `probity scan` learned about one image (docs/report-schema.md).
#include <cmath>

#include "probity/json.hpp"

namespace probity {

using nlohmann::json;

json component_json(const Component& c) {
  json evidence = json::array();
  for (const auto& e : c.evidence)
    evidence.push_back({{"path", e.path},
                        {"container", e.container},
                        {"offset", e.offset},
                        {"excerpt", e.excerpt},
                        {"method", e.method}});
  json j = {{"name", c.name}, {"version", c.version}, {"vendor", c.vendor},  {"purl", c.purl},
            {"cpe", c.cpe},   {"source", c.source},   {"evidence", evidence}};
  if (c.eol)
    j["eol"] = {{"cycle", c.eol->cycle}, {"date", c.eol->date}, {"reached", c.eol->reached}};
  return j;
}

json report_json(const Report& r) {
  const auto& t = r.tree;
  json files = json::array();
  for (const auto& f : t.files) files.push_back(file_json(f));
  json components = json::array();
  for (const auto& c : r.components) components.push_back(component_json(c));
  json vulns = json::array();
  for (const auto& v : r.vulnerabilities)
    vulns.push_back({{"id", v.id},
                     {"component", v.component},
                     {"version", v.version},
                     {"severity", v.severity},
                     {"cvss", std::round(v.cvss * 10) / 10},
                     {"cvss_vector", v.cvss_vector},
                     {"fixed_in", v.fixed_in},
                     {"cwe", v.cwe},
                     {"description", v.description},
                     {"published", v.published}});
  json warnings = json::array();
  for (const auto& w : t.warnings)
    warnings.push_back({{"code", w.code},
                        {"message", w.message},
                        {"container", w.container},
                        {"entry", w.entry},
                        {"offset", w.offset}});
  return {{"schema", "probity-report"},
          {"schema_version", kReportSchemaVersion},
          {"tool", {{"name", "probity"}, {"version", PROBITY_VERSION}}},
          {"image",
           {{"path", t.image.path},
            {"name", t.image.name},
            {"sha256", t.image.sha256},
            {"size", t.image.size}}},
          {"coverage",
           {{"bytes", t.coverage.bytes},
            {"understood", t.coverage.understood},
            {"share", std::round(t.coverage.share() * 10000) / 10000}}},
          {"files", std::move(files)},
          {"components", std::move(components)},
          {"vulnerabilities", std::move(vulns)},
          {"db_snapshot", r.db_snapshot.empty() ? json(nullptr) : json(r.db_snapshot)},
          {"warnings", std::move(warnings)}};
}

}  // namespace probity
