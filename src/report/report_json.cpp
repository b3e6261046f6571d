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

json suppression_json(const Suppression& s) {
  return {{"state", s.state},
          {"justification", s.justification},
          {"by", s.by},
          {"detail", s.detail},
          {"date", s.date}};
}

json finding_json(const Finding& f) {
  json j = {{"id", f.id},
            {"rule", f.rule},
            {"category", f.category},
            {"severity", to_string(f.severity)},
            {"path", f.path},
            {"container", f.container},
            {"message", f.message},
            {"evidence",
             {{"excerpt", f.evidence.excerpt},
              {"offset", f.evidence.offset},
              {"related", f.evidence.related}}}};
  if (!f.evidence.fingerprint.empty()) j["evidence"]["fingerprint"] = f.evidence.fingerprint;
  if (f.suppression) j["suppression"] = suppression_json(*f.suppression);
  return j;
}

json verdict_json(const Verdict& v) {
  json clauses = json::array();
  for (const auto& c : v.clauses)
    clauses.push_back({{"id", c.id},
                       {"text", c.text},
                       {"result", c.pass ? "pass" : "fail"},
                       {"findings", c.findings},
                       {"vulnerabilities", c.vulnerabilities}});
  return {{"policy", v.policy},
          {"policy_digest", v.policy_sha256},
          {"result", v.pass ? "pass" : "fail"},
          {"clauses", std::move(clauses)}};
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
  for (std::size_t i = 0; i < r.vulnerabilities.size(); ++i)
    if (r.vulnerabilities[i].suppression)
      vulns[i]["suppression"] = suppression_json(*r.vulnerabilities[i].suppression);
  json findings = json::array();
  for (const auto& f : r.findings) findings.push_back(finding_json(f));
  json warnings = json::array();
  for (const auto& w : t.warnings) warnings.push_back(warning_json(w));
  return {
      {"schema", "probity-report"},
      {"schema_version", kReportSchemaVersion},
      {"tool", {{"name", "probity"}, {"version", PROBITY_VERSION}}},
      {"image", image_json(t.image)},
      {"coverage", coverage_json(t.coverage)},
      {"files", std::move(files)},
      {"components", std::move(components)},
      {"vulnerabilities", std::move(vulns)},
      {"db_snapshot", r.db_snapshot.empty() ? json(nullptr) : json(r.db_snapshot)},
      {"findings", std::move(findings)},
      {"verdict", r.verdict ? verdict_json(*r.verdict) : json(nullptr)},
      {"policy", r.verdict ? json{{"name", r.verdict->policy}, {"sha256", r.verdict->policy_sha256}}
                           : json(nullptr)},
      {"warnings", std::move(warnings)}};
}

}  // namespace probity
