// SBOM writers: CycloneDX 1.6 JSON and SPDX 2.3 JSON from a Report. Both are validated against
// their official schemas by the test suite (tests/validators/).
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <ctime>
#include <map>
#include <random>
#include <set>

#include "probity/json.hpp"
#include "probity/outputs.hpp"

namespace probity {

using nlohmann::json;

std::string random_uuid() {
  std::random_device rd;
  std::array<unsigned char, 16> b{};
  for (auto& c : b) c = static_cast<unsigned char>(rd() & 0xff);
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  std::string s;
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
    s += fmt::format("{:02x}", b[i]);
  }
  return s;
}

namespace {

std::string now_utc() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

/// sha256 of the file a component copy was found in (its first content evidence), if known.
std::string evidence_sha256(const Report& r, const Component& c) {
  for (const auto& e : c.evidence) {
    if (!e.method.starts_with("signature:") && !e.method.starts_with("filename:")) continue;
    for (const auto& f : r.tree.files)
      if (f.container == e.container && f.path == e.path && !f.sha256.empty()) return f.sha256;
  }
  return {};
}

std::string technique(const Evidence& e) {
  if (e.method.starts_with("signature:")) return "binary-analysis";
  if (e.method.starts_with("filename:")) return "filename";
  return "manifest-analysis";
}

bool is_os(const Component& c) {
  return c.cpe.starts_with("cpe:2.3:o:");
}

/// Boot loaders: firmware in CycloneDX's sense (runs below the operating system).
bool is_boot_firmware(const Component& c) {
  return c.name == "u-boot" || c.name == "barebox" || c.name == "cfe" || c.name == "redboot";
}

/// Whether a copy of the component was found in a program (an executable ELF, or a file in a
/// bin/sbin/cgi-bin directory) rather than in a shared library.
bool found_in_program(const Report& r, const Component& c) {
  for (const auto& e : c.evidence) {
    const auto slash = e.path.rfind('/');
    const std::string_view base =
        slash == std::string::npos ? e.path : std::string_view(e.path).substr(slash + 1);
    if (base.starts_with("lib") || base.find(".so") != std::string_view::npos) continue;
    const std::string_view p = e.path;
    if (p.starts_with("bin/") || p.starts_with("sbin/") || p.starts_with("usr/bin/") ||
        p.starts_with("usr/sbin/") || p.find("cgi-bin/") != std::string_view::npos)
      return true;
    for (const auto& f : r.tree.files)
      if (f.container == e.container && f.path == e.path && f.elf && f.elf->type == "exec")
        return true;
  }
  return false;
}

}  // namespace

std::string cyclonedx_component_type(const Report& r, const Component& c) {
  if (c.cpe.starts_with("cpe:2.3:h:")) return "device";
  if (is_os(c)) return "operating-system";
  if (is_boot_firmware(c)) return "firmware";
  return found_in_program(r, c) ? "application" : "library";
}

std::vector<std::string> cyclonedx_component_refs(const Report& r) {
  std::vector<std::string> out;
  std::map<std::string, int> refs;
  for (const auto& c : r.components) {
    // Several copies of one product and version are separate components: the ref says which.
    const std::string base =
        fmt::format("{}@{}", c.name, c.version.empty() ? "unknown" : c.version);
    const int n = ++refs[base];
    out.push_back(n == 1 ? base : fmt::format("{}#{}", base, n));
  }
  return out;
}

namespace {

/// "2023-09-11" or "2023-09-11T12:00:00.000" as CycloneDX's date-time ("...Z").
std::string date_time(const std::string& d) {
  if (d.size() == 10) return d + "T00:00:00Z";
  if (d.size() >= 19 && d[10] == 'T') return d.substr(0, 19) + "Z";
  return {};
}

}  // namespace

json status_analysis(const Vulnerability& v) {
  if (v.status == "not-affected")
    return {{"state", "not_affected"},
            {"justification", "code_not_present"},
            {"detail", v.status_evidence}};
  if (v.status == "unknown") return {{"state", "in_triage"}, {"detail", v.status_evidence}};
  json a = {{"state", "exploitable"}};
  if (!v.status_evidence.empty()) a["detail"] = v.status_evidence;
  return a;
}

