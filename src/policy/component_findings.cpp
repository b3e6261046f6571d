// vulnerable-component and outdated-component findings, from the match stage's results, so that
// the policy, SARIF, the HTML report and diff see them like every other finding.
#include <fmt/format.h>

#include <map>
#include <regex>
#include <set>

#include "probity/checks.hpp"
#include "probity/policy.hpp"

namespace probity {
namespace {

Severity severity_of(const Vulnerability& v) {
  if (auto s = parse_severity(v.severity)) return *s;
  if (v.cvss >= 9.0) return Severity::kCritical;
  if (v.cvss >= 7.0) return Severity::kHigh;
  if (v.cvss >= 4.0) return Severity::kMedium;
  return v.cvss > 0 ? Severity::kLow : Severity::kInfo;
}

/// A location without the library version in its file name: "libz.so.1.2.11" and
/// "libz.so.1.2.13" (or "libfoo-1.2.so" and "libfoo-1.3.so") are the same place across releases,
/// so a CVE that an upgrade did not fix keeps its finding id.
std::string versionless(std::string location) {
  static const std::regex kSoname(R"(\.so(\.[0-9]+)+$)");
  static const std::regex kDashed(R"(-[0-9]+(\.[0-9]+)+\.so$)");
  const auto slash = location.find_last_of("/:");
  const std::size_t base = slash == std::string::npos ? 0 : slash + 1;
  std::string name = location.substr(base);
  name = std::regex_replace(name, kSoname, ".so");
  name = std::regex_replace(name, kDashed, ".so");
  return location.substr(0, base) + name;
}

/// Where a component was found: its first evidence's file (normalised, versionless), or its name.
std::pair<std::string, const Evidence*> where(const Report& r, const Component& c) {
  for (const Evidence& e : c.evidence)
    for (const FileRecord& f : r.tree.files)
      if (f.path == e.path && f.container == e.container)
        return {versionless(normalised_location(f)), &e};
  return {"component:" + c.name, c.evidence.empty() ? nullptr : &c.evidence.front()};
}

}  // namespace

std::vector<Finding> component_findings(const Report& r) {
  std::vector<Finding> out;
  std::set<std::string> ids;
  std::map<std::pair<std::string, std::string>, std::vector<const Component*>> by_version;
  for (const Component& c : r.components) by_version[{c.name, c.version}].push_back(&c);
  for (const Vulnerability& v : r.vulnerabilities) {
    if (v.status == "not-affected") continue;  // fixed by a backport or on its stable branch
    auto it = by_version.find({v.component, v.version});
    if (it == by_version.end()) continue;
    for (const Component* c : it->second) {  // every copy is its own finding
      auto [location, ev] = where(r, *c);
      Finding f;
      f.rule = "vulnerable-component";
      f.category = "vulnerable-component";
      f.severity = severity_of(v);
      // The version is left out: the same CVE in an upgraded copy that is still affected is the
      // same problem persisting (diff reports it as persisting, not as fixed plus new).
      // Two versions of the product in one file (rare) keep apart by their versions.
      f.id = finding_id(f.rule, location, v.id + " " + c->name);
      if (!ids.insert(f.id).second) {
        f.id = finding_id(f.rule, location, v.id + " " + c->name + " " + c->version);
        ids.insert(f.id);
      }
      f.path = ev ? ev->path : "";
      f.container = ev ? ev->container : 0;
      f.message = fmt::format("{} {} is affected by {} (CVSS {:.1f}{})", c->name, c->version, v.id,
                              v.cvss, v.fixed_in.empty() ? "" : ", fixed in " + v.fixed_in);
      f.evidence.excerpt = ev ? ev->excerpt : "";
      f.evidence.offset = ev ? ev->offset : 0;
      out.push_back(std::move(f));
    }
  }
  for (const Component& c : r.components) {
    if (!c.eol || !c.eol->reached) continue;
    auto [location, ev] = where(r, c);
    Finding f;
    f.rule = "outdated-component";
    f.category = "outdated-component";
    f.severity = Severity::kMedium;
    f.id = finding_id(f.rule, location, c.name + " " + c.eol->cycle);
    f.path = ev ? ev->path : "";
    f.container = ev ? ev->container : 0;
    f.message = fmt::format("{} {}: the {} line reached its end of life on {}", c.name, c.version,
                            c.eol->cycle, c.eol->date);
    f.evidence.excerpt = ev ? ev->excerpt : "";
    f.evidence.offset = ev ? ev->offset : 0;
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace probity
