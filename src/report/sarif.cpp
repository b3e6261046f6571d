#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "core/enum_names.hpp"
#include "probity/json.hpp"
#include "probity/outputs.hpp"
#include "probity/triage.hpp"

namespace probity {

using nlohmann::json;

namespace {

/// SARIF levels: error for high and critical, warning for medium, note below.
const char* sarif_level(Severity s) {
  return enum_name<Severity::kCritical>(s, {"note", "note", "warning", "error", "error"}, "note");
}

/// GitHub-style numeric severity (0.0-10.0) so code-scanning UIs can rank results.
const char* security_severity(Severity s) {
  return enum_name<Severity::kCritical>(s, {"0.0", "3.0", "5.5", "8.0", "9.5"}, "0.0");
}

/// A relative URI for a path inside the image: percent-encode what RFC 3986 does not allow.
std::string path_uri(const std::string& path) {
  std::string out;
  for (unsigned char c : path) {
    if (std::isalnum(c) ||
        std::string_view("-._~/!$&'()*+,;=:@").find(char(c)) != std::string_view::npos)
      out.push_back(char(c));
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}

}  // namespace

json sarif_json(const Report& report) {
  const std::string image_uri = report.tree.image.name.empty() ? "image" : report.tree.image.name;
  std::map<std::string, const Finding*> first_of_rule;
  for (const Finding& f : report.findings) first_of_rule.emplace(f.rule, &f);
  json rules = json::array();
  std::map<std::string, std::size_t> rule_index;
  for (const auto& [rule, f] : first_of_rule) {
    rule_index[rule] = rules.size();
    rules.push_back({{"id", rule},
                     {"name", rule},
                     {"shortDescription", {{"text", f->category + ": " + rule}}},
                     {"defaultConfiguration", {{"level", sarif_level(f->severity)}}},
                     {"properties",
                      {{"category", f->category},
                       {"security-severity", security_severity(f->severity)},
                       {"tags", json::array({"security", f->category})}}}});
  }
  json results = json::array();
  for (const Finding& f : report.findings) {
    // A file's finding points into the device's filesystem; an image-wide one (no path: a
    // region, the layout) at the image itself (artifacts[0]), so every result has a uri.
    const json artifact =
        f.path.empty()
            ? json{{"uri", path_uri(image_uri)}, {"index", 0}}
            : json{{"uri", path_uri(f.path.starts_with("/") ? f.path.substr(1) : f.path)},
                   {"uriBaseId", "IMAGEROOT"}};
    json loc = {{"physicalLocation", {{"artifactLocation", artifact}}}};
    if (f.evidence.offset || !f.evidence.excerpt.empty()) {
      json region = {{"byteOffset", f.evidence.offset}};
      if (!f.evidence.excerpt.empty()) region["snippet"] = {{"text", f.evidence.excerpt}};
      loc["physicalLocation"]["region"] = region;
    }
    json r = {{"ruleId", f.rule},
              {"ruleIndex", rule_index[f.rule]},
              {"level", sarif_level(f.severity)},
              {"message", {{"text", f.message}}},
              {"locations", json::array({loc})},
              {"partialFingerprints", {{"probityFindingId/v1", f.id}}},
              {"properties", {{"severity", to_string(f.severity)}, {"category", f.category}}}};
    if (!f.evidence.related.empty()) {
      json related = json::array();
      for (std::size_t i = 0; i < f.evidence.related.size(); ++i)
        related.push_back(
            {{"id", int(i)},
             {"physicalLocation",
              {{"artifactLocation",
                {{"uri", path_uri(f.evidence.related[i])}, {"uriBaseId", "IMAGEROOT"}}}}}});
      r["relatedLocations"] = related;
    }
    if (f.suppression)
      r["suppressions"] =
          json::array({{{"kind", "external"},
                        {"status", "accepted"},
                        {"justification", fmt::format("{} ({}) by {}: {}", f.suppression->state,
                                                      f.suppression->justification,
                                                      f.suppression->by, f.suppression->detail)}}});
    results.push_back(std::move(r));
  }
  json run = {{"tool",
               {{"driver",
                 {{"name", "probity"},
                  {"version", PROBITY_VERSION},
                  {"informationUri", "https://probity.dev/"},
                  {"rules", rules}}}}},
              {"originalUriBaseIds",
               {{"IMAGEROOT",
                 {{"uri", "file:///"},
                  {"description",
                   {{"text",
                     "The root (/) of the device filesystem each finding's file came from, "
                     "inside " +
                         image_uri}}}}}}},
              {"artifacts", json::array({{{"location", {{"uri", path_uri(image_uri)}}},
                                          {"length", report.tree.image.size},
                                          {"hashes", {{"sha-256", report.tree.image.sha256}}},
                                          {"roles", json::array({"analysisTarget"})}}})},
              {"results", results}};
  // Fix first (docs/vulndb.md): the list leads the run's properties, and the results of those
  // vulnerabilities lead the results, in the list's order.
  const auto first = fix_first(report.vulnerabilities);
  if (!first.empty()) {
    json list = json::array();
    std::map<std::string, std::size_t> rank;  // "CVE component version" → position
    for (const auto& f : first) {
      const auto& v = report.vulnerabilities[f.index];
      list.push_back({{"id", v.id},
                      {"component", v.component},
                      {"version", v.version},
                      {"tier", f.tier},
                      {"reason", f.reason}});
      rank.emplace(fmt::format("{} {} is affected by {} ", v.component, v.version, v.id),
                   rank.size());
    }
    run["properties"] = {{"fixFirst", list}};
    auto pos = [&](const json& r) {
      if (r.value("ruleId", "") != "vulnerable-component") return rank.size();
      const std::string text = r["message"].value("text", "");
      for (const auto& [prefix, i] : rank)
        if (text.starts_with(prefix)) return i;
      return rank.size();
    };
    std::vector<json> sorted(run["results"].begin(), run["results"].end());
    std::stable_sort(sorted.begin(), sorted.end(),
                     [&](const json& a, const json& b) { return pos(a) < pos(b); });
    run["results"] = sorted;
  }
  return {{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
          {"version", "2.1.0"},
          {"runs", json::array({run})}};
}

json cyclonedx_analysis(const Suppression& s) {
  {
    json a = {{"detail",
               s.detail.empty() ? "decided by " + s.by : s.detail + " (decided by " + s.by + ")"}};
    if (s.state == "accepted") {
      a["state"] = "exploitable";
      a["response"] = json::array({"will_not_fix"});
    } else {
      a["state"] = s.state;
    }
    if (!s.justification.empty() && s.state == "not_affected") a["justification"] = s.justification;
    if (!s.date.empty()) a["lastUpdated"] = s.date + "T00:00:00Z";
    return a;
  }
}

json vex_json(const Report& report, const std::string& sbom_serial) {
  json vulns = json::array();
  const auto analysis = cyclonedx_analysis;
  // Refs into the SBOM: bom-links (urn:cdx:UUID/VERSION#bom-ref) when its serial is known, so a
  // consumer resolves each one in sbom.cdx.json; else the SBOM's plain bom-refs.
  const std::string uuid =
      sbom_serial.starts_with("urn:uuid:") ? sbom_serial.substr(9) : sbom_serial;
  const auto link = [&](const std::string& ref) {
    return uuid.empty() ? ref : "urn:cdx:" + uuid + "/1#" + ref;
  };
  const auto refs = cyclonedx_component_refs(report);
  for (const Vulnerability& v : report.vulnerabilities) {
    // A reviewer's decision, else what the data shows (a backport or a stable-branch fix).
    if (!v.suppression && v.status == "affected") continue;
    json affects = json::array();
    for (std::size_t i = 0; i < report.components.size(); ++i)
      if (report.components[i].name == v.component && report.components[i].version == v.version)
        affects.push_back({{"ref", link(refs[i])}});
    vulns.push_back(
        {{"id", v.id},
         {"source", {{"name", "NVD"}, {"url", "https://nvd.nist.gov/vuln/detail/" + v.id}}},
         {"analysis", v.suppression ? analysis(*v.suppression) : status_analysis(v)},
         {"affects", affects}});
  }
  for (const Finding& f : report.findings) {
    if (!f.suppression) continue;
    vulns.push_back({{"id", "PROBITY-" + f.id},
                     {"source", {{"name", "probity"}}},
                     {"description", f.message},
                     {"analysis", analysis(*f.suppression)},
                     {"affects", json::array({{{"ref", link("image")}}})}});
  }
  json doc = {{"bomFormat", "CycloneDX"},
              {"specVersion", "1.6"},
              {"serialNumber", "urn:uuid:" + random_uuid()},
              {"version", 1},
              {"metadata",
               {{"component",
                 {{"type", "firmware"},
                  {"bom-ref", "image"},
                  {"name", report.tree.image.name},
                  {"hashes",
                   json::array({{{"alg", "SHA-256"}, {"content", report.tree.image.sha256}}})}}}}},
              {"vulnerabilities", vulns}};
  // The SBOM this VEX speaks about.
  if (!uuid.empty())
    doc["externalReferences"] = json::array(
        {{{"type", "bom"}, {"url", "urn:cdx:" + uuid + "/1"}, {"comment", "sbom.cdx.json"}}});
  return doc;
}

}  // namespace probity