namespace {

/// One CycloneDX vulnerability per report vulnerability, affecting every copy of its component.
json cyclonedx_vulnerabilities(
    const Report& r,
    const std::map<std::pair<std::string, std::string>, std::vector<std::string>>& refs_of) {
  json out = json::array();
  std::map<std::string, int> ids;
  for (const auto& v : r.vulnerabilities) {
    json affects = json::array();
    if (auto it = refs_of.find({v.component, v.version}); it != refs_of.end())
      for (const auto& ref : it->second) affects.push_back({{"ref", ref}});
    const int n = ++ids[v.id];
    json j = {{"bom-ref", n == 1 ? "vuln:" + v.id : fmt::format("vuln:{}#{}", v.id, n)},
              {"id", v.id},
              {"affects", affects}};
    if (v.id.starts_with("CVE-"))
      j["source"] = {{"name", "NVD"}, {"url", "https://nvd.nist.gov/vuln/detail/" + v.id}};
    static const std::set<std::string> kSeverities = {"critical", "high", "medium", "low",
                                                      "info",     "none", "unknown"};
    json rating = {{"severity", kSeverities.contains(v.severity) ? v.severity : "unknown"}};
    if (v.cvss > 0) rating["score"] = v.cvss;
    if (v.cvss_vector.starts_with("CVSS:3.1/"))
      rating["method"] = "CVSSv31";
    else if (v.cvss_vector.starts_with("CVSS:3.0/"))
      rating["method"] = "CVSSv3";
    else if (v.cvss_vector.starts_with("CVSS:4.0/"))
      rating["method"] = "CVSSv4";
    if (!v.cvss_vector.empty()) rating["vector"] = v.cvss_vector;
    j["ratings"] = json::array({rating});
    json cwes = json::array();
    for (const auto& c : v.cwe)
      if (c.starts_with("CWE-") && c.size() > 4 &&
          c.find_first_not_of("0123456789", 4) == std::string::npos)
        cwes.push_back(std::stoi(c.substr(4)));
    if (!cwes.empty()) j["cwes"] = cwes;
    if (!v.description.empty()) j["description"] = v.description;
    if (auto t = date_time(v.published); !t.empty()) j["published"] = t;
    if (!v.fixed_in.empty())
      j["recommendation"] = fmt::format("Upgrade {} to {} or later.", v.component, v.fixed_in);
    // The reviewers' decision, as the VEX document states it; else the judgement against a
    // backport or stable branch as a VEX analysis state.
    j["analysis"] = v.suppression ? cyclonedx_analysis(*v.suppression) : status_analysis(v);
    json props = json::array();
    props.push_back({{"name", "probity:reachability"}, {"value", v.reachability.state}});
    if (v.kev) props.push_back({{"name", "probity:kev:date_added"}, {"value", v.kev->date_added}});
    if (v.epss)
      props.push_back({{"name", "probity:epss"},
                       {"value", fmt::format("{:.5f} (percentile {:.5f})", v.epss->score,
                                             v.epss->percentile)}});
    j["properties"] = props;
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace

json cyclonedx_json(const Report& r, const std::string& serial, const std::string& timestamp) {
  const auto& img = r.tree.image;
  json components = json::array();
  json depends = json::array();
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> refs_of;
  const auto all_refs = cyclonedx_component_refs(r);
  for (std::size_t i = 0; i < r.components.size(); ++i) {
    const Component& c = r.components[i];
    const std::string& ref = all_refs[i];
    json comp = {{"type", cyclonedx_component_type(r, c)}, {"bom-ref", ref}, {"name", c.name}};
    if (!c.version.empty()) comp["version"] = c.version;
    // No supplier or publisher: a CPE vendor string ("haxx") is not an organisation, and the
    // firmware names none.
    if (!c.purl.empty()) comp["purl"] = c.purl;
    if (!c.cpe.empty()) comp["cpe"] = c.cpe;
    if (auto h = evidence_sha256(r, c); !h.empty())
      comp["hashes"] = json::array({{{"alg", "SHA-256"}, {"content", h}}});
    json occurrences = json::array();
    json methods = json::array();
    std::map<std::string, std::size_t> seen_methods;  // technique -> index in methods
    for (const auto& e : c.evidence) {
      occurrences.push_back({{"location", e.path},
                             {"offset", e.offset},
                             {"additionalContext", e.excerpt.empty() ? e.method : e.excerpt}});
      const auto tq = technique(e);
      // Reports from before evidence kinds carry no confidence: the old fixed values.
      const double conf = e.kind.empty() ? (tq == "manifest-analysis" ? 1.0 : 0.9) : e.confidence;
      if (auto it = seen_methods.find(tq); it != seen_methods.end()) {
        auto& m = methods[it->second];
        if (conf > m["confidence"].get<double>()) m["confidence"] = conf;
        continue;
      }
      seen_methods.emplace(tq, methods.size());
      methods.push_back({{"technique", tq},
                         {"confidence", conf},
                         {"value", e.kind.empty() ? e.method : e.kind + " " + e.method}});
    }
    double identity = 0.9;
    if (std::ranges::all_of(c.evidence, [](const Evidence& e) { return !e.kind.empty(); }))
      identity = combined_confidence(c.evidence);
    comp["evidence"] = {
        {"identity",
         json::array({{{"field", "version"}, {"confidence", identity}, {"methods", methods}}})},
        {"occurrences", occurrences}};
    comp["properties"] = json::array({{{"name", "probity:source"}, {"value", c.source}}});
    depends.push_back(ref);
    refs_of[{c.name, c.version}].push_back(ref);
    components.push_back(std::move(comp));
  }
  json image = {{"type", "firmware"},
                {"bom-ref", "image"},
                {"name", img.name.empty() ? "image" : img.name},
                {"hashes", json::array({{{"alg", "SHA-256"}, {"content", img.sha256}}})}};
  json doc = {
      {"bomFormat", "CycloneDX"},
      {"specVersion", "1.6"},
      {"serialNumber", "urn:uuid:" + (serial.empty() ? random_uuid() : serial)},
      {"version", 1},
      {"metadata",
       {{"timestamp", timestamp.empty() ? now_utc() : timestamp},
        {"tools",
         {{"components",
           json::array(
               {{{"type", "application"}, {"name", "probity"}, {"version", PROBITY_VERSION}}})}}},
        {"component", image}}},
      {"components", components},
      {"dependencies", json::array({{{"ref", "image"}, {"dependsOn", depends}}})}};
  if (!r.vulnerabilities.empty()) doc["vulnerabilities"] = cyclonedx_vulnerabilities(r, refs_of);
  return doc;
}

namespace {

std::string spdx_purpose(const std::string& cdx_type) {
  if (cdx_type == "operating-system") return "OPERATING_SYSTEM";
  if (cdx_type == "application") return "APPLICATION";
  if (cdx_type == "firmware") return "FIRMWARE";
  if (cdx_type == "device") return "DEVICE";
  return "LIBRARY";
}

}  // namespace

json spdx_json(const Report& r, const std::string& serial, const std::string& timestamp) {
  const auto& img = r.tree.image;
  const std::string name = img.name.empty() ? "image" : img.name;
  json packages = json::array();
  json relationships = json::array();
  packages.push_back(
      {{"SPDXID", "SPDXRef-Image"},
       {"name", name},
       {"downloadLocation", "NOASSERTION"},
       {"filesAnalyzed", false},
       {"primaryPackagePurpose", "FIRMWARE"},
       {"checksums", json::array({{{"algorithm", "SHA256"}, {"checksumValue", img.sha256}}})},
       {"licenseConcluded", "NOASSERTION"},
       {"licenseDeclared", "NOASSERTION"},
       {"copyrightText", "NOASSERTION"}});
  relationships.push_back({{"spdxElementId", "SPDXRef-DOCUMENT"},
                           {"relationshipType", "DESCRIBES"},
                           {"relatedSpdxElement", "SPDXRef-Image"}});
  std::size_t n = 0;
  for (const auto& c : r.components) {
    const std::string id = fmt::format("SPDXRef-Package-{}", ++n);
    json refs = json::array();
    if (!c.purl.empty())
      refs.push_back({{"referenceCategory", "PACKAGE-MANAGER"},
                      {"referenceType", "purl"},
                      {"referenceLocator", c.purl}});
    if (!c.cpe.empty())
      refs.push_back({{"referenceCategory", "SECURITY"},
                      {"referenceType", "cpe23Type"},
                      {"referenceLocator", c.cpe}});
    std::set<std::string> advisories;
    for (const auto& v : r.vulnerabilities)
      if (v.component == c.name && v.version == c.version && v.id.starts_with("CVE-") &&
          advisories.insert(v.id).second)
        refs.push_back({{"referenceCategory", "SECURITY"},
                        {"referenceType", "advisory"},
                        {"referenceLocator", "https://nvd.nist.gov/vuln/detail/" + v.id}});
    std::string where;
    for (const auto& e : c.evidence)
      where += fmt::format("{}{} at offset {} ({})", where.empty() ? "" : "; ", e.path, e.offset,
                           e.method);
    json p = {{"SPDXID", id},
              {"name", c.name},
              {"downloadLocation", "NOASSERTION"},
              {"filesAnalyzed", false},
              {"primaryPackagePurpose", spdx_purpose(cyclonedx_component_type(r, c))},
              {"licenseConcluded", "NOASSERTION"},
              {"licenseDeclared", "NOASSERTION"},
              {"copyrightText", "NOASSERTION"},
              {"sourceInfo", "found by probity in " + where},
              {"externalRefs", refs}};
    if (!c.version.empty()) p["versionInfo"] = c.version;
    // No supplier: the CPE vendor is not an organisation's name (NOASSERTION is implied).
    if (auto h = evidence_sha256(r, c); !h.empty())
      p["checksums"] = json::array({{{"algorithm", "SHA256"}, {"checksumValue", h}}});
    // The reviewers' decisions on this package's vulnerabilities (SPDX 2.3 has no VEX; a
    // REVIEW annotation is its place for an assessment).
    json notes = json::array();
    for (const auto& v : r.vulnerabilities)
      if (v.suppression && v.component == c.name && v.version == c.version) {
        const json a = cyclonedx_analysis(*v.suppression);
        notes.push_back(
            {{"annotationType", "REVIEW"},
             {"annotator", "Tool: probity-" + std::string(PROBITY_VERSION)},
             {"annotationDate", v.suppression->date.empty()
                                    ? (timestamp.empty() ? now_utc() : timestamp)
                                    : v.suppression->date + "T00:00:00Z"},
             {"comment",
              fmt::format("{}: {}{} (CycloneDX VEX analysis; {})", v.id, a.value("state", ""),
                          a.contains("justification") ? ", " + a["justification"].get<std::string>()
                                                      : std::string(),
                          a.value("detail", ""))}});
      }
    if (!notes.empty()) p["annotations"] = notes;
    packages.push_back(std::move(p));
    relationships.push_back({{"spdxElementId", "SPDXRef-Image"},
                             {"relationshipType", "CONTAINS"},
                             {"relatedSpdxElement", id}});
  }
  return {{"spdxVersion", "SPDX-2.3"},
          {"dataLicense", "CC0-1.0"},
          {"SPDXID", "SPDXRef-DOCUMENT"},
          {"name", "probity SBOM of " + name},
          {"documentNamespace",
           fmt::format("https://probity.invalid/spdx/{}-{}", img.sha256.substr(0, 16),
                       serial.empty() ? random_uuid() : serial)},
          {"creationInfo",
           {{"created", timestamp.empty() ? now_utc() : timestamp},
            {"creators", json::array({fmt::format("Tool: probity-{}", PROBITY_VERSION)})}}},
          {"packages", packages},
          {"relationships", relationships}};
}

}  // namespace probity
