// diff.json: the Delta as JSON (docs/report-schema.md, "diff.json").
#include <fmt/format.h>

#include "probity/checks.hpp"
#include "probity/diff.hpp"
#include "probity/json.hpp"

namespace probity {
namespace {

using nlohmann::json;

json file_side(const FileRecord& f) {
  json j = {{"path", f.path},
            {"location", normalised_location(f)},
            {"type", to_string(f.type)},
            {"mode", fmt::format("{:04o}", f.mode & 07777)},
            {"uid", f.uid},
            {"gid", f.gid}};
  if (f.type == EntryType::kFile) {
    j["size"] = f.size;
    j["sha256"] = f.sha256;
    if (!f.kind.empty()) j["kind"] = f.kind;
  }
  if (f.type == EntryType::kSymlink || f.type == EntryType::kHardlink) j["link"] = f.link;
  return j;
}

json component_side(const Component& c) {
  return {{"name", c.name}, {"version", c.version}, {"purl", c.purl}, {"cpe", c.cpe}};
}

json vuln_side(const Vulnerability& v) {
  json j = {{"id", v.id},           {"component", v.component},
            {"version", v.version}, {"severity", v.severity},
            {"cvss", v.cvss},       {"fixed_in", v.fixed_in}};
  if (v.suppression) j["suppression"] = v.suppression->state;
  return j;
}

json finding_side(const Finding& f) {
  json j = {{"id", f.id},
            {"rule", f.rule},
            {"category", f.category},
            {"severity", to_string(f.severity)},
            {"path", f.path},
            {"message", f.message}};
  if (f.suppression)
    j["suppression"] = {{"state", f.suppression->state}, {"by", f.suppression->by}};
  return j;
}

json account_side(const AccountFact& a) {
  return {{"name", a.name}, {"uid", a.uid},   {"gid", a.gid},          {"shell", a.shell},
          {"home", a.home}, {"path", a.path}, {"password", a.password}};
}

json service_side(const ServiceFact& s) {
  return {{"name", s.name}, {"command", s.command}, {"how", s.how}, {"path", s.path}};
}

json endpoint_side(const EndpointFact& e) {
  return {{"value", e.value}, {"kind", e.kind}, {"class", e.cls}, {"path", e.path}};
}

json key_side(const KeyFact& k) {
  return {{"role", k.role},
          {"type", k.type},
          {"bits", k.bits},
          {"fingerprint", k.fingerprint},
          {"path", k.path}};
}

template <class T, class F>
json list(const std::vector<T>& v, F f) {
  json a = json::array();
  for (const auto& x : v) a.push_back(f(x));
  return a;
}

}  // namespace

json delta_json(const Delta& d) {
  json files = {{"added", list(d.files.added, file_side)},
                {"removed", list(d.files.removed, file_side)},
                {"changed", list(d.files.changed,
                                 [](const FileChange& c) {
                                   return json{{"path", c.to.path},
                                               {"location", normalised_location(c.to)},
                                               {"changes", c.changes},
                                               {"from", file_side(c.from)},
                                               {"to", file_side(c.to)}};
                                 })},
                {"moved", list(d.files.moved,
                               [](const FileMove& m) {
                                 return json{{"from", m.from.path},
                                             {"to", m.to.path},
                                             {"match", m.match},
                                             {"similarity", m.similarity},
                                             {"from_file", file_side(m.from)},
                                             {"to_file", file_side(m.to)}};
                               })},
                {"similarity_threshold", d.files.similarity_threshold},
                {"similarity_available", d.files.similarity_available}};
  json components = {
      {"added", list(d.components.added, component_side)},
      {"removed", list(d.components.removed, component_side)},
      {"changed", list(d.components.changed, [](const ComponentChange& c) {
         return json{{"name", c.name}, {"from", c.from}, {"to", c.to}, {"direction", c.direction}};
       })}};
  auto hardening_side = [](const HardeningChange& h) {
    json j = {{"path", h.path}, {"location", h.location}};
    if (h.old_path != h.path) j["old_path"] = h.old_path;
    if (!h.lost.empty()) j["lost"] = h.lost;
    if (!h.gained.empty()) j["gained"] = h.gained;
    return j;
  };
  auto clause_side = [](const ClauseResult& c) {
    return json{{"id", c.id},
                {"text", c.text},
                {"findings", c.findings},
                {"vulnerabilities", c.vulnerabilities}};
  };
  auto reason_side = [](const InconclusiveReason& r) {
    return json{{"code", r.code}, {"text", r.text}, {"evidence", r.evidence}};
  };
  json warnings = json::array();
  for (const auto& w : d.warnings) warnings.push_back({{"code", w.code}, {"message", w.message}});
  json j = {
      {"schema", "probity-diff"},
      {"schema_version", kDiffSchemaVersion},
      {"tool", {{"name", "probity"}, {"version", PROBITY_VERSION}}},
      {"old", image_json(d.old_image)},
      {"new", image_json(d.new_image)},
      {"files", std::move(files)},
      {"components", std::move(components)},
      {"vulnerabilities",
       {{"fixed", list(d.vulnerabilities.fixed, vuln_side)},
        {"introduced", list(d.vulnerabilities.introduced, vuln_side)}}},
      {"findings",
       {{"new", list(d.findings.added, finding_side)},
        {"fixed", list(d.findings.fixed, finding_side)},
        {"persisting", list(d.findings.persisting, finding_side)}}},
      {"hardening",
       {{"regressions", list(d.hardening.regressions, hardening_side)},
        {"improvements", list(d.hardening.improvements, hardening_side)}}},
      {"accounts",
       {{"added", list(d.accounts.added, account_side)},
        {"removed", list(d.accounts.removed, account_side)},
        {"changed", list(d.accounts.changed,
                         [](const AccountChange& c) {
                           return json{{"name", c.to.name},
                                       {"path", c.to.path},
                                       {"changes", c.changes},
                                       {"from", account_side(c.from)},
                                       {"to", account_side(c.to)}};
                         })}}},
      {"services",
       {{"added", list(d.services.added, service_side)},
        {"removed", list(d.services.removed, service_side)}}},
      {"endpoints",
       {{"added", list(d.endpoints.added, endpoint_side)},
        {"removed", list(d.endpoints.removed, endpoint_side)}}},
      {"keys",
       {{"added", list(d.keys.added, key_side)}, {"removed", list(d.keys.removed, key_side)}}},
      {"verdict",
       {{"old", d.verdict.old_result.empty() ? json(nullptr) : json(d.verdict.old_result)},
        {"new", d.verdict.new_result.empty() ? json(nullptr) : json(d.verdict.new_result)},
        {"clause_regressions", list(d.verdict.regressions, clause_side)},
        {"clauses_fixed", list(d.verdict.fixed, clause_side)},
        {"old_reasons", list(d.verdict.old_reasons, reason_side)},
        {"new_reasons", list(d.verdict.new_reasons, reason_side)}}},
      {"warnings", std::move(warnings)}};
  // Counts first in the summary so that a reader (or jq) sees the size of each section at once.
  json summary = json::object();
  for (const auto* section : {"verdict", "files", "components", "vulnerabilities", "findings",
                              "hardening", "accounts", "services", "endpoints", "keys"}) {
    json counts = json::object();
    for (const auto& [k, v] : j[section].items())
      if (v.is_array()) counts[k] = v.size();
    summary[section] = std::move(counts);
  }
  j["summary"] = std::move(summary);
  return j;
}

}  // namespace probity
