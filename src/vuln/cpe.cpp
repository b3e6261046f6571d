// CPE 2.3 formatted strings and CVSS helpers.
#include <cctype>
#include <cmath>
#include <map>
#include <string>

#include "core/text.hpp"
#include "probity/vulndb.hpp"
#include "vuln/record.hpp"

namespace probity {
namespace vuln {

std::string unescape_cpe_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) ++i;
    out.push_back(v[i]);
  }
  return out;
}

std::string cvss_severity(double score) {
  if (score <= 0.0) return "none";
  if (score < 4.0) return "low";
  if (score < 7.0) return "medium";
  if (score < 9.0) return "high";
  return "critical";
}

std::optional<double> cvss3_base_score(std::string_view vector) {
  // FIRST CVSS v3.1 specification, section 7.1 (base metrics equations).
  if (!vector.starts_with("CVSS:3.")) return std::nullopt;
  std::map<std::string, std::string, std::less<>> m;
  std::size_t pos = vector.find('/');
  while (pos != std::string_view::npos) {
    const std::size_t next = vector.find('/', pos + 1);
    const auto part =
        vector.substr(pos + 1, next == std::string_view::npos ? next : next - pos - 1);
    const auto colon = part.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    m.emplace(std::string(part.substr(0, colon)), std::string(part.substr(colon + 1)));
    pos = next;
  }
  auto get = [&](const char* k) -> std::string {
    auto it = m.find(k);
    return it == m.end() ? std::string() : it->second;
  };
  const std::string av = get("AV"), ac = get("AC"), pr = get("PR"), ui = get("UI"), s = get("S"),
                    c = get("C"), i = get("I"), a = get("A");
  const bool changed = s == "C";
  if (s != "C" && s != "U") return std::nullopt;
  double vav, vac, vpr, vui;
  if (av == "N")
    vav = 0.85;
  else if (av == "A")
    vav = 0.62;
  else if (av == "L")
    vav = 0.55;
  else if (av == "P")
    vav = 0.2;
  else
    return std::nullopt;
  if (ac == "L")
    vac = 0.77;
  else if (ac == "H")
    vac = 0.44;
  else
    return std::nullopt;
  if (pr == "N")
    vpr = 0.85;
  else if (pr == "L")
    vpr = changed ? 0.68 : 0.62;
  else if (pr == "H")
    vpr = changed ? 0.5 : 0.27;
  else
    return std::nullopt;
  if (ui == "N")
    vui = 0.85;
  else if (ui == "R")
    vui = 0.62;
  else
    return std::nullopt;
  auto cia = [](const std::string& v) -> double {
    if (v == "H") return 0.56;
    if (v == "L") return 0.22;
    if (v == "N") return 0.0;
    return -1;
  };
  const double vc = cia(c), vi = cia(i), va = cia(a);
  if (vc < 0 || vi < 0 || va < 0) return std::nullopt;
  const double iss = 1 - (1 - vc) * (1 - vi) * (1 - va);
  const double impact =
      changed ? 7.52 * (iss - 0.029) - 3.25 * std::pow(iss - 0.02, 15) : 6.42 * iss;
  const double exploit = 8.22 * vav * vac * vpr * vui;
  // Roundup as the specification defines it (avoids floating-point surprises).
  auto roundup = [](double x) {
    const long n = std::lround(x * 100000);
    return n % 10000 == 0 ? double(n) / 100000.0 : (std::floor(double(n) / 10000) + 1) / 10.0;
  };
  if (impact <= 0) return 0.0;
  return changed ? roundup(std::min(1.08 * (impact + exploit), 10.0))
                 : roundup(std::min(impact + exploit, 10.0));
}

}  // namespace vuln

std::optional<CpeName> parse_cpe23(std::string_view text) {
  if (!text.starts_with("cpe:2.3:")) return std::nullopt;
  text.remove_prefix(8);
  CpeName n;
  n.version.reserve(16);
  std::string* fields[] = {&n.part,      &n.vendor,    &n.product,  &n.version,
                           &n.update,    &n.edition,   &n.language, &n.sw_edition,
                           &n.target_sw, &n.target_hw, &n.other};
  std::size_t f = 0;
  std::string* cur = fields[0];
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\' && i + 1 < text.size()) {
      c = text[++i];
    } else if (c == ':') {
      if (++f == std::size(fields)) return std::nullopt;
      cur = fields[f];
      continue;
    }
    // ASCII lower-casing: CPE names are ASCII, and the locale-aware tolower is a hot spot.
    cur->push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c);
  }
  if (f < 2 || n.part.size() != 1) return std::nullopt;
  for (std::string* s : fields)
    if (s->empty()) *s = "*";
  return n;
}

VulnQuery query_for(const Component& component, std::span<const std::string> platform_cpes) {
  VulnQuery q;
  if (auto cpe = parse_cpe23(component.cpe); cpe && cpe->product != "*") {
    q.vendor = cpe->vendor == "*" ? "" : cpe->vendor;
    q.product = cpe->product;
  } else {
    q.vendor = lower(component.vendor);
    q.product = lower(component.name);
  }
  q.version = component.version;
  q.component = component.name;
  q.distro = component.distro;
  q.distro_version = component.distro_version;
  q.platform_cpes.assign(platform_cpes.begin(), platform_cpes.end());
  return q;
}

}  // namespace probity
