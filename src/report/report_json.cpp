// report.json: everything `probity scan` learned about one image (docs/report-schema.md).
#include <cmath>

#include "probity/json.hpp"
#include "probity/triage.hpp"

namespace probity {

using nlohmann::json;

json component_json(const Component& c) {
  json evidence = json::array();
  for (const auto& e : c.evidence)
    evidence.push_back({{"path", e.path},
                        {"container", e.container},
                        {"offset", e.offset},
                        {"excerpt", e.excerpt},
                        {"method", e.method},
                        {"kind", e.kind},
                        {"confidence", e.confidence}});
  json j = {{"name", c.name},       {"confidence", combined_confidence(c.evidence)},
            {"version", c.version}, {"vendor", c.vendor},
            {"purl", c.purl},       {"cpe", c.cpe},
            {"source", c.source},   {"evidence", evidence}};
  if (!c.cpe_aliases.empty()) j["cpe_aliases"] = c.cpe_aliases;
  if (c.eol)
    j["eol"] = {{"cycle", c.eol->cycle}, {"date", c.eol->date}, {"reached", c.eol->reached}};
  // The distribution's package version backports are judged against (docs/vulndb.md).
  if (!c.distro_version.empty()) {
    j["distro"] = c.distro;
    j["distro_version"] = c.distro_version;
  }
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
  json reasons = json::array();
  for (const auto& r : v.reasons)
    reasons.push_back({{"code", r.code}, {"text", r.text}, {"evidence", r.evidence}});
  return {{"policy", v.policy},
          {"policy_digest", v.policy_sha256},
          {"result", v.result},
          {"reasons", std::move(reasons)},
          {"clauses", std::move(clauses)}};
}

json facts_json(const Facts& x) {
  json accounts = json::array(), services = json::array(), endpoints = json::array(),
       keys = json::array(), hardening = json::array();
  for (const auto& a : x.accounts)
    accounts.push_back({{"name", a.name},
                        {"uid", a.uid},
                        {"gid", a.gid},
                        {"shell", a.shell},
                        {"home", a.home},
                        {"path", a.path},
                        {"location", a.location},
                        {"password", a.password},
                        {"password_digest", a.password_digest}});
  for (const auto& s : x.services)
    services.push_back({{"name", s.name},
                        {"command", s.command},
                        {"path", s.path},
                        {"location", s.location},
                        {"how", s.how}});
  for (const auto& e : x.endpoints)
    endpoints.push_back({{"value", e.value},
                         {"kind", e.kind},
                         {"class", e.cls},
                         {"path", e.path},
                         {"location", e.location}});
  for (const auto& k : x.keys)
    keys.push_back({{"role", k.role},
                    {"type", k.type},
                    {"bits", k.bits},
                    {"fingerprint", k.fingerprint},
                    {"path", k.path},
                    {"location", k.location}});
  for (const auto& h : x.hardening)
    hardening.push_back({{"path", h.path},
                         {"location", h.location},
                         {"executable", h.executable},
                         {"nx", h.nx},
                         {"pie", h.pie},
                         {"relro", h.relro},
                         {"canary", h.canary},
                         {"fortify", h.fortify},
                         {"rpath", h.rpath},
                         {"stripped", h.stripped}});
  return {{"accounts", std::move(accounts)},
          {"services", std::move(services)},
          {"endpoints", std::move(endpoints)},
          {"keys", std::move(keys)},
          {"hardening", std::move(hardening)}};
}

json report_json(const Report& r, bool with_files) {
  const auto& t = r.tree;
  json files = json::array();
  if (with_files)
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
  for (std::size_t i = 0; i < r.vulnerabilities.size(); ++i) {
    const auto& v = r.vulnerabilities[i];
    if (v.suppression) vulns[i]["suppression"] = suppression_json(*v.suppression);
    // Triage (docs/vulndb.md): KEV, EPSS, reachability with its chain, and the judgement
    // against a backport or stable branch.
    vulns[i]["kev"] =
        v.kev ? json{{"date_added", v.kev->date_added},
                     {"due_date", v.kev->due_date.empty() ? json(nullptr) : json(v.kev->due_date)}}
              : json(nullptr);
    vulns[i]["epss"] =
        v.epss ? json{{"score", v.epss->score}, {"percentile", v.epss->percentile}} : json(nullptr);
    vulns[i]["reachability"] = {{"state", v.reachability.state}, {"chain", v.reachability.chain}};
    vulns[i]["status"] = v.status;
    if (!v.status_evidence.empty()) vulns[i]["status_evidence"] = v.status_evidence;
  }
  json fix = json::array();
  for (const auto& f : fix_first(r.vulnerabilities)) {
    const auto& v = r.vulnerabilities[f.index];
    fix.push_back({{"id", v.id},
                   {"component", v.component},
                   {"version", v.version},
                   {"tier", f.tier},
                   {"reason", f.reason}});
  }
  json findings = json::array();
  for (const auto& f : r.findings) findings.push_back(finding_json(f));
  json warnings = json::array();
  for (const auto& w : t.warnings) warnings.push_back(warning_json(w));
  json j = {
      {"schema", "probity-report"},
      {"schema_version", kReportSchemaVersion},
      {"tool", {{"name", "probity"}, {"version", PROBITY_VERSION}}},
      {"image", image_json(t.image)},
      {"coverage", coverage_json(t.coverage)},
      {"files", std::move(files)},
      {"components", std::move(components)},
      {"vulnerabilities", std::move(vulns)},
      {"fix_first", std::move(fix)},
      {"db_snapshot", r.db_snapshot.empty() ? json(nullptr) : json(r.db_snapshot)},
      {"db_snapshot_date", r.db_snapshot_date.empty() ? json(nullptr) : json(r.db_snapshot_date)},
      {"db_age_days", r.db_age_days ? json(*r.db_age_days) : json(nullptr)},
      {"findings", std::move(findings)},
      {"verdict", r.verdict ? verdict_json(*r.verdict) : json(nullptr)},
      {"policy", r.verdict ? json{{"name", r.verdict->policy}, {"sha256", r.verdict->policy_sha256}}
                           : json(nullptr)},
      {"warnings", std::move(warnings)}};
  if (r.facts) j["facts"] = facts_json(*r.facts);
  return j;
}

}  // namespace probity
