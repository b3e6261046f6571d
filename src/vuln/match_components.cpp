// The match stage over a list of components (scan's match stage and `fleet rejudge`).
#include <set>
#include <tuple>

#include "probity/vulndb.hpp"

namespace probity {

Result<std::vector<Vulnerability>> match_components(VulnDb& db,
                                                    const std::vector<Component>& components,
                                                    MatchCache* cache) {
  std::vector<std::string> platform;
  for (const auto& c : components)
    if (!c.cpe.empty()) platform.push_back(c.cpe);
  // Images carry one product in several files (curl and libcurl, two dropbear binaries): each
  // query runs once per call even without a caller's cache.
  MatchCache local;
  if (!cache) cache = &local;
  std::vector<Vulnerability> out;
  // One vulnerability per (id, product, version), however many copies carry it.
  std::set<std::tuple<std::string, std::string, std::string>> seen;
  for (const auto& component : components) {
    if (component.version.empty()) continue;
    // The product under its own CPE and under every alias NVD files it under (curl is also
    // haxx:libcurl); a CVE listed under two of them is reported once (`seen`).
    Component c = component;
    for (std::size_t a = 0; a <= component.cpe_aliases.size(); ++a) {
      if (a > 0) c.cpe = component.cpe_aliases[a - 1];
      const VulnQuery q = query_for(c, platform);
      std::string key;
      if (cache) {
        key = q.vendor + '\x1f' + q.product + '\x1f' + q.version + '\x1f' + q.component;
        for (const auto& p : q.platform_cpes) key += '\x1e' + p;
      }
      std::vector<Vulnerability> found;
      if (auto hit = cache ? cache->find(key) : MatchCache::iterator();
          cache && hit != cache->end()) {
        found = hit->second;
      } else {
        auto v = db.match(q);
        if (!v) return std::unexpected(v.error());
        found = std::move(*v);
        if (cache) cache->emplace(key, found);
      }
      for (auto& v : found)
        if (seen.insert({v.id, v.component, v.version}).second) out.push_back(std::move(v));
    }
  }
  return out;
}

}  // namespace probity
